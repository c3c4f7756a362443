"""Text handling: vocabularies (and, later, tensorflow-text tokenizers)."""

from keras_s2s.text.vocabulary import (
    END_ID,
    PAD_ID,
    SPECIALS,
    START_ID,
    UNK_ID,
    Vocabulary,
)

__all__ = ["END_ID", "PAD_ID", "SPECIALS", "START_ID", "UNK_ID", "Vocabulary"]
