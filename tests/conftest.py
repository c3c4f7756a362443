"""Shared helpers and fixtures of the keras_s2s tests.

TensorFlow and Keras are imported lazily (inside the helpers), so the numpy-only tests
of `keras_s2s.decoding` never load them.
"""

import os
import re
import types
from pathlib import Path

# Quiet TensorFlow's C++ logging; must happen before anything imports TensorFlow.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
# TensorFlow unless a run asks for another Keras backend (tests/models/test_backends.py runs
# the layer and model tests again with KERAS_BACKEND=jax).
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest
from hypothesis import settings

# The repository, and the shared corpora beside it (`../shared/data`).
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

# Tiny sizes: correctness does not need big models.
VOCAB = 20
EMBEDDING_DIM = 8
UNITS = 8
PAD_ID, START_ID, END_ID = 0, 1, 2
# First ordinary token id (0, 1, 2 are pad, start and end).
FIRST_TOKEN = 3


def build_seq2seq(seed=0, weight_scale=0.3, **overrides):
    """A tiny `Seq2Seq` with reproducible, deliberately non-tiny weights.

    Keras' default initializers give near-zero embeddings, hence near-zero scores and
    almost uniform attention, which would hide attention bugs; every weight is redrawn
    from `N(0, weight_scale)` so the attention weights differ between positions.
    """
    import keras

    from keras_s2s.models import Seq2Seq

    keras.utils.set_random_seed(seed)
    kwargs = dict(
        source_vocab_size=VOCAB,
        target_vocab_size=VOCAB,
        embedding_dim=EMBEDDING_DIM,
        units=UNITS,
    )
    kwargs.update(overrides)
    model = Seq2Seq(**kwargs)
    if weight_scale:
        randomize_weights(model, np.random.default_rng(seed), weight_scale)
    return model


def randomize_weights(model, rng, scale):
    """Assigns `N(0, scale)` values to every weight of a model."""
    for variable in model.weights:
        variable.assign(rng.normal(0.0, scale, size=tuple(variable.shape)).astype("float32"))


def make_sources(lengths, width=None, seed=0):
    """`(len(lengths), width)` int32 source ids: random real tokens, then padding."""
    rng = np.random.default_rng(seed)
    width = width or max(lengths)
    sources = np.zeros((len(lengths), width), dtype=np.int32)
    for row, length in enumerate(lengths):
        sources[row, :length] = rng.integers(FIRST_TOKEN, VOCAB, size=length)
    return sources


def make_targets(batch, length, seed=1):
    """`(batch, length)` teacher-forcing inputs: the start token, then random tokens."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(FIRST_TOKEN, VOCAB, size=(batch, length)).astype(np.int32)
    targets[:, 0] = START_ID
    return targets


def training_logits(model, sources, targets):
    """The training model's `(batch, tgt_len, vocab)` logits as numpy."""
    outputs = model({"source_ids": sources, "target_ids": targets}, training=False)
    return np.asarray(outputs)


def stepwise_logits(inference, sources, targets):
    """Feeds the gold prefix one token at a time through a `Seq2SeqInference`.

    Returns `(logits, attention)`: `(batch, tgt_len, vocab)` and
    `(batch, tgt_len, src_len)` (`None` for a model without attention).
    """
    state, memory = inference.encode(sources)
    logits, attention = [], []
    for t in range(targets.shape[1]):
        step_logits, state, weights = inference.decode_step(targets[:, t], state, memory)
        logits.append(step_logits)
        attention.append(weights)
    has_attention = attention[0] is not None
    return np.stack(logits, axis=1), (np.stack(attention, axis=1) if has_attention else None)


@pytest.fixture
def s2s():
    """The helpers and tiny sizes above, as one namespace."""
    return types.SimpleNamespace(
        VOCAB=VOCAB,
        EMBEDDING_DIM=EMBEDDING_DIM,
        UNITS=UNITS,
        PAD_ID=PAD_ID,
        START_ID=START_ID,
        END_ID=END_ID,
        FIRST_TOKEN=FIRST_TOKEN,
        build=build_seq2seq,
        randomize_weights=randomize_weights,
        sources=make_sources,
        targets=make_targets,
        training_logits=training_logits,
        stepwise=stepwise_logits,
    )


@pytest.fixture
def rng():
    """A fresh, seeded numpy generator per test."""
    return np.random.default_rng(1234)


# Hypothesis (tests/test_fuzz.py): the same examples on every run, so CI is reproducible;
# no deadline, since the first TensorFlow call of a test takes seconds.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100,
                          print_blob=True)
settings.load_profile("ci")


# test_export.py's architecture grid: the tests of one variant (its ids start with the
# cell), which share that variant's TFLite and ONNX conversions.
_GRID_VARIANT = re.compile(r"\[((?:gru|lstm)-[^\]]*)\]$")


def scheduling_scope(nodeid):
    """The unit pytest-xdist hands a worker (`scripts/test.sh`: `-n 2 --dist loadfile`):
    a test file, so its module fixtures (trained models, exported bundles) are built
    once; but test_export.py's grid one variant at a time, so the two workers share
    the conversions out (the whole grid is about half of the suite's CPU time)."""
    path = nodeid.split("::", 1)[0]
    variant = _GRID_VARIANT.search(nodeid)
    if path.endswith("test_export.py") and variant:
        return f"{path}[{variant.group(1)}]"
    return path


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` with `scheduling_scope` as the unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FileOrGridVariant(LoadFileScheduling):
        def _split_scope(self, nodeid):
            return scheduling_scope(nodeid)

    return FileOrGridVariant(config, log)
