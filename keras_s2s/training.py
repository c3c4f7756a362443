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

from keras_s2s.config import TrainingConfig
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


def train(train_pairs, dev_pairs, out_dir, model_config=None, config=None, *, resume=False,
          overwrite=False, data_description=None, log=print, **options):
    """Trains a `Seq2Seq` on `(source, target)` text pairs into a model directory.

    Args:
        train_pairs, dev_pairs: lists of `(source_text, target_text)`.
        out_dir: the model directory.
        model_config: `Seq2Seq` arguments other than the vocabulary sizes (default:
            `keras_s2s.config.ARCHITECTURE_DEFAULTS`).
        config: a `keras_s2s.config.TrainingConfig` (default: its defaults, which train
            to convergence with early stopping).
        resume: continue the training of `out_dir` from its last checkpoint, with the
            tokenizers, model and settings it was started with (only `epochs`, the
            data, `max_minutes` and how to run: `verbose`, `tensorboard`, `strategy`
            are taken from this call).
        overwrite: replace an existing `out_dir` instead of refusing.
        data_description: where the data came from, recorded in `s2s.json`.
        log: where progress messages go.
        **options: `TrainingConfig` fields replacing those of `config`, e.g.
            `epochs=5, patience=0`.

    With several workers (`strategy="multiworker"`) only the chief writes `out_dir`,
    and the others read it to resume, so it must be on storage they all reach.

    Returns:
        The `TrainedModel`.
    """
    config = TrainingConfig.from_options(config, **options)
    if not train_pairs:
        raise ValueError("No training pairs.")
    if not dev_pairs:
        raise ValueError("No dev pairs: give a dev set (it drives early stopping).")
    strategy = get_strategy(config.strategy)
    chief = is_chief(strategy)
    _prepare_directory(out_dir, resume, overwrite, chief)

    if resume:
        with strategy.scope():
            meta, source_vocab, target_vocab, model, state = _restore(out_dir, log)
    else:
        meta, source_vocab, target_vocab, model = _start(
            train_pairs, model_config, config, data_description, strategy, log)
        state = _new_state()
    # From here on the settings come from `meta`: a resumed run keeps its own.
    meta["training"]["epochs"] = config.epochs
    _compile(model, meta["training"], state, strategy)
    if strategy.num_replicas_in_sync > 1:
        log(f"Training on {describe(strategy)}, {meta['training']['batch_size']} pairs per "
            "global batch" + ("." if chief else "; this worker does not write the model directory."))

    (sources, targets), (dev_sources, dev_targets) = _tokenized_splits(
        meta, source_vocab, target_vocab, train_pairs, dev_pairs, log)
    meta["max_decode_length"] = max(len(t) for t in targets) + 10
    trained = TrainedModel(model, source_vocab, target_vocab, meta)
    if chief:
        trained.save_files(out_dir)

    plan = BatchPlan(sources, targets, meta["training"]["batch_size"], shuffle=True,
                     seed=meta["seed"])
    dev_plan = BatchPlan(dev_sources, dev_targets, meta["training"]["batch_size"], shuffle=False)
    loop = _TrainingLoop(out_dir, meta, state, config, strategy, chief)
    if state["epoch"] < config.epochs:
        model.fit(
            plan.dataset(state["epoch"], endless=True),
            validation_data=dev_plan.dataset(),
            epochs=config.epochs,
            initial_epoch=state["epoch"],
            steps_per_epoch=len(plan),
            callbacks=loop.callbacks,
            shuffle=False,  # the plan shuffles
            verbose=config.verbose,
        )
    loop.finish(model, log)
    _record_run(meta, state, loop, count_target_tokens(targets), len(plan))
    if chief:
        save_keras_model(model, os.path.join(out_dir, MODEL_FILE))
        write_json(os.path.join(out_dir, HISTORY_FILE), state["history"])
        trained.save_files(out_dir)
    return trained


def _prepare_directory(out_dir, resume, overwrite, chief):
    """Checks that `out_dir` can be resumed, or clears it for a new run (`overwrite`)."""
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


def _start(train_pairs, model_config, config, data_description, strategy, log):
    """A new run: vocabularies learnt from the training pairs, a new model, and the
    `meta` (`s2s.json`) that records how it is trained."""
    keras.utils.set_random_seed(config.seed)
    log(f"Learning vocabularies from {len(train_pairs)} training pairs...")
    source_lowercase, target_lowercase = config.lowercase_by_side
    source_vocab = learn_vocabulary(
        [s for s, _ in train_pairs], config.source_level, config.source_vocab_size,
        source_lowercase)
    target_vocab = learn_vocabulary(
        [t for _, t in train_pairs], config.target_level, config.target_vocab_size,
        target_lowercase)
    log(f"Vocabularies: {len(source_vocab)} source and {len(target_vocab)} target tokens.")
    with strategy.scope():
        model = Seq2Seq(len(source_vocab), len(target_vocab), **(model_config or {}))
    meta = {
        "format_version": FORMAT_VERSION,
        "status": "training",
        "tokenizer": {
            "source": {"level": config.source_level, "lowercase": source_lowercase},
            "target": {"level": config.target_level, "lowercase": target_lowercase},
        },
        "data": data_description or {},
        "seed": config.seed,
        "model": model.get_config(),
        "training": {"batch_size": config.batch_size, "learning_rate": config.learning_rate,
                     "patience": config.patience, "plateau_decay": config.plateau_decay},
        "filter": {"max_source_length": config.max_source_length,
                   "max_target_length": config.max_target_length},
    }
    return meta, source_vocab, target_vocab, model


