"""The `keras-s2s` CLI and the train / evaluate workflow behind it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_s2s.cli import main
from keras_s2s.experiment import TrainedModel, evaluate, train_on_task
from keras_s2s.tasks import get_task

TINY = ["--units", "8", "--embedding-dim", "8", "--train-size", "200", "--dev-size", "20",
        "--test-size", "30", "--max-length", "5", "--epochs", "1", "--quiet"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli") / "tiny")
    assert main(["train", "--task", "reverse", "--attention", "bahdanau",
                 "--attention-placement", "bahdanau", "--cell", "lstm", "--bidirectional",
                 "--out", out] + TINY) == 0
    return out


def test_train_writes_a_complete_model_directory(tiny_model_dir):
    assert sorted(os.listdir(tiny_model_dir)) == [
        "history.json", "model.keras", "s2s.json", "source_vocab.txt", "target_vocab.txt"]
    meta = json.load(open(os.path.join(tiny_model_dir, "s2s.json")))
    assert meta["model"]["attention"] == "bahdanau"
    assert meta["model"]["cell"] == "lstm" and meta["model"]["bidirectional"]
    assert meta["task"] == {"name": "reverse", "num_symbols": 16, "min_length": 1,
                            "max_length": 5}
    history = json.load(open(os.path.join(tiny_model_dir, "history.json")))
    assert len(history["loss"]) == 1 and np.isfinite(history["val_loss"][0])


def test_evaluate_json_is_one_line_with_metrics(tiny_model_dir, capsys):
    assert main(["evaluate", tiny_model_dir, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert result["n"] == 30
    assert 0.0 <= result["exact_match"] <= 1.0
    assert sum(b["n"] for b in result["by_source_length"].values()) == 30
    # The loaded model decodes what the evaluation scored.
    trained = TrainedModel.load(tiny_model_dir)
    again = evaluate(trained)
    assert again["exact_match"] == result["exact_match"]


def test_evaluate_with_beam(tiny_model_dir, capsys):
    assert main(["evaluate", tiny_model_dir, "--json", "--beam", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decoding"] == "beam3" and result["n"] == 30


def test_clear_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope"), "--json"]) == 2
    assert "does not exist" in capsys.readouterr().err
    out = str(tmp_path / "bad")
    assert main(["train", "--attention", "none", "--input-feeding", "--out", out] + TINY) == 2
    assert "input_feeding" in capsys.readouterr().err
    assert not os.path.exists(out)
    with pytest.raises(SystemExit):
        main(["train", "--attention", "multihead", "--out", out])
    with pytest.raises(SystemExit):
        main(["train", "--units", "0", "--out", out])


def test_console_script_is_installed():
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "keras-s2s"), "train", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0
    for option in ("--attention", "--bidirectional", "--cell", "--bridge", "--out"):
        assert option in result.stdout


@pytest.mark.slow
def test_reverse_task_attention_beats_the_bottleneck(tmp_path):
    """The seed's claim: attention removes the bottleneck of the final encoder state.

    Both models train for the same 5 epochs (about 25 s each on 2 CPU cores).
    """
    task = get_task("reverse", num_symbols=16, min_length=1, max_length=16)
    results = {}
    for attention in ("general", "none"):
        trained = train_on_task(
            task, str(tmp_path / attention),
            {"units": 64, "embedding_dim": 32, "attention": attention},
            epochs=5, learning_rate=3e-3, verbose=0,
        )
        results[attention] = evaluate(trained)
    longest = list(results["general"]["by_source_length"])[-1]
    print(
        f"\nreverse, exact match: attention {results['general']['exact_match']:.3f} "
        f"(longest {longest}: {results['general']['by_source_length'][longest]['exact_match']:.3f}), "
        f"none {results['none']['exact_match']:.3f} "
        f"(longest: {results['none']['by_source_length'][longest]['exact_match']:.3f})"
    )
    assert results["general"]["exact_match"] >= 0.95
    with_attention = results["general"]["by_source_length"][longest]["exact_match"]
    without = results["none"]["by_source_length"][longest]["exact_match"]
    assert without < with_attention - 0.3
