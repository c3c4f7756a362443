"""Training: checkpoints, exact resume, early stopping, time budget, NaN guard, scheduled sampling."""

import json
import os

import keras
import numpy as np
import pytest

from keras_s2s.models import Seq2Seq
from keras_s2s.trained_model import TrainedModel
from keras_s2s.training import TrainingError, list_checkpoints, train, train_task

TINY = {"units": 8, "embedding_dim": 8, "attention": "general"}
QUIET = {"verbose": 0, "tensorboard": False, "log": lambda message: None}
SIZES = {"train_size": 300, "dev_size": 30, "test_size": 30}


def _weights(trained):
    return [np.asarray(w) for w in trained.model.get_weights()]


@pytest.mark.parametrize("config", [TINY, {**TINY, "teacher_forcing": 0.5, "dropout": 0.2}],
                         ids=["plain", "scheduled-sampling-and-dropout"])
def test_resume_ends_with_the_same_weights(tmp_path, config):
    straight = train_task("reverse", tmp_path / "straight", config, epochs=2, **SIZES, **QUIET)
    first = train_task("reverse", tmp_path / "resumed", config, epochs=1, **SIZES, **QUIET)
    assert list(list_checkpoints(tmp_path / "resumed")) == [1]
    assert not np.allclose(_weights(first)[0], _weights(straight)[0])
    resumed = train_task("reverse", tmp_path / "resumed", config, epochs=2, resume=True,
                         **SIZES, **QUIET)
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_array_equal(a, b)
    history = json.load(open(tmp_path / "resumed" / "history.json"))
    assert len(history["loss"]) == 2
    assert history == json.load(open(tmp_path / "straight" / "history.json"))


def test_resume_needs_a_previous_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="Cannot resume"):
        train_task("reverse", tmp_path / "none", TINY, epochs=1, resume=True, **SIZES, **QUIET)


def test_unfinished_directory_explains_how_to_resume(tmp_path):
    train_task("reverse", tmp_path / "run", TINY, epochs=1, **SIZES, **QUIET)
    os.remove(tmp_path / "run" / "model.keras")
    with pytest.raises(FileNotFoundError, match="--resume"):
        TrainedModel.load(str(tmp_path / "run"))


