"""SIGKILL in the middle of `train`, a checkpoint or `export`: the previous complete state
stays readable, and `train --resume` ends exactly where an uninterrupted run ends.

Each trial runs the real command in a child process and kills it (SIGKILL: no handler,
no clean-up) either at a random moment or the moment a temporary checkpoint or bundle
directory appears, i.e. in the middle of writing it. Then it checks what is on disk.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from keras_s2s.runtime import Bundle
from keras_s2s.trained_model import load_keras_model
from keras_s2s.training import CHECKPOINTS, STATE_FILE, list_checkpoints

from conftest import REPO

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "keras_s2s.cli"]
EPOCHS = 4
TRAIN = CLI + [
    "train", "--task", "reverse", "--train-size", "1500", "--dev-size", "60",
    "--test-size", "30", "--units", "8", "--embedding-dim", "8", "--epochs", str(EPOCHS),
    "--seed", "5", "--quiet", "--no-tensorboard",
]
# What a model directory may hold under its real names (temporaries are hidden).
MODEL_DIR_FILES = {"s2s.json", "source_vocab.txt", "target_vocab.txt", "model.keras",
                   "history.json", CHECKPOINTS}


def start(command):
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def finish(command):
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


def kill_at(process, moment):
    """SIGKILLs `process` when `moment()` is true (polled every millisecond); returns
    whether it was still running then."""
    while process.poll() is None and not moment():
        time.sleep(0.001)
    alive = process.poll() is None
    if alive:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return alive


def after(seconds):
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline


def _entries(path):
    """`os.listdir`, or nothing for what is not (or no longer) a directory."""
    try:
        return os.listdir(path)
    except OSError:
        return []


def temporary_appears(directory):
    """True once `directory` holds a temporary directory with something in it."""
    return lambda: any(name.startswith(".") and _entries(os.path.join(directory, name))
                       for name in _entries(directory))


def temporaries(directory):
    """Hidden entries of `directory`: temporaries (keras_s2s writes nothing else hidden)."""
    return sorted(name for name in _entries(directory) if name.startswith("."))


def weights(path):
    return load_keras_model(str(path)).get_weights()


def check_readable(out):
    """Everything under its real name in a killed run's directory is complete."""
    if not out.exists():
        return []
    assert {n for n in os.listdir(out) if not n.startswith(".")} <= MODEL_DIR_FILES
    if (out / "s2s.json").exists():
        meta = json.loads((out / "s2s.json").read_text())
        assert meta["format_version"] == 1
    checkpoints = list_checkpoints(out)
    for epoch, path in checkpoints.items():
        state = json.loads(Path(path, STATE_FILE).read_text())
        assert state["epoch"] == epoch and len(state["history"]["loss"]) == epoch
        assert len(weights(Path(path, "model.keras"))) > 0
    # A checkpoint directory under its real name is always complete.
    for name in _entries(out / CHECKPOINTS):
        if not name.startswith("."):
            assert (out / CHECKPOINTS / name / STATE_FILE).exists(), name
    if (out / "model.keras").exists():
        weights(out / "model.keras")
    return sorted(checkpoints)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, and how long it took."""
    out = tmp_path_factory.mktemp("kill") / "reference"
    started = time.monotonic()
    finish(TRAIN + ["--out", str(out)])
    return out, time.monotonic() - started


def resume_and_compare(out, reference_dir):
    resume = ["--resume"] if (out / "s2s.json").exists() else []
    finish(TRAIN + ["--out", str(out)] + resume)
    for a, b in zip(weights(reference_dir / "model.keras"), weights(out / "model.keras")):
        np.testing.assert_array_equal(a, b)
    history = json.loads((out / "history.json").read_text())
    assert history == json.loads((reference_dir / "history.json").read_text())
    assert len(history["loss"]) == EPOCHS  # no epoch repeated or lost
    assert temporaries(out) == [] and temporaries(out / CHECKPOINTS) == []


# Random moments over the reference run (seeded), and the first and third checkpoint
# write.
TRIALS = [("random", f) for f in np.random.default_rng(11).uniform(0.5, 1.0, 4)] + [
    ("checkpoint", 1), ("checkpoint", 3)]


@pytest.mark.parametrize("kind, when", TRIALS,
                         ids=[f"{k}-{w:.2f}" if k == "random" else f"{k}-{w}" for k, w in TRIALS])
def test_train_killed_then_resumed_ends_like_an_uninterrupted_run(tmp_path, reference, kind,
                                                                  when):
    reference_dir, seconds = reference
    out = tmp_path / "run"
    process = start(TRAIN + ["--out", str(out)])
    if kind == "random":
        killed = kill_at(process, after(when * seconds))
    else:
        # Let `when - 1` checkpoints complete, then kill in the middle of the next one.
        done = lambda: len(list_checkpoints(out)) >= when - 1 or (  # noqa: E731
            when > 1 and (out / "checkpoints" / f"epoch-{when - 1:04d}").exists())
        while process.poll() is None and not done():
            time.sleep(0.005)
        killed = kill_at(process, temporary_appears(out / CHECKPOINTS))
        assert killed, "the run ended before the checkpoint write was caught"
        assert temporaries(out / CHECKPOINTS), "not killed inside a checkpoint write"
    complete = check_readable(out)
    print(f"{kind} {when}: killed={killed}, complete checkpoints {complete}, temporaries "
          f"{temporaries(out / CHECKPOINTS)}")
    resume_and_compare(out, reference_dir)


def files(bundle):
    """The files a bundle lists, each checked against its sha256."""
    return sorted(Bundle(bundle, verify=True).meta["files"])


def test_export_killed_leaves_the_previous_bundle(tmp_path, reference):
    reference_dir, _ = reference
    bundle = tmp_path / "bundle"
    # The step graphs only (--no-whole-loop): what is tested is the swap, not the graphs.
    export = CLI + ["export", str(reference_dir), "--out", str(bundle), "--check", "0",
                    "--no-whole-loop"]
    # Exports are not byte-identical (zip times), so the two are told apart by their files.
    finish(export + ["--formats", "onnx"])
    old = files(bundle)
    started = time.monotonic()
    finish(export + ["--formats", "tflite", "--overwrite"])
    new = files(bundle)
    assert old != new
    seconds = time.monotonic() - started
    finish(export + ["--formats", "onnx", "--overwrite"])  # the old one back in place
    assert files(bundle) == old
    moments = [after(f * seconds) for f in (0.4, 0.7, 0.9)] + [temporary_appears(tmp_path)]
    for moment in moments:
        process = start(export + ["--formats", "tflite", "--overwrite"])
        kill_at(process, moment)
        found = files(bundle)
        assert found in (old, new)
        if found == new:  # the kill came after the swap: put the old one back
            finish(export + ["--formats", "onnx", "--overwrite"])
    assert temporaries(tmp_path), "no kill landed while a bundle was being written"
    finish(export + ["--formats", "tflite", "--overwrite"])
    assert files(bundle) == new
    assert temporaries(tmp_path) == []  # the killed exports' leftovers are gone
