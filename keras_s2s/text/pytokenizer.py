"""The tokenizer in pure Python (no TensorFlow), for the on-device runtime.

It is the twin of `keras_s2s.text.tokenizer.Tokenizer`, which does the same in-graph
with tensorflow-text; tests check that both give identical ids on whole corpora and on
awkward Unicode. The rules, shared by both:

Standardization
1. Unicode NFKC normalization;
2. format characters (Unicode category Cf: zero-width spaces and joiners, BOM, bidi
   marks) are removed;
3. control characters (Cc: tabs, newlines, NUL, ...) and separators (Z*: spaces of
   every width) become one space; runs of spaces collapse; leading and trailing
   spaces go;
4. with `lowercase`, lower-casing (Unicode full case mapping, as ICU's) and NFKC again.

Splitting (levels)
- `char`: every character is a token, the space included;
- `word`: text splits at spaces; inside each space-separated chunk, every punctuation
  or symbol character (categories P*, S*) is a token of its own and the runs between
  them are tokens. A token that is glued to the previous one (no space between them)
  is written with the prefix `##`: `"Don't go!"` -> `Don ##' ##t go ##!`;
- `subword`: word tokens split further by WordPiece (greedy longest match against the
  vocabulary; pieces after the first carry `##`, so a whole word can be one token or
  several).
Detokenization joins tokens with spaces and removes the space before every `##`, so
`detokenize(split(x)) == standardize(x)`.

Parity holds for every character of Unicode 14.0 (Python 3.11's database), checked
code point by code point. Characters assigned later are known to TensorFlow's ICU and
RE2 but not to Python, and about 260 of them (NFKC, case and category changes) can
tokenize differently.
"""

import unicodedata

from keras_s2s.text.vocabulary import UNK, UNK_ID

LEVELS = ("char", "word", "subword")
CONTINUATION = "##"
MAX_BYTES_PER_WORD = 100  # WordPiece: longer words become <unk> (tensorflow-text's default)


# Characters of Unicode 14.0 that tf.strings.lower (ICU in TensorFlow 2.21) leaves as
# they are, found by tests/test_tokenizer.py::test_every_assigned_code_point: Glagolitic
# U+2C2F, Latin U+A7C0 U+A7D0 U+A7D6 U+A7D8 and the Vithkuqi capitals.
_KEEP_CASE = frozenset(
    [0x2C2F, 0xA7C0, 0xA7D0, 0xA7D6, 0xA7D8, 0x10594, 0x10595]
    + list(range(0x10570, 0x1057B)) + list(range(0x1057C, 0x1058B))
    + list(range(0x1058C, 0x10593))
)


def _lower(text):
    if any(ord(c) in _KEEP_CASE for c in text):
        return "".join(c if ord(c) in _KEEP_CASE else c.lower() for c in text)
    return text.lower()


def check_level(level):
    """Refuses an unknown tokenizer level with the list of the known ones."""
    if level not in LEVELS:
        raise ValueError(f"Unknown tokenizer level {level!r}: use one of {', '.join(LEVELS)}.")


def standardize(text, lowercase=False):
    """Applies the standardization rules above to one string."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        out.append(" " if category == "Cc" or category[0] == "Z" else char)
    text = " ".join(part for part in "".join(out).split(" ") if part)
    if lowercase:
        text = unicodedata.normalize("NFKC", _lower(text))
    return text


def _is_split_char(char):
    return unicodedata.category(char)[0] in "PS"


def split_words(text):
    """Word-level tokens of a standardized string (see the module docstring)."""
    tokens = []
    for chunk in text.split(" "):
        piece = ""
        glued = False  # whether the next token continues the chunk
        for char in chunk:
            if _is_split_char(char):
                if piece:
                    tokens.append(CONTINUATION + piece if glued else piece)
                    glued, piece = True, ""
                tokens.append(CONTINUATION + char if glued else char)
                glued = True
            else:
                piece += char
        if piece:
            tokens.append(CONTINUATION + piece if glued else piece)
    return tokens


def wordpiece(word, vocab_ids):
    """WordPiece pieces of one word token: greedy longest match, `##` on later pieces.

    A word longer than `MAX_BYTES_PER_WORD` bytes, or with a part no vocabulary entry
    matches, is one `<unk>` (as tensorflow-text's `WordpieceTokenizer` does).
    """
    if len(word.encode("utf-8")) > MAX_BYTES_PER_WORD:
        return [UNK]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end]
            if start > 0:
                piece = CONTINUATION + piece
            if piece in vocab_ids:
                break
            end -= 1
        if end == start:
            return [UNK]
        pieces.append(piece)
        start = end
    return pieces


def join_tokens(tokens, level):
    """Token strings -> text: the inverse of splitting."""
    if level == "char":
        return "".join(tokens)
    text = " ".join(tokens)
    if text.startswith(CONTINUATION):
        text = text[len(CONTINUATION):]
    return text.replace(" " + CONTINUATION, "")


class PyTokenizer:
    """Text <-> ids in pure Python, identical to the tensorflow-text `Tokenizer`.

    Args:
        vocab: the `Vocabulary` of the tokens.
        level: `"char"`, `"word"` or `"subword"`.
        lowercase: lower-case during standardization.

    Example:
    >>> tokenizer = PyTokenizer(Vocabulary.load("target_vocab.txt"), level="word")
    >>> ids = tokenizer.tokenize("Don't go!")
    >>> tokenizer.detokenize(ids)
    "Don't go!"
    """

    def __init__(self, vocab, level="word", lowercase=False):
        check_level(level)
        self.vocab = vocab
        self.level = level
        self.lowercase = lowercase
        self._ids = {token: i for i, token in enumerate(vocab.tokens)}

    def standardize(self, text):
        return standardize(text, self.lowercase)

    def split(self, text):
        """Standardized token strings of one text (before the vocabulary lookup)."""
        text = self.standardize(text)
        if self.level == "char":
            return list(text)
        words = split_words(text)
        if self.level == "word":
            return words
        return [piece for word in words for piece in wordpiece(word, self._ids)]

    def tokenize(self, text):
        """One text -> list of ids (no start or end token)."""
        return [self._ids.get(token, UNK_ID) for token in self.split(text)]

    def detokenize(self, ids):
        """Ids -> text; stops at the end token, skips padding and the start token."""
        return join_tokens(self.vocab.decode(ids), self.level)
