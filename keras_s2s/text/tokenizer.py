"""Tokenization in-graph with tensorflow-text, and vocabulary learning.

The rules (standardization, the three levels, `##` continuations) are documented in
`keras_s2s.text.pytokenizer`, the pure-Python twin used on devices.
"""

import collections

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib

from keras_s2s.text.pytokenizer import CONTINUATION, MAX_BYTES_PER_WORD, check_level
from keras_s2s.text.vocabulary import END_ID, SPECIALS, UNK, UNK_ID, Vocabulary

_SPLIT_CLASS = r"[\p{P}\p{S}]"


def standardize(texts, lowercase=False):
    """Standardizes a string tensor of any shape (see `pytokenizer.standardize`)."""
    texts = tf_text.normalize_utf8(texts, "NFKC")
    texts = tf.strings.regex_replace(texts, r"\p{Cf}", "")
    texts = tf.strings.regex_replace(texts, r"[\p{Cc}\p{Z}]+", " ")
    texts = tf.strings.regex_replace(texts, r"^ | $", "")
    if lowercase:
        # After the control characters are gone: tf.strings.lower stops at a NUL.
        texts = tf_text.normalize_utf8(tf.strings.lower(texts, encoding="utf-8"), "NFKC")
    return texts


def split_words(texts):
    """Word tokens of a 1-D batch of standardized strings: a `(batch, (tokens))` ragged."""
    tokens, begins, ends = tf_text.regex_split_with_offsets(
        texts, delim_regex_pattern=f" |{_SPLIT_CLASS}", keep_delim_regex_pattern=_SPLIT_CLASS
    )
    # A token is glued to the previous one when it starts where that one ended. The first
    # token of a row starts at 0 (standardized text has no leading space) and every
    # previous end is above 0, so rows never glue to each other.
    previous_ends = tf.concat([[-1], ends.flat_values[:-1]], axis=0)
    glued = tf.equal(begins.flat_values, previous_ends)
    flat = tokens.flat_values
    return tokens.with_flat_values(
        tf.where(glued, tf.strings.join([CONTINUATION, flat]), flat)
    )


def split(texts, level="word", lowercase=False):
    """Standardizes and splits a 1-D string tensor into `(batch, (tokens))` strings."""
    texts = standardize(texts, lowercase)
    if level == "char":
        return tf.strings.unicode_split(texts, "UTF-8")
    return split_words(texts)


