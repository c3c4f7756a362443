"""The README's Python example runs and does what its comments say."""

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

README = REPO / "README.md"


@pytest.mark.slow
def test_python_example_runs(tmp_path):
    code = re.search(r"## Python example\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert code, "the README lost its Python example"
    script = tmp_path / "example.py"
    script.write_text(code.group(1))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Warning" not in result.stderr, result.stderr[-2000:]  # e.g. Keras' shuffle warning
    first, second = result.stdout.strip().splitlines()[-2:]
    assert first.startswith("[9, 8, 7, 6, 5] ") and first.endswith("(5, 5)")
    assert second.startswith("[([9, 8, 7, 6, 5], ")


@pytest.mark.slow
def test_preset_example_runs(tmp_path):
    code = re.search(r"### Presets: a model as a folder\n\n```python\n(.*?)```",
                     README.read_text(), re.S)
    assert code, "the README lost its preset example"
    script = tmp_path / "presets.py"
    script.write_text(code.group(1) + "print(untrained.count_params() > 0)\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-2:] == ["['Where is the station?']", "True"]
    assert (tmp_path / "my_spa_eng" / "model.keras").is_file()
