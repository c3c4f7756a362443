"""The defaults of a model and of its training, defined once.

`Seq2Seq` takes its argument defaults from `ARCHITECTURE_DEFAULTS`, `training.train`
takes a `TrainingConfig`, and the CLI's options default to both, so the Python API and
`keras-s2s train` build and train the same default model. Importable without TensorFlow
or Keras (the CLI's argument parser shows these values in a runtime-only install).

    >>> TrainingConfig().epochs, TrainingConfig(patience=0).patience
    (50, 0)
    >>> ARCHITECTURE_DEFAULTS["embedding_dim"]
    32
"""

import dataclasses
from typing import Optional

# `Seq2Seq`'s arguments other than the vocabulary sizes, `teacher_forcing` and `dtype`.
ARCHITECTURE_DEFAULTS = {
    "embedding_dim": 32,
    "units": 64,
    "cell": "gru",
    "bidirectional": False,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "decoder_units": None,
    "attention": "general",
    "attention_placement": "luong",
    "input_feeding": False,
    "attention_units": None,
    "bridge": "dense",
    "dropout": 0.0,
    "reverse_source": False,
}


@dataclasses.dataclass
class TrainingConfig:
    """How `keras_s2s.training.train` tokenizes the data and fits the model.

    By default training runs to convergence: it stops when the dev loss has not improved
    for `patience` epochs (keeping the best epoch) within `epochs`, and after each epoch
    without a better dev loss the learning rate is multiplied by `plateau_decay` (on a
    plateau a smaller step finds the better minimum a constant rate jumps over).

    Attributes:
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
            loss is not the best so far (`None`: a constant rate).
        seed: seeds weights, batches and dropout.
        max_minutes: stop after this much wall-clock training time.
        tensorboard: write TensorBoard logs to the model directory's `logs/`.
        strategy: `"none"`, `"mirrored"`, `"multiworker"` or a
            `tf.distribute.Strategy` (see `keras_s2s.distribute`); `batch_size` is
            the global batch.
        verbose: Keras `fit` verbosity (1: progress bars).
    """

    source_level: str = "word"
    target_level: str = "word"
    lowercase: bool = False
    source_lowercase: Optional[bool] = None
    target_lowercase: Optional[bool] = None
    source_vocab_size: int = 8000
    target_vocab_size: int = 8000
    max_source_length: int = 100
    max_target_length: int = 100
    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 3e-3
    patience: int = 3
    plateau_decay: Optional[float] = 0.5
    seed: int = 0
    max_minutes: Optional[float] = None
    tensorboard: bool = True
    strategy: object = None
    verbose: int = 1

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be positive, got {self.epochs}.")
        if self.plateau_decay is not None and not 0 < self.plateau_decay <= 1:
            raise ValueError(f"plateau_decay must be in (0, 1], got {self.plateau_decay}.")

    @classmethod
    def from_options(cls, config=None, **options):
        """`config` (default: the defaults) with `options` replacing its fields; an
        unknown option is an error that lists the known ones."""
        fields = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise TypeError(f"Unknown training option(s) {unknown}: choose from "
                            f"{', '.join(sorted(fields))}.")
        return dataclasses.replace(config or cls(), **options)

    @property
    def lowercase_by_side(self):
        """`(source, target)` lower-casing, each side defaulting to `lowercase`."""
        return (self.lowercase if self.source_lowercase is None else self.source_lowercase,
                self.lowercase if self.target_lowercase is None else self.target_lowercase)