class Tokenizer:
    """Text <-> ids with tensorflow-text ops, for training pipelines and SavedModels.

    Args:
        vocab: the `Vocabulary` (ids 0-3 are `<pad>`, `<s>`, `</s>`, `<unk>`).
        level: `"char"`, `"word"` or `"subword"` (WordPiece over word tokens).
        lowercase: lower-case during standardization.

    Example:
    >>> vocab = learn_vocabulary(["Hola, mundo.", "Hola."], level="word")
    >>> tokenizer = Tokenizer(vocab, level="word")
    >>> ids = tokenizer.tokenize(["Hola, mundo."])  # a (batch, (tokens)) int32 ragged tensor
    >>> ids.to_list()
    [[5, 6, 7, 4]]
    >>> tokenizer.detokenize(ids).numpy()           # a (batch,) string tensor
    array([b'Hola, mundo.'], dtype=object)
    """

    def __init__(self, vocab, level="word", lowercase=False):
        check_level(level)
        self.vocab = vocab
        self.level = level
        self.lowercase = lowercase
        self._tokens = tf.constant(vocab.tokens)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                self._tokens, tf.range(len(vocab.tokens), dtype=tf.int64)
            ),
            default_value=UNK_ID,
        )
        self._wordpiece = None
        if level == "subword":
            self._wordpiece = tf_text.WordpieceTokenizer(
                self._table,
                suffix_indicator=CONTINUATION,
                max_bytes_per_word=MAX_BYTES_PER_WORD,
                token_out_type=tf.int64,
                unknown_token=UNK,
            )

    def tokenize(self, texts):
        """`(batch,)` strings -> `(batch, (tokens))` int32 ragged ids (no start/end)."""
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        tokens = split(texts, self.level, self.lowercase)
        if self._wordpiece is not None:
            ids = self._wordpiece.tokenize(tokens).merge_dims(1, 2)
        else:
            ids = tf.ragged.map_flat_values(self._table.lookup, tokens)
        return tf.cast(ids, tf.int32)

    def detokenize(self, ids):
        """`(batch, length)` ids (dense or ragged) -> `(batch,)` strings.

        Stops at the first end token and skips `<pad>` and `<s>`.
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(tf.convert_to_tensor(ids))
        ids = tf.cast(ids, tf.int32)
        # Keep what comes before the first end token, then drop the other specials.
        before_end = tf.equal(tf.math.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=1), 0)
        ids = tf.ragged.boolean_mask(ids, before_end & (ids > 1) | tf.equal(ids, UNK_ID) & before_end)
        tokens = tf.gather(self._tokens, ids)
        if self.level == "char":
            return tf.strings.reduce_join(tokens, axis=1)
        text = tf.strings.reduce_join(tokens, axis=1, separator=" ")
        return tf.strings.regex_replace(text, f"^{CONTINUATION}| {CONTINUATION}", "")


def _texts_batches(texts, batch_size=4096):
    texts = list(texts)
    for start in range(0, len(texts), batch_size):
        yield tf.constant(texts[start:start + batch_size], dtype=tf.string)


def count_tokens(texts, level="word", lowercase=False):
    """Counts the tokens of the texts at the char or word level (a `Counter`)."""
    counts = collections.Counter()
    for batch in _texts_batches(texts):
        flat = split(batch, "char" if level == "char" else "word", lowercase).flat_values
        values, _, batch_counts = tf.unique_with_counts(flat)
        counts.update(dict(zip(
            (v.decode("utf-8") for v in values.numpy().tolist()), batch_counts.numpy().tolist()
        )))
    return counts


def learn_vocabulary(texts, level="word", max_size=8000, lowercase=False, min_count=1):
    """Learns a `Vocabulary` from training texts.

    - `char` and `word`: the `max_size - 4` most frequent tokens seen at least
      `min_count` times (ties broken alphabetically, so the result is reproducible);
    - `subword`: WordPiece learned with tensorflow-text's own learner
      (`wordpiece_tokenizer_learner_lib.learn`) from the word tokens, at most `max_size`
      entries with the special tokens, of which at most a quarter are distinct single
      characters (each also as `##x`); rarer characters become `<unk>`.

    Args:
        texts: training texts (an iterable of `str`).
        level: `"char"`, `"word"` or `"subword"`.
        max_size: the largest vocabulary, special tokens included.
        lowercase: lower-case during standardization (as the tokenizer will).
        min_count: (char, word) drop rarer tokens.
    """
    check_level(level)
    if max_size <= len(SPECIALS):
        raise ValueError(f"max_size must be more than {len(SPECIALS)} (the special tokens).")
    counts = count_tokens(texts, level, lowercase)
    if not counts:
        raise ValueError("Cannot learn a vocabulary from texts without tokens.")
    if level != "subword":
        ranked = sorted(
            (item for item in counts.items() if item[1] >= min_count and item[0] not in SPECIALS),
            key=lambda item: (-item[1], item[0]),
        )
        return Vocabulary([token for token, _ in ranked[: max_size - len(SPECIALS)]])
    # WordPiece learns from whole words; a glued word counts as the word itself.
    words = collections.Counter()
    for token, count in counts.items():
        words[token[len(CONTINUATION):] if token.startswith(CONTINUATION) else token] += count
    # The learner keeps every character it allows twice (`x` and `##x`) besides what it
    # learns, and may overshoot the size it is asked for: allow at most a quarter of the
    # vocabulary as distinct characters, then cut the least frequent learned pieces (the
    # learner lists specials, then characters, then pieces by falling count).
    learned = wordpiece_tokenizer_learner_lib.learn(
        sorted(words.items()), max_size, list(SPECIALS), lower_thresh=1,
        max_unique_chars=max(1, min(1000, (max_size - len(SPECIALS)) // 4)),
    )
    tokens = [token for token in learned if token not in SPECIALS]
    return Vocabulary(tokens[: max_size - len(SPECIALS)])