def _compile(model, settings, state, strategy):
    """Adam with gradient clipping, at the learning rate the run is at."""
    if not model.compiled:
        with strategy.scope():
            model.compile(optimizer=Adam(settings["learning_rate"], clipnorm=1.0))
    if "learning_rate" in state:  # lowered on a plateau before the checkpoint
        model.optimizer.learning_rate.assign(state["learning_rate"])


def _tokenized_splits(meta, source_vocab, target_vocab, train_pairs, dev_pairs, log):
    """`((sources, targets), (dev_sources, dev_targets))` as token ids, the pairs over
    the length limits dropped (what was dropped is logged and recorded in `meta`)."""
    source_tokenizer = Tokenizer(source_vocab, **meta["tokenizer"]["source"])
    target_tokenizer = Tokenizer(target_vocab, **meta["tokenizer"]["target"])
    limits = meta["filter"]["max_source_length"], meta["filter"]["max_target_length"]
    splits, reports = [], {}
    for pairs, name in ((train_pairs, "Training"), (dev_pairs, "Dev")):
        sources, targets, report = filter_examples(
            _tokenize(source_tokenizer, [s for s, _ in pairs]),
            _tokenize(target_tokenizer, [t for _, t in pairs]), *limits)
        log(f"{name} data: {report}.")
        if not sources:
            raise ValueError(
                f"Every {name.lower()} pair was filtered out ({report}): raise "
                "--max-source-length or --max-target-length, or check the data."
            )
        splits.append((sources, targets))
        reports["train" if name == "Training" else "dev"] = vars(report)
    meta["filter"].update(reports)
    return splits


class _TrainingLoop:
    """The callbacks of one `fit` (reseeding, the clock, checkpoints and early stopping,
    the time budget, TensorBoard) and what is done once it returns."""

    def __init__(self, out_dir, meta, state, config, strategy, chief):
        settings = meta["training"]
        self.out_dir, self.state = out_dir, state
        self.patience = settings["patience"]
        self.clock = _TrainClock()
        self.checkpoints = _EpochCheckpoints(out_dir, state, settings["patience"], write=chief,
                                             plateau_decay=settings.get("plateau_decay"))
        self.callbacks = [_ReseedEachEpoch(meta["seed"]), self.clock, self.checkpoints]
        self.budget = None
        if config.max_minutes is not None:
            self.budget = _TimeBudget(config.max_minutes * 60.0, strategy)
            self.callbacks.append(self.budget)
        if config.tensorboard and chief:
            self.callbacks.append(keras.callbacks.TensorBoard(os.path.join(out_dir, "logs")))

    def finish(self, model, log):
        """Raises what stopped training for good; with early stopping, puts the best
        epoch's weights back into `model`."""
        state = self.state
        if self.checkpoints.failure:
            raise TrainingError(self.checkpoints.failure)
        if state["epoch"] == 0:
            raise TrainingError("No epoch finished (was the time budget too small?).")
        if self.patience and state["best_epoch"] != state["epoch"]:
            best = list_checkpoints(self.out_dir)[state["best_epoch"]]
            model.load_weights(os.path.join(best, MODEL_FILE))
            log(f"Kept the weights of epoch {state['best_epoch']} (best dev loss).")


def _record_run(meta, state, loop, target_tokens, batches_per_epoch):
    """What the run did, in `meta["training"]`: epochs, the best one, time and speed."""
    clock = loop.clock
    meta["status"] = "trained"
    meta["training"].update(
        epochs_completed=state["epoch"],
        best_epoch=state["best_epoch"],
        stopped_by_time_budget=bool(loop.budget and loop.budget.hit),
        train_seconds_this_run=round(clock.seconds, 1),
        target_tokens_per_second=(
            round(clock.batches / batches_per_epoch * target_tokens / clock.seconds, 1)
            if clock.seconds else None
        ),
    )


def train_task(task, out_dir, model_config=None, *, train_size=10000, dev_size=500,
               test_size=1000, seed=0, **options):
    """`train()` on a built-in task (an object or a name), at the task's tokenizer level.

    Example:
    >>> import tempfile
    >>> trained = train_task("reverse", tempfile.mkdtemp(), {"units": 8}, train_size=64,
    ...                      dev_size=16, epochs=2, verbose=0, log=lambda message: None)
    >>> trained.meta["training"]["epochs_completed"], trained.meta["tokenizer"]["source"]
    (2, {'level': 'word', 'lowercase': False})
    """
    if isinstance(task, str):
        task = get_task(task)
    description = task_description(task, train_size, dev_size, test_size, seed)
    train_pairs, dev_pairs, _ = task_splits(description)
    if options.get("config") is None:  # the task's level, unless a config says otherwise
        options.setdefault("source_level", task.level)
        options.setdefault("target_level", task.level)
    return train(train_pairs, dev_pairs, out_dir, model_config, seed=seed,
                 data_description=description, **options)


__all__ = ["TrainingConfig", "TrainingError", "list_checkpoints", "train", "train_task"]
