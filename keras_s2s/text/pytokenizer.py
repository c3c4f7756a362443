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

Parity holds for every character assigned in the Python's Unicode database (14.0 on
Python 3.11, 15.1 on 3.13), checked code point by code point on both: the characters
newer than TensorFlow's ICU (Unicode 13) keep their case as ICU leaves them, and the five
symbols Unicode 15.1 added are not split off, as TensorFlow's RE2 does not know them.
Characters Python does not know yet may tokenize differently (about 260 of those
Unicode 15.x added, on Python 3.11: NFKC, case and category changes).
"""

import unicodedata

from keras_s2s.text.vocabulary import UNK, UNK_ID

LEVELS = ("char", "word", "subword")
CONTINUATION = "##"
MAX_BYTES_PER_WORD = 100  # WordPiece: longer words become <unk> (tensorflow-text's default)


# The characters Unicode 14.0, 15.0 and 15.1 added (Python 3.11 knows the first, 3.12
# the first two, 3.13 all three), which TensorFlow 2.21's ICU (Unicode 13) does not:
# inclusive ranges, checked by tests/text/test_tokenizer.py::test_the_characters_unknown_to_icu
# on every Python CI runs. To ICU they have no case mapping and no case properties.
_NEW_SINCE_UNICODE_14 = (
    (0x061D, 0x061D), (0x0870, 0x088E), (0x0890, 0x0891), (0x0898, 0x089F),
    (0x08B5, 0x08B5), (0x08C8, 0x08D2), (0x0C3C, 0x0C3C), (0x0C5D, 0x0C5D),
    (0x0CDD, 0x0CDD), (0x0CF3, 0x0CF3), (0x0ECE, 0x0ECE), (0x170D, 0x170D),
    (0x1715, 0x1715), (0x171F, 0x171F), (0x180F, 0x180F), (0x1AC1, 0x1ACE),
    (0x1B4C, 0x1B4C), (0x1B7D, 0x1B7E), (0x1DFA, 0x1DFA), (0x20C0, 0x20C0),
    (0x2C2F, 0x2C2F), (0x2C5F, 0x2C5F), (0x2E53, 0x2E5D), (0x2FFC, 0x2FFF),
    (0x31EF, 0x31EF), (0x9FFD, 0x9FFF), (0xA7C0, 0xA7C1), (0xA7D0, 0xA7D1),
    (0xA7D3, 0xA7D3), (0xA7D5, 0xA7D9), (0xA7F2, 0xA7F4), (0xFBC2, 0xFBC2),
    (0xFD40, 0xFD4F), (0xFDCF, 0xFDCF), (0xFDFE, 0xFDFF), (0x10570, 0x1057A),
    (0x1057C, 0x1058A), (0x1058C, 0x10592), (0x10594, 0x10595), (0x10597, 0x105A1),
    (0x105A3, 0x105B1), (0x105B3, 0x105B9), (0x105BB, 0x105BC), (0x10780, 0x10785),
    (0x10787, 0x107B0), (0x107B2, 0x107BA), (0x10EFD, 0x10EFF), (0x10F70, 0x10F89),
    (0x11070, 0x11075), (0x110C2, 0x110C2), (0x1123F, 0x11241), (0x116B9, 0x116B9),
    (0x11740, 0x11746), (0x11AB0, 0x11ABF), (0x11B00, 0x11B09), (0x11F00, 0x11F10),
    (0x11F12, 0x11F3A), (0x11F3E, 0x11F59), (0x12F90, 0x12FF2), (0x1342F, 0x1342F),
    (0x13439, 0x13455), (0x16A70, 0x16ABE), (0x16AC0, 0x16AC9), (0x1AFF0, 0x1AFF3),
    (0x1AFF5, 0x1AFFB), (0x1AFFD, 0x1AFFE), (0x1B11F, 0x1B122), (0x1B132, 0x1B132),
    (0x1B155, 0x1B155), (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1CF50, 0x1CFC3),
    (0x1D1E9, 0x1D1EA), (0x1D2C0, 0x1D2D3), (0x1DF00, 0x1DF1E), (0x1DF25, 0x1DF2A),
    (0x1E030, 0x1E06D), (0x1E08F, 0x1E08F), (0x1E290, 0x1E2AE), (0x1E4D0, 0x1E4F9),
    (0x1E7E0, 0x1E7E6), (0x1E7E8, 0x1E7EB), (0x1E7ED, 0x1E7EE), (0x1E7F0, 0x1E7FE),
    (0x1F6DC, 0x1F6DF), (0x1F774, 0x1F776), (0x1F77B, 0x1F77F), (0x1F7D9, 0x1F7D9),
    (0x1F7F0, 0x1F7F0), (0x1F979, 0x1F979), (0x1F9CC, 0x1F9CC), (0x1FA75, 0x1FA77),
    (0x1FA7B, 0x1FA7C), (0x1FA87, 0x1FA88), (0x1FAA9, 0x1FAAF), (0x1FAB7, 0x1FABD),
    (0x1FABF, 0x1FABF), (0x1FAC3, 0x1FAC5), (0x1FACE, 0x1FACF), (0x1FAD7, 0x1FADB),
    (0x1FAE0, 0x1FAE8), (0x1FAF0, 0x1FAF8), (0x2A6DE, 0x2A6DF), (0x2B735, 0x2B739),
    (0x2EBF0, 0x2EE5D), (0x31350, 0x323AF),
)
_UNKNOWN_TO_ICU = frozenset(
    c for first, last in _NEW_SINCE_UNICODE_14 for c in range(first, last + 1))
# Symbols Unicode 15.1 added (ideographic description characters) that TensorFlow's RE2
# does not know as symbols yet: it does not split words at them (Python 3.13 would).
_NOT_SYMBOLS_TO_RE2 = frozenset([*range(0x2FFC, 0x2FFF + 1), 0x31EF])
_CAPITAL_SIGMA = "\u03a3"
# Stand-ins with the case properties ICU gives (for the final-sigma rule): a space is
# neither cased nor case-ignorable; "I" is cased like U+0130, the one character whose
# lower case is two characters (so the masked text keeps its length); U+1734 HANUNOO
# SIGN PAMUDPOD became a spacing mark in Unicode 14.0 but is a case-ignorable
# nonspacing mark to ICU, like U+0300.
_SIGMA_MASK = {**{c: " " for c in _UNKNOWN_TO_ICU}, 0x0130: "I", 0x1734: "\u0300"}


def _lower(text):
    """`text.lower()` as ICU does it in TensorFlow: characters ICU does not know keep
    their case, and a capital sigma, which becomes `ς` or `σ` by its neighbours, sees
    them with the case properties ICU gives them."""
    if not any(ord(c) in _SIGMA_MASK for c in text):
        return text.lower()
    if _CAPITAL_SIGMA in text:
        masked = "".join(_SIGMA_MASK.get(ord(c), c) for c in text).lower()
    else:
        masked = text
    return "".join(
        c if ord(c) in _UNKNOWN_TO_ICU else sigma if c == _CAPITAL_SIGMA else c.lower()
        for c, sigma in zip(text, masked)
    )


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
    return unicodedata.category(char)[0] in "PS" and ord(char) not in _NOT_SYMBOLS_TO_RE2


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
    >>> from keras_s2s.text.tokenizer import learn_vocabulary
    >>> tokenizer = PyTokenizer(learn_vocabulary(["Don't go!", "Go."], level="word"))
    >>> ids = tokenizer.tokenize("Don't go!")
    >>> ids
    [8, 5, 7, 10, 4]
    >>> tokenizer.detokenize(ids)
    "Don't go!"
    """

    def __init__(self, vocab, level="word", lowercase=False):
        check_level(level)
        self.vocab = vocab
        self.level = level
        self.lowercase = lowercase
        self._ids = {token: i for i, token in enumerate(vocab.tokens)}

    @classmethod
    def from_description(cls, description, side):
        """The tokenizer of one side (`"source"` or `"target"`) of a bundle's
        `tokenizer.json` (see `keras_s2s.text.description`)."""
        from keras_s2s.text.description import from_description

        return from_description(description, side)

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

    def unknown(self, text):
        """The pieces of one text that the vocabulary does not have, in order, each
        once: characters (`char`), words (`word`, and `subword` where WordPiece cannot
        spell the word); each becomes the unknown token."""
        text = self.standardize(text)
        if self.level == "char":
            pieces = list(text)
        else:
            pieces = split_words(text)
        if self.level == "subword":
            missing = [w for w in pieces if UNK_ID in
                       [self._ids.get(p, UNK_ID) for p in wordpiece(w, self._ids)]]
        else:
            missing = [p for p in pieces if p not in self._ids]
        # Shown as written: "##," is a comma glued to the word before it.
        return list(dict.fromkeys(p[len(CONTINUATION):] if p.startswith(CONTINUATION) and
                                  len(p) > len(CONTINUATION) else p for p in missing))

    def tokenize(self, text):
        """One text -> list of ids (no start or end token)."""
        return [self._ids.get(token, UNK_ID) for token in self.split(text)]

    def detokenize(self, ids):
        """Ids -> text; stops at the end token, skips padding and the start token."""
        return join_tokens(self.vocab.decode(ids), self.level)
