"""Train a `Seq2Seq` on parallel text: vocabularies, batches, checkpoints, resume.

`train()` is what `keras-s2s train` runs. It learns the vocabularies with
tensorflow-text, tokenizes and filters the data, fits the model with teacher forcing,
and keeps the model directory (see `keras_s2s.trained_model`) resumable at every epoch:
the last and the best epoch are checkpointed (model, optimizer and loop state), and the
batches of every epoch depend only on the seed and the epoch number, so a resumed run
ends with the same weights as an uninterrupted one.
"""

import json
import math
import os
import re
import shutil
import time

import keras
import numpy as np

from keras_s2s.data.pipeline import BatchPlan, count_target_tokens, filter_examples
from keras_s2s.distribute import agree_any, describe, get_strategy, is_chief
from keras_s2s.errors import TrainingError  # noqa: F401  (part of this module's API)
from keras_s2s.models.optimizers import Adam
from keras_s2s.models.seq2seq import Seq2Seq
from keras_s2s.tasks import get_task, task_description, task_splits
from keras_s2s.text.tokenizer import Tokenizer, learn_vocabulary
from keras_s2s.text.vocabulary import Vocabulary
from keras_s2s.model_files import (
    FORMAT_VERSION,
    HISTORY_FILE,
    META_FILE,
    MODEL_FILE,
    SOURCE_VOCAB_FILE,
    TARGET_VOCAB_FILE,
)
from keras_s2s.trained_model import TrainedModel, load_keras_model, read_meta
from keras_s2s.utils.atomic import atomic_directory, atomic_file, write_json

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"
_CHECKPOINT_NAME = re.compile(r"^epoch-(\d{4,})$")


def save_keras_model(model, path):
    """`model.save` to a temporary `.keras` name, then an atomic rename."""
    with atomic_file(path, suffix=".keras") as tmp:
        model.save(tmp)


def list_checkpoints(out_dir):
    """`{epoch: path}` of the complete checkpoints of a model directory."""
    root = os.path.join(out_dir, CHECKPOINTS)
    found = {}
    if os.path.isdir(root):
        for name in os.listdir(root):
            match = _CHECKPOINT_NAME.match(name)
            if match and os.path.exists(os.path.join(root, name, STATE_FILE)):
                found[int(match.group(1))] = os.path.join(root, name)
    return found


class _EpochCheckpoints(keras.callbacks.Callback):
    """Checkpoints every epoch, tracks the best dev loss, stops early, guards NaN.

    Every worker of a distributed run keeps the same state (the logs are reduced over
    all replicas); only the one with `write=True`, the chief, writes checkpoints.
    """

    def __init__(self, out_dir, state, patience, write=True, plateau_decay=None):
        super().__init__()
        self.out_dir = out_dir
        self.state = state
        self.patience = patience
        self.write = write
        self.plateau_decay = plateau_decay
        self.failure = None
        self._epoch = 0

    def _fail(self, where, logs):
        self.failure = (
            f"the loss is not finite in {where} ({logs}); training stopped and keeps the "
            "last good checkpoint. Lower --learning-rate or check the data."
        )
        self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # Stop at the first bad batch rather than at the end of the epoch.
        loss = float((logs or {}).get("loss", 0.0))
        if not self.failure and not math.isfinite(loss):
            self._fail(f"epoch {self._epoch + 1}, batch {batch + 1}", {"loss": loss})

    def on_epoch_end(self, epoch, logs=None):
        if self.failure:
            return
        logs = {k: float(v) for k, v in (logs or {}).items()}
        monitored = logs.get("val_loss", logs.get("loss", math.nan))
        if not all(math.isfinite(v) for v in logs.values()) or not math.isfinite(monitored):
            self._fail(f"epoch {epoch + 1}", logs)
            return
        state = self.state
        for key, value in logs.items():
            state["history"].setdefault(key, []).append(value)
        state["epoch"] = epoch + 1
        if state["best_loss"] is None or monitored < state["best_loss"]:
            state.update(best_loss=monitored, best_epoch=epoch + 1, wait=0)
        else:
            state["wait"] += 1
            if self.plateau_decay:
                # The dev loss stalled: a smaller step for the next epoch (recorded, so
                # that a resumed run continues with it).
                rate = float(self.model.optimizer.learning_rate) * self.plateau_decay
                self.model.optimizer.learning_rate.assign(rate)
                state["learning_rate"] = rate
        if self.write:
            path = os.path.join(self.out_dir, CHECKPOINTS, f"epoch-{epoch + 1:04d}")
            with atomic_directory(path) as tmp:
                self.model.save(os.path.join(tmp, MODEL_FILE))
                write_json(os.path.join(tmp, STATE_FILE), state)
            for old_epoch, old_path in list_checkpoints(self.out_dir).items():
                if old_epoch not in (epoch + 1, state["best_epoch"]):
                    shutil.rmtree(old_path, ignore_errors=True)
        if self.patience and state["wait"] >= self.patience:
            print(f"Early stopping: no better dev loss for {self.patience} epoch(s); best "
                  f"was epoch {state['best_epoch']}.", flush=True)
            self.model.stop_training = True


