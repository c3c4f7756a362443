"""The examples in the docstrings run, and show what they print.

Every `>>>` example of the package is a doctest here, run from the repository root (the
examples use the zoo models committed in `saved_models/` and `export/`), so an example
that goes stale fails the suite.
"""

import doctest
import importlib
import re

import pytest

from conftest import REPO

PACKAGE = REPO / "keras_s2s"


def modules_with_examples():
    """The dotted names of the package's modules whose source holds a `>>>` example."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if re.search(r"^\s*>>> ", path.read_text(encoding="utf-8"), re.MULTILINE):
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = modules_with_examples()


def test_the_package_has_examples():
    # The layers, models, tokenizers, runtime and export all document an example.
    assert {"keras_s2s.layers.encoder", "keras_s2s.models.seq2seq", "keras_s2s.text.tokenizer",
            "keras_s2s.runtime.translator", "keras_s2s.export.graphs"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(REPO)
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    tests = doctest.DocTestFinder().find(module, globs=dict(vars(module)))
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0, f"{name}: no example was found"
    assert results.failed == 0, "".join(report)
