"""Text: vocabularies and tokenizers.

`Vocabulary` and `PyTokenizer` are pure Python (usable on devices); the tensorflow-text
`Tokenizer` and `learn_vocabulary` live in `keras_s2s.text.tokenizer` (they import
TensorFlow, so they are not imported here).
"""

from keras_s2s.text.pytokenizer import PyTokenizer
from keras_s2s.text.vocabulary import (
    END_ID,
    PAD_ID,
    SPECIALS,
    START_ID,
    UNK_ID,
    Vocabulary,
)

__all__ = ["END_ID", "PAD_ID", "SPECIALS", "START_ID", "UNK_ID", "PyTokenizer", "Vocabulary"]