def test_checkpoints_keep_the_last_and_the_best(tmp_path):
    trained = train_task("reverse", tmp_path / "run", TINY, epochs=3, **SIZES, **QUIET)
    kept = list_checkpoints(tmp_path / "run")
    assert max(kept) == 3
    best = trained.meta["training"]["best_epoch"]
    assert set(kept) == {3, best}
    state = json.load(open(os.path.join(kept[3], "state.json")))
    assert state["epoch"] == 3 and len(state["history"]["val_loss"]) == 3


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    # A learning rate this high makes the dev loss go up after the first epochs.
    trained = train_task("reverse", tmp_path / "run", TINY, epochs=8, patience=1,
                         learning_rate=0.3, **SIZES, **QUIET)
    meta = trained.meta["training"]
    history = json.load(open(tmp_path / "run" / "history.json"))
    losses = history["val_loss"]
    assert meta["epochs_completed"] == len(losses)
    assert meta["best_epoch"] == int(np.argmin(losses)) + 1
    if meta["epochs_completed"] < 8:
        assert losses[-1] >= min(losses)
    best_checkpoint = list_checkpoints(tmp_path / "run")[meta["best_epoch"]]
    best_model = keras.saving.load_model(os.path.join(best_checkpoint, "model.keras"))
    for a, b in zip(best_model.get_weights(), trained.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_learning_rate_halves_on_a_plateau_and_a_resumed_run_keeps_it(tmp_path):
    # A learning rate this high makes the dev loss stall or rise: each such epoch halves it.
    options = {"learning_rate": 0.3, "plateau_decay": 0.5, **SIZES, **QUIET}
    straight = train_task("reverse", tmp_path / "straight", TINY, epochs=4, **options)
    losses = json.load(open(tmp_path / "straight" / "history.json"))["val_loss"]
    stalled = sum(loss >= min(losses[:i]) for i, loss in enumerate(losses) if i)
    assert stalled >= 1, losses  # else this test checks nothing
    rate = float(straight.model.optimizer.learning_rate)
    assert rate == pytest.approx(0.3 * 0.5 ** stalled)
    state = json.load(open(os.path.join(list_checkpoints(tmp_path / "straight")[4], "state.json")))
    assert state["learning_rate"] == pytest.approx(rate)
    # Interrupted after 2 epochs and resumed: the same rate, the same weights.
    train_task("reverse", tmp_path / "resumed", TINY, epochs=2, **options)
    resumed = train_task("reverse", tmp_path / "resumed", TINY, epochs=4, resume=True, **options)
    assert float(resumed.model.optimizer.learning_rate) == pytest.approx(rate)
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_array_equal(a, b)


def test_time_budget_stops_training(tmp_path):
    trained = train_task("reverse", tmp_path / "run", TINY, epochs=50, max_minutes=0.0001,
                         train_size=2000, dev_size=30, test_size=30, **QUIET)
    meta = trained.meta["training"]
    assert meta["stopped_by_time_budget"] and meta["epochs_completed"] == 1


def test_nan_loss_stops_with_a_clear_error_and_keeps_good_checkpoints(tmp_path, monkeypatch):
    import keras_s2s.training as training

    train_task("reverse", tmp_path / "run", TINY, epochs=1, **SIZES, **QUIET)
    good = list_checkpoints(tmp_path / "run")
    load = training.load_keras_model

    def load_with_an_exploding_learning_rate(path):
        model = load(path)
        model.optimizer.learning_rate.assign(1e30)
        return model

    monkeypatch.setattr(training, "load_keras_model", load_with_an_exploding_learning_rate)
    with pytest.raises(TrainingError, match=r"not finite in epoch 2, batch \d+ "):
        train_task("reverse", tmp_path / "run", TINY, epochs=3, resume=True, **SIZES, **QUIET)
    assert list_checkpoints(tmp_path / "run") == good


def test_refuses_empty_data(tmp_path):
    with pytest.raises(ValueError, match="No training pairs"):
        train([], [("a", "b")], tmp_path / "x", TINY, **QUIET)
    with pytest.raises(ValueError, match="dev"):
        train([("a", "b")], [], tmp_path / "x", TINY, **QUIET)
    with pytest.raises(ValueError, match="filtered"):
        train([("a", "b c d")], [("a", "b")], tmp_path / "x", TINY, max_target_length=2, **QUIET)


def test_scheduled_sampling_feeds_the_decoders_own_predictions():
    """teacher_forcing=0: in training the decoder never sees the gold inputs after <s>."""
    keras.utils.set_random_seed(0)
    model = Seq2Seq(20, 20, embedding_dim=8, units=8, attention="general", teacher_forcing=0.0)
    source = np.array([[4, 5, 6, 7]])
    gold = {"source_ids": source, "target_ids": np.array([[1, 4, 5, 6]])}
    other = {"source_ids": source, "target_ids": np.array([[1, 9, 9, 9]])}
    np.testing.assert_allclose(model(gold, training=True), model(other, training=True),
                               atol=1e-6)
    assert not np.allclose(model(gold, training=False), model(other, training=False))
    # Full teacher forcing: training sees the gold inputs.
    forced = Seq2Seq.from_config({**model.get_config(), "teacher_forcing": 1.0})
    forced.set_weights(model.get_weights())
    assert not np.allclose(forced(gold, training=True), forced(other, training=True))
    # And its logits equal the inference-mode logits of the scheduled-sampling model.
    np.testing.assert_allclose(forced(gold, training=True), model(gold, training=False),
                               atol=1e-6)