class _ReseedEachEpoch(keras.callbacks.Callback):
    """Sets every random seed state of the model (dropout, scheduled sampling) from the
    seed and the epoch number, so that a resumed epoch draws what it would have drawn."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        generators = [
            generator
            for layer in self.model._flatten_layers(include_self=True)
            for generator in layer._seed_generators
        ]
        for index, generator in enumerate(generators):
            state = (self.seed * 1_000_003 + epoch * 7_919 + index) % 2**31
            generator.state.assign(np.array([state, 0], dtype=generator.state.dtype))


class _TimeBudget(keras.callbacks.Callback):
    """Stops training after the batch that exceeds a wall-clock budget (on every worker
    of a distributed run as soon as one of them is over it)."""

    def __init__(self, seconds, strategy):
        super().__init__()
        self.seconds = seconds
        self.strategy = strategy
        self.started = None
        self.hit = False

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if agree_any(self.strategy, time.perf_counter() - self.started > self.seconds):
            self.hit = True
            self.model.stop_training = True


class _TrainClock(keras.callbacks.Callback):
    """Seconds spent in training batches (validation excluded)."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self.batches = 0
        self._epoch_start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._last = self._epoch_start

    def on_train_batch_end(self, batch, logs=None):
        self._last = time.perf_counter()
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += self._last - self._epoch_start


def _new_state():
    """The training-loop state saved with each checkpoint."""
    return {"epoch": 0, "history": {}, "best_loss": None, "best_epoch": 0, "wait": 0}


def _restore(out_dir, log):
    """What `train(resume=True)` continues from: `(meta, vocabs..., model, state)`."""
    meta = read_meta(out_dir)
    source_vocab = Vocabulary.load(os.path.join(out_dir, SOURCE_VOCAB_FILE))
    target_vocab = Vocabulary.load(os.path.join(out_dir, TARGET_VOCAB_FILE))
    checkpoints = list_checkpoints(out_dir)
    if not checkpoints:
        log(f"Resuming {out_dir} from the start (no checkpoint was complete).")
        keras.utils.set_random_seed(meta["seed"])
        return meta, source_vocab, target_vocab, Seq2Seq.from_config(meta["model"]), _new_state()
    last = max(checkpoints)
    model = load_keras_model(os.path.join(checkpoints[last], MODEL_FILE))
    with open(os.path.join(checkpoints[last], STATE_FILE), encoding="utf-8") as f:
        state = json.load(f)
    log(f"Resuming {out_dir} after epoch {last}.")
    return meta, source_vocab, target_vocab, model, state


def _tokenize(tokenizer, texts, batch_size=4096):
    ids = []
    for start in range(0, len(texts), batch_size):
        ids.extend(tokenizer.tokenize(texts[start:start + batch_size]).to_list())
    return ids


