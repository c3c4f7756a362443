"""The runtime-only install: `pip install keras_s2s[runtime]` into a fresh virtual
environment gives numpy, LiteRT and ONNX Runtime and no TensorFlow, and the zoo's models
translate there by name, from any directory, as the Keras models do."""

import os
import subprocess
import sys

import pytest

from keras_s2s.zoo.trained import headline, list_trained, read_card

from conftest import REPO

TEXTS = ["Nov. 23rd, 2026", "12/25/99", "the 4th of July, 1976"]
HEAVY = ("tensorflow", "keras", "tensorflow_text", "tf2onnx", "sacrebleu")


def run(command, **options):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(command, capture_output=True, text=True, env=env,
                          timeout=options.pop("timeout", 600), **options)


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory):
    """A fresh virtual environment with `keras_s2s[runtime]` installed from this checkout
    (a regular install, not an editable one)."""
    venv = tmp_path_factory.mktemp("runtime_install") / "venv"
    created = run([sys.executable, "-m", "venv", str(venv)])
    assert created.returncode == 0, created.stderr
    installed = run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                     f"{REPO}[runtime]"], timeout=1800)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


@pytest.mark.slow
def test_the_runtime_install_has_no_tensorflow(runtime_venv):
    code = ("import importlib.util as u, keras_s2s.runtime; "
            f"print([m for m in {HEAVY!r} if u.find_spec(m)])")
    result = run([str(runtime_venv / "bin" / "python"), "-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tflite", "onnx", None])
def test_zoo_models_translate_by_name_as_keras_does(runtime_venv, backend, tmp_path):
    expected = run([os.path.join(os.path.dirname(sys.executable), "keras-s2s"), "translate",
                    "dates_bahdanau", *TEXTS], cwd=REPO)
    assert expected.returncode == 0, expected.stderr
    options = ["--backend", backend] if backend else []
    # From a directory that is not the checkout: the bundle comes with the package.
    found = run([str(runtime_venv / "bin" / "keras-s2s"), "translate", "dates_bahdanau",
                 *options, *TEXTS], cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout == expected.stdout
    assert found.stderr == ""


@pytest.mark.slow
def test_zoo_list_shows_every_model_built(runtime_venv, tmp_path):
    result = run([str(runtime_venv / "bin" / "keras-s2s"), "zoo", "list"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in list_trained():
        line = next(line for line in result.stdout.splitlines() if line.split()[:1] == [name])
        assert headline(read_card(name)) in line and "not built" not in line


@pytest.mark.slow
def test_commands_that_need_tensorflow_say_how_to_get_it(runtime_venv, tmp_path):
    script = str(runtime_venv / "bin" / "keras-s2s")
    for command in (["train", "--task", "dates", "--out", str(tmp_path / "m")],
                    ["evaluate", "dates_none", "--backend", "onnx"]):
        result = run([script, *command], cwd=tmp_path)
        assert result.returncode == 2
        assert "runtime-only install" in result.stderr
        assert "pip install 'keras_s2s[full]'" in result.stderr
        assert "Traceback" not in result.stderr
    keras = run([script, "translate", "dates_none", "--backend", "keras", "x"], cwd=tmp_path)
    assert keras.returncode == 2 and "--backend tflite" in keras.stderr
