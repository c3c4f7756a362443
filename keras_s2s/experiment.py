"""Train a model on a built-in task, save it as a model directory, load and evaluate it.

A model directory holds:
- `model.keras`: the trained `Seq2Seq`;
- `source_vocab.txt`, `target_vocab.txt`: the vocabularies;
- `s2s.json`: what is needed to use and re-evaluate the model (task, data sizes,
  seed, model config, decoding limits);
- `history.json`: the Keras training history.
It is written to a temporary directory and renamed into place when complete.
"""

import json
import os
import time

import keras
import numpy as np

from keras_s2s.data.padding import pad_ids
from keras_s2s.data.pipeline import count_tokens, encode_pairs, make_dataset
from keras_s2s.models.seq2seq import Seq2Seq
from keras_s2s.tasks import get_task
from keras_s2s.text.vocabulary import END_ID, START_ID, Vocabulary
from keras_s2s.utils.atomic import atomic_directory, write_json

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
META_FILE = "s2s.json"
SOURCE_VOCAB_FILE = "source_vocab.txt"
TARGET_VOCAB_FILE = "target_vocab.txt"
HISTORY_FILE = "history.json"


class TrainedModel:
    """A model with its vocabularies and metadata, as saved in a model directory.

    Example:
    >>> trained = TrainedModel.load("runs/reverse")
    >>> trained.translate([["a", "b", "c"]])
    [['c', 'b', 'a']]
    """

    def __init__(self, model, source_vocab, target_vocab, meta):
        self.model = model
        self.source_vocab = source_vocab
        self.target_vocab = target_vocab
        self.meta = meta
        self._inference = None

    @property
    def inference(self):
        """The stepwise inference model (built on first use)."""
        if self._inference is None:
            self._inference = self.model.inference()
        return self._inference

    @property
    def max_decode_length(self):
        return self.meta["max_decode_length"]

    def save(self, path, history=None):
        """Writes the model directory atomically."""
        with atomic_directory(path) as tmp:
            self.model.save(os.path.join(tmp, MODEL_FILE))
            self.source_vocab.save(os.path.join(tmp, SOURCE_VOCAB_FILE))
            self.target_vocab.save(os.path.join(tmp, TARGET_VOCAB_FILE))
            write_json(os.path.join(tmp, META_FILE), self.meta)
            if history is not None:
                write_json(os.path.join(tmp, HISTORY_FILE), history)

    @classmethod
    def load(cls, path):
        """Reads a model directory written by `save()` / `train_on_task()`."""
        if not os.path.isdir(path):
            raise FileNotFoundError(
                f"Model directory {path} does not exist; train one with "
                "`keras-s2s train --out DIR`."
            )
        meta_path = os.path.join(path, META_FILE)
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{path} is not a keras_s2s model directory: {META_FILE} is missing."
            ) from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{meta_path} is not valid JSON ({e}).") from None
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"{path} was written by a newer keras_s2s (format "
                f"{meta['format_version']}, this one reads {FORMAT_VERSION}); upgrade."
            )
        model = keras.saving.load_model(os.path.join(path, MODEL_FILE))
        source_vocab = Vocabulary.load(os.path.join(path, SOURCE_VOCAB_FILE))
        target_vocab = Vocabulary.load(os.path.join(path, TARGET_VOCAB_FILE))
        for side, vocab, size in (
            ("source", source_vocab, model.source_vocab_size),
            ("target", target_vocab, model.target_vocab_size),
        ):
            if len(vocab) != size:
                raise ValueError(
                    f"The {side} vocabulary of {path} has {len(vocab)} tokens but the "
                    f"model expects {size}: the files do not belong together."
                )
        return cls(model, source_vocab, target_vocab, meta)

    def decode(self, sources, *, beam_size=1, length_penalty=0.0, batch_size=256):
        """Decodes token lists; returns one `Hypothesis` (the best) per source."""
        results = []
        for start in range(0, len(sources), batch_size):
            ids = pad_ids(self.source_vocab.encode(s) for s in sources[start:start + batch_size])
            if beam_size == 1:
                results.extend(self.inference.greedy(
                    ids, start_id=START_ID, end_id=END_ID, max_length=self.max_decode_length
                ))
            else:
                results.extend(best for best, *_ in self.inference.beam(
                    ids, start_id=START_ID, end_id=END_ID, max_length=self.max_decode_length,
                    beam_size=beam_size, length_penalty=length_penalty,
                ))
        return results

    def translate(self, sources, **kwargs):
        """Token lists in, token lists out (see `decode()` for the options)."""
        return [self.target_vocab.decode(h.tokens) for h in self.decode(sources, **kwargs)]