def train(
    train_pairs,
    dev_pairs,
    out_dir,
    model_config=None,
    *,
    source_level="word",
    target_level="word",
    lowercase=False,
    source_lowercase=None,
    target_lowercase=None,
    source_vocab_size=8000,
    target_vocab_size=8000,
    max_source_length=100,
    max_target_length=100,
    epochs=10,
    batch_size=64,
    learning_rate=3e-3,
    patience=0,
    plateau_decay=None,
    seed=0,
    max_minutes=None,
    resume=False,
    overwrite=False,
    data_description=None,
    tensorboard=True,
    strategy=None,
    verbose=1,
    log=print,
):
    """Trains a `Seq2Seq` on `(source, target)` text pairs into a model directory.

    Args:
        train_pairs, dev_pairs: lists of `(source_text, target_text)`.
        out_dir: the model directory.
        model_config: `Seq2Seq` arguments other than the vocabulary sizes.
        source_level, target_level: tokenizer levels (`char`, `word`, `subword`).
        lowercase: lower-case both sides.
        source_lowercase, target_lowercase: lower-case one side (default: `lowercase`);
            e.g. grapheme-to-phoneme lower-cases the words but not the ARPAbet phonemes.
        source_vocab_size, target_vocab_size: largest vocabularies (specials included).
        max_source_length, max_target_length: longer training pairs are dropped
            (counted in tokens; the count is reported).
        epochs: the last epoch to train to (a resumed run continues up to it).
        batch_size, learning_rate: Adam with gradient clipping at norm 1.
        patience: stop when the dev loss has not improved for this many epochs and
            keep the best epoch's weights (0: train every epoch, keep the last).
        plateau_decay: multiply the learning rate by this after each epoch whose dev
            loss is not the best so far (e.g. 0.5; `None`: a constant rate).
        seed: seeds weights, batches and dropout.
        max_minutes: stop after this much wall-clock training time.
        resume: continue the training of `out_dir` from its last checkpoint, with the
            tokenizers, model and settings it was started with (only `epochs`, the
            data and `max_minutes` are taken from this call).
        overwrite: replace an existing `out_dir` instead of refusing.
        data_description: where the data came from, recorded in `s2s.json`.
        tensorboard: write TensorBoard logs to `out_dir/logs`.
        strategy: `"none"`, `"mirrored"`, `"multiworker"` or a `tf.distribute.Strategy`
            (see `keras_s2s.distribute`); `batch_size` is the global batch. With
            several workers, only the chief writes `out_dir`, and the others read it
            to resume, so it must be on storage they all reach.
        verbose: Keras `fit` verbosity (1: progress bars).
        log: where progress messages go.

    Returns:
        The `TrainedModel`.
    """
    if not train_pairs:
        raise ValueError("No training pairs.")
    if not dev_pairs:
        raise ValueError("No dev pairs: give a dev set (it drives early stopping).")
    if epochs < 1:
        raise ValueError(f"epochs must be positive, got {epochs}.")
    strategy = get_strategy(strategy)
    chief = is_chief(strategy)
    has_meta = os.path.exists(os.path.join(out_dir, META_FILE))
    if resume and not has_meta:
        raise FileNotFoundError(
            f"Cannot resume: {out_dir} holds no training ({META_FILE} is missing)."
            + ("" if chief else " Every worker reads the chief's model directory to "
               "resume: put --out on storage all workers share.")
        )
    # Only the chief looks after the directory: the others may find it already written.
    if chief and has_meta and not resume:
        if not overwrite:
            raise ValueError(
                f"{out_dir} already holds a model: pass --resume to continue its training, "
                "--overwrite to replace it, or choose another --out."
            )
        shutil.rmtree(out_dir)

    if resume:
        with strategy.scope():
            meta, source_vocab, target_vocab, model, state = _restore(out_dir, log)
    else:
        keras.utils.set_random_seed(seed)
        log(f"Learning vocabularies from {len(train_pairs)} training pairs...")
        source_lowercase = lowercase if source_lowercase is None else source_lowercase
        target_lowercase = lowercase if target_lowercase is None else target_lowercase
        source_vocab = learn_vocabulary(
            [s for s, _ in train_pairs], source_level, source_vocab_size, source_lowercase)
        target_vocab = learn_vocabulary(
            [t for _, t in train_pairs], target_level, target_vocab_size, target_lowercase)
        log(f"Vocabularies: {len(source_vocab)} source and {len(target_vocab)} target tokens.")
        with strategy.scope():
            model = Seq2Seq(len(source_vocab), len(target_vocab), **(model_config or {}))
        meta = {
            "format_version": FORMAT_VERSION,
            "status": "training",
            "tokenizer": {
                "source": {"level": source_level, "lowercase": source_lowercase},
                "target": {"level": target_level, "lowercase": target_lowercase},
            },
            "data": data_description or {},
            "seed": seed,
            "model": model.get_config(),
            "training": {"batch_size": batch_size, "learning_rate": learning_rate,
                         "patience": patience, "plateau_decay": plateau_decay},
            "filter": {"max_source_length": max_source_length,
                       "max_target_length": max_target_length},
        }
        state = _new_state()
    # From here on the settings come from `meta`: a resumed run keeps its own.
    seed, settings = meta["seed"], meta["training"]
    settings["epochs"] = epochs
    initial_epoch = state["epoch"]
    if not model.compiled:
        with strategy.scope():
            model.compile(optimizer=Adam(settings["learning_rate"], clipnorm=1.0))
    if "learning_rate" in state:  # lowered on a plateau before the checkpoint
        model.optimizer.learning_rate.assign(state["learning_rate"])
    if strategy.num_replicas_in_sync > 1:
        log(f"Training on {describe(strategy)}, {settings['batch_size']} pairs per global batch"
            + ("." if chief else "; this worker does not write the model directory."))

    source_tokenizer = Tokenizer(source_vocab, **meta["tokenizer"]["source"])
    target_tokenizer = Tokenizer(target_vocab, **meta["tokenizer"]["target"])

    def prepare(pairs, name):
        """Tokenized and filtered pairs of one split, with what was dropped, logged."""
        kept_sources, kept_targets, split_report = filter_examples(
            _tokenize(source_tokenizer, [s for s, _ in pairs]),
            _tokenize(target_tokenizer, [t for _, t in pairs]),
            meta["filter"]["max_source_length"], meta["filter"]["max_target_length"],
        )
        log(f"{name} data: {split_report}.")
        if not kept_sources:
            raise ValueError(
                f"Every {name.lower()} pair was filtered out ({split_report}): raise "
                "--max-source-length or --max-target-length, or check the data."
            )
        return kept_sources, kept_targets, split_report

    sources, targets, report = prepare(train_pairs, "Training")
    dev_sources, dev_targets, dev_report = prepare(dev_pairs, "Dev")
    meta["filter"].update(train=vars(report), dev=vars(dev_report))
    meta["max_decode_length"] = max(len(t) for t in targets) + 10
    trained = TrainedModel(model, source_vocab, target_vocab, meta)
    if chief:
        trained.save_files(out_dir)

    plan = BatchPlan(sources, targets, settings["batch_size"], shuffle=True, seed=seed)
    dev_plan = BatchPlan(dev_sources, dev_targets, settings["batch_size"], shuffle=False)
    checkpoints = _EpochCheckpoints(out_dir, state, settings["patience"], write=chief,
                                    plateau_decay=settings.get("plateau_decay"))
    clock = _TrainClock()
    callbacks = [_ReseedEachEpoch(seed), clock, checkpoints]
    budget = None
    if max_minutes is not None:
        budget = _TimeBudget(max_minutes * 60.0, strategy)
        callbacks.append(budget)
    if tensorboard and chief:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(out_dir, "logs")))
    if initial_epoch < epochs:
        model.fit(
            plan.dataset(initial_epoch, endless=True),
            validation_data=dev_plan.dataset(),
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=len(plan),
            callbacks=callbacks,
            shuffle=False,  # the plan shuffles
            verbose=verbose,
        )
    if checkpoints.failure:
        raise TrainingError(checkpoints.failure)
    if state["epoch"] == 0:
        raise TrainingError("No epoch finished (was the time budget too small?).")
    if settings["patience"] and state["best_epoch"] != state["epoch"]:
        best = list_checkpoints(out_dir)[state["best_epoch"]]
        model.load_weights(os.path.join(best, MODEL_FILE))
        log(f"Kept the weights of epoch {state['best_epoch']} (best dev loss).")

    tokens = count_target_tokens(targets)
    meta["status"] = "trained"
    meta["training"].update(
        epochs_completed=state["epoch"],
        best_epoch=state["best_epoch"],
        stopped_by_time_budget=bool(budget and budget.hit),
        train_seconds_this_run=round(clock.seconds, 1),
        target_tokens_per_second=(
            round(clock.batches / len(plan) * tokens / clock.seconds, 1) if clock.seconds else None
        ),
    )
    if chief:
        save_keras_model(model, os.path.join(out_dir, MODEL_FILE))
        write_json(os.path.join(out_dir, HISTORY_FILE), state["history"])
        trained.save_files(out_dir)
    return trained


def train_task(task, out_dir, model_config=None, *, train_size=10000, dev_size=500,
               test_size=1000, seed=0, **options):
    """`train()` on a built-in task (an object or a name), at the task's tokenizer level.

    Example:
    >>> trained = train_task("dates", "runs/dates", {"attention": "bahdanau"}, epochs=5)
    """
    if isinstance(task, str):
        task = get_task(task)
    description = task_description(task, train_size, dev_size, test_size, seed)
    train_pairs, dev_pairs, _ = task_splits(description)
    options.setdefault("source_level", task.level)
    options.setdefault("target_level", task.level)
    return train(train_pairs, dev_pairs, out_dir, model_config, seed=seed,
                 data_description=description, **options)


__all__ = ["TrainingError", "list_checkpoints", "train", "train_task"]
