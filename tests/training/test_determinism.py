"""The same seed gives the same weights and metrics on CPU, in separate processes."""

import json
import subprocess
import sys

import numpy as np
import pytest

from keras_s2s.trained_model import load_keras_model

from conftest import REPO

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "keras_s2s.cli"]
# Dropout and scheduled sampling draw random numbers in every training step too.
TRAIN = CLI + [
    "train", "--task", "reverse", "--train-size", "800", "--dev-size", "50",
    "--test-size", "100", "--units", "8", "--embedding-dim", "8", "--epochs", "2",
    "--dropout", "0.2", "--teacher-forcing", "0.8", "--quiet", "--no-tensorboard",
]


def run(*command):
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def train(out, seed):
    run(*TRAIN, "--out", str(out), "--seed", str(seed))
    metrics = json.loads(run(*CLI, "evaluate", str(out), "--json").strip().splitlines()[-1])
    history = json.loads((out / "history.json").read_text())
    return load_keras_model(str(out / "model.keras")).get_weights(), history, metrics


def test_the_same_seed_gives_the_same_weights_and_metrics(tmp_path):
    weights, history, metrics = train(tmp_path / "a", seed=7)
    again = train(tmp_path / "b", seed=7)
    for x, y in zip(weights, again[0]):
        np.testing.assert_array_equal(x, y)
    assert history == again[1]
    assert metrics == again[2]
    other_weights, other_history, _ = train(tmp_path / "c", seed=8)
    assert any(not np.array_equal(x, y) for x, y in zip(weights, other_weights))
    assert other_history != history