def build_task(meta_task):
    options = {k: v for k, v in meta_task.items() if k != "name"}
    return get_task(meta_task["name"], **options)


def train_on_task(
    task,
    out_dir,
    model_config=None,
    *,
    epochs=10,
    batch_size=64,
    learning_rate=1e-3,
    train_size=10000,
    dev_size=500,
    test_size=1000,
    seed=0,
    verbose=1,
):
    """Trains a `Seq2Seq` on a built-in task and saves a model directory.

    Args:
        task: a task object (e.g. `SymbolTask`) or a task name.
        out_dir: the model directory to write (replaced atomically if it exists).
        model_config: `Seq2Seq` arguments other than the vocabulary sizes.
        epochs, batch_size, learning_rate: training settings (Adam).
        train_size, dev_size, test_size: generated examples per split.
        seed: seeds the data, the weights and the shuffling.
        verbose: Keras `fit` verbosity.

    Returns:
        The `TrainedModel`.
    """
    if isinstance(task, str):
        task = get_task(task)
    keras.utils.set_random_seed(seed)
    train, dev, _ = task.splits(train_size, dev_size, test_size, seed=seed)
    source_vocab, target_vocab = task.source_vocabulary(), task.target_vocabulary()
    model = Seq2Seq(len(source_vocab), len(target_vocab), **(model_config or {}))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0))
    train_ds = make_dataset(*encode_pairs(train, source_vocab, target_vocab), batch_size,
                            shuffle=True, seed=seed)
    dev_ds = make_dataset(*encode_pairs(dev, source_vocab, target_vocab), batch_size)
    started = time.perf_counter()
    history = model.fit(train_ds, validation_data=dev_ds, epochs=epochs, shuffle=False,
                        verbose=verbose)
    seconds = time.perf_counter() - started
    max_target = max(len(t) for _, t in train)
    meta = {
        "format_version": FORMAT_VERSION,
        "task": task.get_config(),
        "data": {"train_size": train_size, "dev_size": dev_size, "test_size": test_size,
                 "seed": seed},
        "model": model.get_config(),
        "training": {
            "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
            "seconds": round(seconds, 1),
            "target_tokens_per_second": round(
                epochs * count_tokens([t for _, t in train]) / seconds, 1),
        },
        "max_decode_length": max_target + 5,
    }
    trained = TrainedModel(model, source_vocab, target_vocab, meta)
    trained.save(out_dir, history={k: [float(v) for v in vs] for k, vs in history.history.items()})
    return trained


def length_buckets(lengths, count=4):
    """Splits `1..max(lengths)` into `count` equal ranges: `[(lo, hi), ...]`."""
    top = max(lengths)
    edges = np.linspace(0, top, count + 1).round().astype(int)
    ranges = [(lo + 1, hi) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
    return ranges


def evaluate(trained, pairs=None, *, beam_size=1, length_penalty=0.0):
    """Decodes held-out pairs and scores them.

    Args:
        trained: a `TrainedModel`.
        pairs: `(source_tokens, target_tokens)` pairs; by default the test split of
            the task the model was trained on, regenerated from its metadata.
        beam_size: 1 for greedy search, more for beam search.

    Returns:
        A dict with `exact_match` (share of outputs equal to the reference), `n`,
        `token_accuracy` (share of reference positions predicted right),
        `by_source_length` (the same per source-length range), `decoding` and `task`.
    """
    meta = trained.meta
    if pairs is None:
        data = meta["data"]
        _, _, pairs = build_task(meta["task"]).splits(
            0, data["dev_size"], data["test_size"], seed=data["seed"]
        )
    sources = [s for s, _ in pairs]
    outputs = trained.translate(sources, beam_size=beam_size, length_penalty=length_penalty)

    def scores(indices):
        exact = [outputs[i] == pairs[i][1] for i in indices]
        right = sum(
            sum(a == b for a, b in zip(outputs[i], pairs[i][1])) for i in indices
        )
        total = sum(len(pairs[i][1]) for i in indices)
        return {
            "exact_match": round(float(np.mean(exact)), 4) if exact else None,
            "token_accuracy": round(right / total, 4) if total else None,
            "n": len(indices),
        }

    lengths = [len(s) for s in sources]
    result = scores(range(len(pairs)))
    result["by_source_length"] = {
        f"{lo}-{hi}": scores([i for i, n in enumerate(lengths) if lo <= n <= hi])
        for lo, hi in length_buckets(lengths)
    }
    result["decoding"] = "greedy" if beam_size == 1 else f"beam{beam_size}"
    result["task"] = meta["task"]["name"]
    return result
