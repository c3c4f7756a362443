"""`keras-s2s export`, and `translate` / `evaluate` on a bundle with every backend."""

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest

from keras_s2s.cli import main

from conftest import REPO

TINY = ["--units", "8", "--embedding-dim", "8", "--epochs", "2", "--quiet", "--no-tensorboard",
        "--train-size", "300", "--dev-size", "20", "--test-size", "30", "--max-length", "5"]
BACKENDS = ("keras", "savedmodel", "tflite", "onnx")
SOURCES = ["a b c", "d e", "f"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny reverse model (general attention), its bundle, and the export's JSON report."""
    root = tmp_path_factory.mktemp("cli_export")
    model, bundle = str(root / "model"), str(root / "bundle")
    assert main(["train", "--task", "reverse", "--attention", "general", "--out", model] + TINY) == 0
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["export", model, "--out", bundle, "--check", "20", "--json"]) == 0
    return model, bundle, json.loads(stdout.getvalue())


def test_export_writes_every_format_and_checks_it(exported):
    _, bundle, report = exported
    for name in ("model.keras", "encoder.tflite", "decoder_step.tflite", "translate.tflite",
                 "encoder.onnx", "decoder_step.onnx", "translate.onnx", "source_vocab.txt",
                 "saved_model/saved_model.pb"):
        assert report["sizes"][name] > 0, name
    assert set(report["checks"]) == {f"{b}/{m}" for b in BACKENDS[1:]
                                     for m in ("step", "whole_loop", "beam")}
    for name, check in report["checks"].items():
        assert check["sentences"] == 20
        if name.endswith("/beam"):  # the beam graph against beam search over the step graph
            assert check["nbest_agreement"] == 1.0 and check["max_score_difference"] < 1e-4, name
        else:
            assert check["token_agreement"] == 1.0, name
    on_disk = json.load(open(os.path.join(bundle, "bundle.json")))
    assert on_disk["checks"] == report["checks"]


def test_translate_gives_the_same_text_on_every_backend(exported, capsys):
    model, bundle, _ = exported
    assert main(["translate", model] + SOURCES) == 0
    expected = capsys.readouterr().out
    assert expected.count("\n") == len(SOURCES)
    for backend in BACKENDS:
        for beam in ("1", "3"):
            # Texts after the options are accepted too.
            assert main(["translate", bundle, "--backend", backend, "--beam", beam] + SOURCES) == 0
            out = capsys.readouterr().out
            if beam == "1":
                assert out == expected, backend
            else:
                assert out.count("\n") == len(SOURCES)


def test_translate_whole_loop_beam_gives_the_step_by_step_n_best(exported, capsys):
    _, bundle, _ = exported
    for backend in BACKENDS:
        options = ["--backend", backend, "--beam", "4", "--nbest", "4", "--length-penalty", "0.6"]
        assert main(["translate", bundle, *options] + SOURCES) == 0
        expected = capsys.readouterr().out
        assert main(["translate", bundle, *options, "--whole-loop"] + SOURCES) == 0
        found = capsys.readouterr().out
        # INDEX<TAB>SCORE<TAB>TEXT: the same texts, the same scores (printed to 4 decimals).
        rows = [[line.split("\t") for line in out.splitlines()] for out in (found, expected)]
        assert [(i, text) for i, _, text in rows[0]] == [(i, text) for i, _, text in rows[1]]
        assert all(abs(float(a[1]) - float(b[1])) <= 2e-4 for a, b in zip(*rows)), backend
        assert len(rows[0]) == 4 * len(SOURCES)
    assert main(["translate", bundle, "--backend", "onnx", "--beam", "3", "--whole-loop", "x"]) == 2
    assert "exported for beam size 4, not 3" in capsys.readouterr().err


def test_evaluate_on_a_bundle_matches_the_model_directory(exported, capsys):
    model, bundle, _ = exported
    assert main(["evaluate", model, "--json"]) == 0
    reference = json.loads(capsys.readouterr().out)
    for backend in ("tflite", "onnx"):
        assert main(["evaluate", bundle, "--backend", backend, "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["n"] == reference["n"] == 30
        assert result["bleu"] == reference["bleu"] and result["exact_match"] == reference["exact_match"]


def test_export_refuses_to_overwrite_and_bad_formats(exported, capsys):
    model, bundle, _ = exported
    assert main(["export", model, "--out", bundle]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", model, "--out", bundle + "-x", "--formats", "tflite,coreml"]) == 2
    assert "coreml" in capsys.readouterr().err
    assert not os.path.exists(bundle + "-x")
    assert main(["export", model, "--out", bundle + "-y", "--formats", "savedmodel",
                 "--quantize", "dynamic"]) == 2
    assert "--quantize applies to TFLite and ONNX" in capsys.readouterr().err


def test_model_directory_runs_on_keras_only(exported, capsys):
    model, _, _ = exported
    assert main(["translate", model, "--backend", "onnx", "a b"]) == 2
    assert "keras-s2s export" in capsys.readouterr().err


def _guide_snippets(marker):
    """The Python code blocks of export/README.md that contain `marker`."""
    guide = open(REPO / "export" / "README.md",
                 encoding="utf-8").read()
    blocks = [block.split("```", 1)[0] for block in guide.split("```python\n")[1:]]
    return [block for block in blocks if marker in block]


@pytest.mark.parametrize("marker", ["Interpreter(", "InferenceSession("])
def test_deployment_guide_snippets_run_on_a_bundle(exported, monkeypatch, marker):
    """The LiteRT and ONNX Runtime examples of the guide run as written, in a bundle."""
    _, bundle, _ = exported
    [snippet] = _guide_snippets(marker)
    monkeypatch.chdir(bundle)
    names = {}
    exec(compile(snippet, "export/README.md", "exec"), names)  # noqa: S102 (our own docs)
    if marker == "Interpreter(":
        assert names["out"]["logits"].shape[0] == 2
        assert names["out"]["next_h0"].shape == names["encoded"]["h0"].shape
        assert names["nbest"]["tokens"].shape[:2] == names["nbest"]["scores"].shape == (2, 4)
    else:
        assert names["tokens"].shape[0] == names["lengths"].shape[0] == 2
        assert names["nbest"]["scores"].shape == (2, 4) and names["best"].ndim == 1


def test_translate_on_tflite_and_onnx_does_not_import_tensorflow(exported):
    """The CLI on the device backends starts without TensorFlow (fast cold start)."""
    _, bundle, _ = exported
    code = ("import sys\nfrom keras_s2s.cli import main\n"
            f"for backend in ('tflite', 'onnx'):\n"
            f"    assert main(['translate', {bundle!r}, '--backend', backend, 'a b c']) == 0\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'tensorflow_text', 'tf2onnx'))\n"
            "print('HEAVY', heavy)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout, result.stdout
    assert result.stdout.count("\n") == 3  # two translations, then the module list
