"""The browser runtime (`web/`) in a real headless Chromium: the JavaScript tokenizer
passes the conformance files, and every zoo bundle decodes held-out sources to the
Keras model's tokens with ONNX Runtime Web (greedy step by step and whole loop, beam
search in JavaScript and the beam graph, n-best lists with scores); the demo page
answers bad input with a clear message.

The expected values are computed here in Python (Keras, tensorflow-text) and written
as fixtures; `web/test/run_browser.mjs` serves them with the page, runs Chromium, and
prints what the page found. Without Node.js, the npm packages (`scripts/setup.sh`
installs them) or Chromium, the tests skip and say which is missing."""

import json
import os
import shutil
import subprocess

import pytest

from keras_s2s.zoo.trained import bundle_dir, list_trained, model_dir, read_card

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(REPO, "web")
RUNNER = os.path.join(WEB, "test", "run_browser.mjs")
PARITY_SENTENCES = 100
BEAM = {"beam_size": 4, "n_best": 4, "length_penalty": 0.6}
SCORE_TOLERANCE = 1e-4
NO_BROWSER = 3  # run_browser.mjs's exit status when there is no Chromium


def run_browser(mode, fixtures, timeout=900):
    """Runs `web/test/run_browser.mjs MODE` over a fixtures directory; its JSON report."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: the browser tests need it (apt-get install nodejs).")
    if not os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")):
        pytest.skip("web/node_modules is missing: run `npm ci --prefix web` (scripts/setup.sh does).")
    done = subprocess.run(["node", RUNNER, mode, "--fixtures", str(fixtures)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)
    if done.returncode == NO_BROWSER:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def web_bundles():
    """The zoo models whose bundles the browser can run (an ONNX export)."""
    names = []
    for name in list_trained():
        with open(os.path.join(bundle_dir(name), "bundle.json"), encoding="utf-8") as f:
            if "onnx" in json.load(f)["formats"]:
                names.append(name)
    return names


def held_out_sources(name, count=PARITY_SENTENCES):
    from keras_s2s.tasks import task_splits

    return [source for source, _ in task_splits(read_card(name)["data"])[2][:count]]


def keras_reference(name):
    """What the Keras model decodes on the held-out sources: greedy tokens and texts,
    and the beam search n-best lists with scores."""
    from keras_s2s.trained_model import TrainedModel

    model = TrainedModel.load(model_dir(name))
    sources = held_out_sources(name)
    greedy = [hypotheses[0].tokens for hypotheses in model.decode(sources)]
    beam = model.decode(sources, **BEAM)
    return {
        "sources": sources,
        "greedy": greedy,
        "texts": model.detokenize(greedy),
        "beam": {**BEAM, "hypotheses": [
            [{"tokens": h.tokens, "score": h.score, "ranking_score": h.ranking_score,
              "finished": h.finished} for h in hypotheses] for hypotheses in beam]},
    }


# Tokenizer settings no zoo bundle has (they are char- or word-level, cased): learned
# here on the dates task's sources, the awkward Unicode and, when ../shared has it,
# Spanish and English from Tatoeba.
OTHER_TOKENIZERS = [("word", True), ("subword", True), ("subword", False), ("char", True)]


def tokenizer_texts():
    from keras_s2s.tasks import task_splits
    from keras_s2s.text.description import AWKWARD_TEXTS

    texts = [s for s, _ in task_splits({"task": {"name": "dates"}, "train_size": 300,
                                        "dev_size": 10, "test_size": 10, "seed": 1})[0]]
    spa_eng = os.path.join(REPO, "..", "shared", "data", "spa-eng", "train.tsv")
    if os.path.isfile(spa_eng):
        with open(spa_eng, encoding="utf-8") as f:
            texts += [column for line, _ in zip(f, range(1500)) for column in line.rstrip("\n").split("\t")[:2]]
    return texts + AWKWARD_TEXTS


def write_tokenizer_fixture(directory, level, lowercase, texts):
    from keras_s2s.export import conformance_cases
    from keras_s2s.text import description
    from keras_s2s.text.pytokenizer import PyTokenizer
    from keras_s2s.text.tokenizer import learn_vocabulary

    vocab = learn_vocabulary(texts, level, max_size=600, lowercase=lowercase)
    tokenizer = PyTokenizer(vocab, level, lowercase)
    name = f"{level}{'_lowercase' if lowercase else ''}"
    settings = {side: {"level": level, "lowercase": lowercase} for side in ("source", "target")}
    sample = texts[::7][:300]
    for kind, value in (("description", description.tokenizer_description(tokenizer, tokenizer)),
                        ("conformance", conformance_cases(vocab, vocab, settings, sample, sample))):
        with open(os.path.join(directory, f"{name}.{kind}.json"), "w", encoding="utf-8") as f:
            json.dump(value, f)
    return {"name": name, "description": f"/fixtures/{name}.description.json",
            "conformance": f"/fixtures/{name}.conformance.json"}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    fixtures = tmp_path_factory.mktemp("web_fixtures")
    models = []
    for name in web_bundles():
        with open(fixtures / f"{name}.json", "w", encoding="utf-8") as f:
            json.dump(keras_reference(name), f)
        models.append({"name": name, "bundle": f"/export/{name}/", "parity": f"/fixtures/{name}.json"})
    texts = tokenizer_texts()
    tokenizers = [write_tokenizer_fixture(fixtures, level, lowercase, texts)
                  for level, lowercase in OTHER_TOKENIZERS]
    with open(fixtures / "plan.json", "w", encoding="utf-8") as f:
        json.dump({"threads": 1, "models": models, "tokenizers": tokenizers}, f)
    return run_browser("suite", fixtures)


def test_the_browser_suite_ran_every_zoo_bundle_without_errors(suite):
    assert "fatal" not in suite, suite.get("fatal")
    assert suite["errors"] == []
    assert [m["name"] for m in suite["models"]] == web_bundles()
    assert len(suite["models"]) >= 6
    assert suite["consoleErrors"] == []


def model_result(suite, name):
    [found] = [m for m in suite["models"] if m["name"] == name]
    return found


@pytest.mark.parametrize("name", web_bundles())
def test_each_bundle_passes_its_tokenizer_conformance_file_in_the_browser(suite, name):
    check = model_result(suite, name)["conformance"]
    assert check["cases"] >= 300
    assert check["wrong"] == 0, check["examples"]


@pytest.mark.parametrize("setting", [f"{level}{'_lowercase' if lower else ''}"
                                     for level, lower in OTHER_TOKENIZERS])
def test_word_subword_and_lowercase_tokenizers_conform_in_the_browser(suite, setting):
    [check] = [t for t in suite["tokenizers"] if t["name"] == setting]
    assert check["cases"] >= 300
    assert check["wrong"] == 0, check["examples"]


@pytest.mark.parametrize("name", web_bundles())
def test_the_browser_decodes_like_the_keras_model(suite, name):
    result = model_result(suite, name)
    for check in ("greedy", "greedyWholeLoop", "texts"):
        assert result[check]["sentences"] == PARITY_SENTENCES
        assert result[check]["wrong"] == 0, (check, result[check]["examples"])
    for check in ("beam", "beamGraph"):  # JavaScript beam search, and the ONNX beam graph
        assert result[check]["sentences"] == PARITY_SENTENCES
        assert result[check]["wrong"] == 0, (check, result[check]["examples"])
        assert result[check]["finishedDiffer"] == 0
        assert result[check]["maxScoreDifference"] < SCORE_TOLERANCE, check
