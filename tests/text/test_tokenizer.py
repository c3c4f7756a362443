"""The tokenizers: tensorflow-text `Tokenizer` vs the pure-Python `PyTokenizer`.

Both must give identical ids (and token strings) for any text: checked on every line of
the shared corpora, on a hand-written list of awkward Unicode, and on every code point
Python 3.11 knows. Also: round trips, detokenization of model outputs, vocabulary
learning, and that the pure-Python tokenizer never imports TensorFlow.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import collections
import random
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.text import pytokenizer
from keras_s2s.text import tokenizer as tf_tokenizer
from keras_s2s.text.pytokenizer import MAX_BYTES_PER_WORD, PyTokenizer
from keras_s2s.text.tokenizer import Tokenizer, learn_vocabulary
from keras_s2s.text.vocabulary import END_ID, PAD_ID, SPECIALS, START_ID, UNK, UNK_ID, Vocabulary

from conftest import REPO
from conftest import SHARED_DATA as DATA

BATCH = 4096
LEVELS = ("char", "word", "subword")


# --------------------------------------------------------------------------- helpers


def _show(text, limit=300):
    """A text with its code points spelled out (ascii() escapes every non-ASCII one)."""
    shown = ascii(text)
    return shown if len(shown) <= limit else shown[:limit] + f"... ({len(text)} chars)"


def _decode_rows(rows):
    return [[token.decode("utf-8") for token in row] for row in rows]


def _in_batches(fn, texts, batch_size=BATCH):
    """Applies a `(batch,) strings -> tensor` function to texts by batches; Python lists."""
    out = []
    for start in range(0, len(texts), batch_size):
        result = fn(tf.constant(texts[start:start + batch_size], dtype=tf.string))
        out.extend(result.to_list() if isinstance(result, tf.RaggedTensor) else result.numpy().tolist())
    return out


def tf_ids(tokenizer, texts):
    return _in_batches(tokenizer.tokenize, texts)


def tf_split(texts, level, lowercase):
    level = "char" if level == "char" else "word"
    return _decode_rows(_in_batches(lambda b: tf_tokenizer.split(b, level, lowercase), texts))


def tf_standardize(texts, lowercase):
    return [t.decode("utf-8") for t in _in_batches(lambda b: tf_tokenizer.standardize(b, lowercase), texts)]


def tf_detokenize(tokenizer, rows):
    """Detokenizes lists of ids as one ragged batch."""
    ids = tf.RaggedTensor.from_row_lengths(
        tf.constant([i for row in rows for i in row], dtype=tf.int32),
        tf.constant([len(row) for row in rows], dtype=tf.int64),
    )
    return [text.decode("utf-8") for text in tokenizer.detokenize(ids).numpy()]


def assert_same(texts, tf_out, py_out, what, labels=None, show_all=False):
    """Fails with the first (or every) text whose TF and Python outputs differ."""
    assert len(tf_out) == len(py_out) == len(texts)
    bad = [i for i, (a, b) in enumerate(zip(tf_out, py_out)) if a != b]
    if not bad:
        return
    lines = [f"{len(bad)} of {len(texts)} texts give different {what} in TF and Python;"]
    for i in bad if show_all else bad[:1]:
        where = f"{labels[i]}: " if labels else f"#{i}: "
        lines.append(f"{where}{_show(texts[i])}\n    TF: {tf_out[i]!r}\n    Py: {py_out[i]!r}")
    pytest.fail("\n".join(lines), pytrace=False)


def count_unknown(rows):
    flat = [i for row in rows for i in row]
    return flat.count(UNK_ID), len(flat)


# --------------------------------------------------------------------------- corpora


class Corpus:
    """Every text of the shared corpora, deduplicated, with where each first occurs."""

    def __init__(self, entries):
        first = {}
        for label, text in entries:
            first.setdefault(text, label)
        self.size = len(entries)
        self.texts = list(first)
        self.labels = list(first.values())
        # A modest learning sample, evenly spread over all files (both languages of each).
        step = max(1, len(entries) // 3000)
        self.sample = [text for _, text in entries[::step]][:3000]


def _lines(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@pytest.fixture(scope="module")
def corpus():
    files = [DATA / "spa-eng" / f"{split}.tsv" for split in ("train", "dev", "test")]
    files += [
        DATA / "multi30k" / f"{split}.{lang}"
        for split in ("train", "val", "test_2016_flickr")
        for lang in ("de", "en")
    ]
    if not DATA.is_dir():
        pytest.skip(f"the shared corpora directory {DATA} is absent")
    missing = [str(f.relative_to(DATA)) for f in files if not f.is_file()]
    if missing:
        pytest.skip(f"shared corpora incomplete: {', '.join(missing)} absent from {DATA}")
    entries = []
    for path in files:
        name = f"{path.parent.name}/{path.name}"
        for number, line in enumerate(_lines(path), 1):
            if path.suffix == ".tsv":
                for column, field in enumerate(line.split("\t"), 1):
                    entries.append((f"{name}:{number} column {column}", field))
            else:
                entries.append((f"{name}:{number}", line))
    assert len(entries) > 250_000, f"only {len(entries)} texts in the shared corpora"
    return Corpus(entries)


_corpus_vocabs = {}


def corpus_vocab(corpus, level, lowercase):
    """Vocabularies learned on the sample, small enough that `<unk>` occurs."""
    key = (level, lowercase)
    if key not in _corpus_vocabs:
        max_size = 80 if level == "char" else 2000
        _corpus_vocabs[key] = learn_vocabulary(corpus.sample, level, max_size, lowercase)
    return _corpus_vocabs[key]


# 1. -------------------------------------------------------------- parity on whole corpora


@pytest.mark.slow
@pytest.mark.parametrize(
    "level, lowercase",
    [("char", False), ("word", False), ("subword", False), ("word", True), ("subword", True)],
)
def test_corpus_parity(corpus, level, lowercase):
    vocab = corpus_vocab(corpus, level, lowercase)
    tf_out = tf_ids(Tokenizer(vocab, level, lowercase), corpus.texts)
    python = PyTokenizer(vocab, level, lowercase)
    py_out = [python.tokenize(text) for text in corpus.texts]
    assert_same(corpus.texts, tf_out, py_out, f"{level} ids (lowercase={lowercase})", corpus.labels)
    unknown, total = count_unknown(py_out)
    assert 0 < unknown < total / 3, f"{unknown} <unk> of {total} ids: <unk> handling not exercised"


# 2. ------------------------------------------------------------------ awkward Unicode

AWKWARD = [
    # accents, precomposed and combining; stacked combining marks (NFKC reorders them)
    "café", "cafe\u0301", "Ångström Å Å", "e\u0301\u0302\u0323 q\u0307\u0323 q\u0323\u0307",
    "Z\u0324\u0308\u0301\u0308a\u0306\u0324\u0308 zalgo\u0336\u0337\u0338",
    "\u0301leading mark", "mark after space \u0301x", "mark after punct !\u0301 a.\u0308b",
    "diaeresis a\u00a8b tilde \u02dc", "ñ n\u0303 Ñ N\u0303",
    # (only lower-cased do these compose: NFKC must run again after lower-casing)
    "T\u0308 W\u030a J\u030c H\u0331 Ω\u0342 Ά\u0345",
    # emoji: ZWJ sequences, skin tones, flags, tag sequences, keycaps, variation selectors
    "👍 👍🏽 👍🏿!", "👨\u200d👩\u200d👧\u200d👦 family", "🏳\ufe0f\u200d🌈", "🇪🇸🇬🇧 flags",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f scotland",
    "1\ufe0f\u20e3 #\ufe0f\u20e3 keycaps", "❤️ ❤ \u2764\ufe0e", "I ❤️ NY", "a😀b😀😀c",
    # CJK, Japanese, half-width forms, compatibility ideographs and squares
    "我爱北京天安门。", "日本語のテキスト、カタカナとひらがな。", "ｶﾀｶﾅ ｶﾞｷﾞ ﾊﾟ", "\uf900 \u2f00 ㍻ ㌀ ㎏",
    # Hangul: precomposed, conjoining jamo, compatibility and half-width jamo
    "한국어 텍스트", "\u1112\u1161\u11ab\u1100\u116e\u11a8", "\u3131\u314f ﾡ", "\u1100\u1100\u1161",
    # right-to-left with bidi marks, Arabic presentation forms that NFKC expands
    "مرحبا بالعالم، كيف حالك؟", "\u200fשָׁלוֹם\u200e עולם!", "\u202bעברית\u202c \u2067abc\u2069",
    "ﻼ ﷺ ﷽", "\u061cالعربية\u0640\u0640", "١٢٣ ٤٥٦ ۷۸۹",
    # zero-width and other format characters
    "zero\u200bwidth\u200cnon\u200djoiner", "\ufeffBOM at start", "soft\u00adhyphen", "a\u2060b\u180ec",
    "\u200b", "\u200b \u200b", "\ufeff\u200e\u200f", "ab\ufff9cd\ufffaef\ufffb",
    # empty, whitespace, controls, Unicode spaces
    "", " ", "   ", "\t", "\n", "\r\n", " \t\n\r\x0b\x0c ", "tab\tsep\tvalues", "line\nbreak\rcr\r\nboth",
    "nbsp\u00a0here", "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a",
    "thin\u2009narrow\u202fmath\u205fideo\u3000ogham\u1680end", "ls\u2028ps\u2029end",
    "del\x7fnel\x85esc\x1bbell\x07", "\x1c\x1d\x1e\x1f", "  leading and trailing  ",
    "many     spaces",
    # full-width forms, ligatures, superscripts, subscripts, fractions, letterlike
    "ＡＢＣ！ ｆｕｌｌ\u3000ｗｉｄｔｈ？", "ﬁne ﬂow ﬀ ﬃ ﬅ", "x² H₂O ⁿ ª º ½ ¾ ⅓", "™ ℃ ℉ № ℡ ℀",
    "Ⓐⓑ ① ⑴ ⒜ 🄰", "K Å Ω ℌ ℍ", "ǅ ǆ Ǆ Ĳ ĳ ŉ ſt",
    # mathematical alphanumerics, Fraktur
    "𝐀𝐁𝐂 𝑥² + 𝑦² = 𝑧²", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛", "∑∫√∞≠≤ a≠b 2+2=4",
    # Greek final sigma (and case-ignorable contexts), Turkish, German
    "ΟΔΟΣ ΟΔΟΣ.", "ΣΑ Σ ΑΣ ΑΣ' ΑΣ.Α ΑΣ:Α ΑΣ-Α", "ΑΣ\u0301 ΑΣ\u00adΑ ΑΣ\u200dΑ", "ᾈ ᾼ ΐ",
    "İstanbul ISTANBUL ıi Iİ", "Straße STRASSE ẞ ß", "Ꭰ Ა",
    # Roman numerals
    "Ⅻ ⅻ Ⅳ ⅷ Ⅿ",
    # long words: WordPiece turns words over 100 bytes into one <unk>
    "a" * 100, "b" * 101, "é" * 50, "é" * 51, "日" * 33, "日" * 34, "x-" + "y" * 98, "x-" + "y" * 99,
    "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherungsanstaltsbeamter ok",
    # punctuation runs, "##" literal, symbols
    "!!!???...", "¿¡Qué?! —dijo— «no» “quoted” ‘single’", "(a)[b]{c}<d>", "--- *** ___ ~~~",
    "...", "…", "##", "###", "a##b", "## x", "#1 #hashtag @user", "a ## b ##c",
    "Don't go! It's 5 o'clock.", "e-mail C++ C# .NET", "http://example.com/a?b=c&d=e#f",
    # digits mixed with letters
    "abc123def 1st 2nd 3rd 4th", "3.14 1,000,000 $100 50% €5 ¥10", "R2D2 C3PO 4x4 mp3",
    # odds and ends
    "\ufffd replacement \ufffc object", "\ue000\uf8ff private \U000f0000", "\u00b7 middle · dot",
    "Ÿ ÿ ĸ ŋ Ŋ", "Åa\u030a", "ℇ ℏ ℵ", "⁰¹²³ ₀₁₂", "\u2126 \u212a \u212b",
]

# U+0000 is tested on its own (see `test_nul_parity`).
NUL_TEXTS = ["a\x00b", "Ab\x00CD ef", "\x00", "\x00X", "x\x00", "word \x00 word"]

# Ordinary text the awkward vocabularies also learn from.
EXTRA = [
    "The quick brown fox jumps over the lazy dog.",
    "El veloz murciélago hindú comía feliz cardillo y kiwi.",
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
    "Don't go! It's late, isn't it?",
    "Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis.",
    "Two dogs are playing in the snow.",
    "Tom no sabe nadar.",
]

_awkward_vocabs = {}


def awkward_vocab(level, lowercase, variant):
    """Vocabularies learned on the awkward texts plus ordinary text.

    `limited`: learned on all of them, but smaller than the full vocabulary (char and
    word keep about 60% of the tokens, subword learns a small WordPiece);
    `partial`: learned on every other awkward text only, so the others have characters
    (and words) that no entry covers.
    """
    key = (level, lowercase, variant)
    if key not in _awkward_vocabs:
        if variant == "limited":
            texts = AWKWARD + EXTRA
            python = PyTokenizer(Vocabulary([]), level if level != "subword" else "word", lowercase)
            distinct = len({token for text in texts for token in python.split(text)})
            max_size = len(SPECIALS) + (distinct * 3) // 5 if level != "subword" else 300
        else:
            texts = AWKWARD[::2] + EXTRA
            max_size = 100_000
        _awkward_vocabs[key] = learn_vocabulary(texts, level, max_size, lowercase)
    return _awkward_vocabs[key]


def _check_parity(texts, level, lowercase, vocab, show_all=True):
    """Standardized text, token strings and ids must match; returns the Python ids."""
    what = f"(level={level}, lowercase={lowercase})"
    python = PyTokenizer(vocab, level, lowercase)
    assert_same(
        texts, tf_standardize(texts, lowercase), [python.standardize(t) for t in texts],
        f"standardized text {what}", show_all=show_all,
    )
    word_level = PyTokenizer(vocab, "char" if level == "char" else "word", lowercase)
    assert_same(
        texts, tf_split(texts, level, lowercase), [word_level.split(t) for t in texts],
        f"token strings before WordPiece {what}", show_all=show_all,
    )
    tf_out = tf_ids(Tokenizer(vocab, level, lowercase), texts)
    py_out = [python.tokenize(t) for t in texts]
    assert_same(texts, tf_out, py_out, f"ids {what}", show_all=show_all)
    # The token strings after the lookup (for subword, the WordPiece pieces).
    python_tokens = [[vocab.tokens[i] for i in vocab.encode(python.split(text))] for text in texts]
    assert_same(
        texts, [[vocab.tokens[i] for i in row] for row in tf_out], python_tokens,
        f"vocabulary tokens {what}", show_all=show_all,
    )
    return py_out


@pytest.mark.parametrize("variant", ["limited", "partial"])
@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("level", LEVELS)
def test_awkward_unicode_parity(level, lowercase, variant):
    vocab = awkward_vocab(level, lowercase, variant)
    py_out = _check_parity(AWKWARD, level, lowercase, vocab)
    unknown, total = count_unknown(py_out)
    assert 0 < unknown < total, f"{unknown} <unk> of {total} ids: want both known and unknown tokens"


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("level", LEVELS)
def test_nul_parity(level, lowercase):
    """U+0000 is a control character: a space, like any other (the text goes on)."""
    vocab = awkward_vocab(level, lowercase, "limited")
    _check_parity(NUL_TEXTS, level, lowercase, vocab)
    assert PyTokenizer(vocab, level, lowercase).standardize("a\x00b") == "a b"


def test_awkward_expectations():
    """A few outputs spelled out (they follow the rules of the pytokenizer docstring)."""
    standardize = pytokenizer.standardize
    assert standardize("") == standardize(" \t\n\r ") == standardize("\u200b\ufeff\u00ad") == ""
    assert standardize("cafe\u0301") == "café"
    assert standardize("ﬁne ＡＢＣ！ x² Ⅻ 𝐀") == "fine ABC! x2 XII A"
    assert standardize("zero\u200bwidth\u00a0nbsp\u3000ideo\t\ttab\x85nel") == "zerowidth nbsp ideo tab nel"
    assert standardize("ΟΔΟΣ ΟΔΟΣ.", lowercase=True) == "οδος οδος."
    assert standardize("Straße ẞ İ", lowercase=True) == "straße ß i\u0307"
    assert pytokenizer.split_words("Don't go! ##") == ["Don", "##'", "##t", "go", "##!", "#", "###"]
    assert pytokenizer.split_words("👍🏽") == ["👍", "##🏽"]
    words = [
        tf_split([text], "word", False)[0]
        for text in ["Don't go!", "¿Qué?", "a  b", "👨\u200d👩\u200d👧"]
    ]
    assert words == [["Don", "##'", "##t", "go", "##!"], ["¿", "##Qué", "##?"], ["a", "b"], ["👨", "##👩", "##👧"]]


def test_wordpiece_byte_limit():
    """Words over MAX_BYTES_PER_WORD bytes (the `##` included) become one <unk>."""
    level = "subword"
    vocab = learn_vocabulary(["a b é 日 y x-y"], level, 100)
    texts = [
        "a" * 100, "a" * 101, "é" * 50, "é" * 51, "日" * 33, "日" * 34,
        "x-" + "y" * 98, "x-" + "y" * 99, "a" * 101 + " b",
    ]
    python = PyTokenizer(vocab, level)
    tf_out = tf_ids(Tokenizer(vocab, level), texts)
    py_out = [python.tokenize(t) for t in texts]
    assert_same(texts, tf_out, py_out, "ids", show_all=True)
    unknown_words = [
        [len(word.encode()) > MAX_BYTES_PER_WORD for word in pytokenizer.split_words(t)] for t in texts
    ]
    assert unknown_words == [[False], [True], [False], [True], [False], [True],
                             [False, False, False], [False, False, True], [True, False]]
    for text, ids, flags in zip(texts, py_out, unknown_words):
        # One <unk> per long word; every other word is covered by the vocabulary.
        assert ids.count(UNK_ID) == sum(flags), (text, ids)


# 3. -------------------------------------------------------------------- round trips


def _round_trip(texts, level, lowercase, max_size):
    """Checks detokenize(tokenize(x)) == standardize(x) on both sides; returns the
    number of texts left out because they contain <unk>."""
    vocab = learn_vocabulary(texts, level, max_size, lowercase)
    tokenizer, python = Tokenizer(vocab, level, lowercase), PyTokenizer(vocab, level, lowercase)
    tf_out = tf_ids(tokenizer, texts)
    py_out = [python.tokenize(t) for t in texts]
    assert_same(texts, tf_out, py_out, "ids")
    kept = [i for i, ids in enumerate(py_out) if UNK_ID not in ids]
    if level != "subword":
        assert len(kept) == len(texts), "a full char or word vocabulary left <unk>"
    texts_kept = [texts[i] for i in kept]
    ids_kept = [py_out[i] for i in kept]
    what = f"(level={level}, lowercase={lowercase})"
    tf_texts = tf_detokenize(tokenizer, ids_kept)
    py_texts = [python.detokenize(ids) for ids in ids_kept]
    assert_same(
        texts_kept, tf_texts, tf_standardize(texts_kept, lowercase),
        f"TF round trip vs TF standardize {what}",
    )
    assert_same(
        texts_kept, py_texts, [python.standardize(t) for t in texts_kept],
        f"Python round trip vs Python standardize {what}",
    )
    assert_same(texts_kept, tf_texts, py_texts, f"detokenized text {what}")
    excluded = [text for text, ids in zip(texts, py_out) if UNK_ID in ids]
    return len(excluded), excluded


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("level", LEVELS)
def test_round_trip_awkward(level, lowercase):
    # (With lowercase, U+0000 breaks the TF/Python parity: see `test_nul_parity`.)
    texts = AWKWARD + EXTRA + ([] if lowercase else NUL_TEXTS)
    excluded, which = _round_trip(texts, level, lowercase, max_size=100_000 if level != "subword" else 2000)
    # Only the words over 100 bytes (or longer than the learner's 50 characters with a
    # character seen nowhere else) may not round-trip at the subword level.
    for text in which:
        words = pytokenizer.split_words(pytokenizer.standardize(text, lowercase))
        assert any(len(w.encode()) > MAX_BYTES_PER_WORD or len(w) > 50 for w in words), _show(text)
    assert excluded <= 6, which


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("level", LEVELS)
def test_round_trip_corpus(corpus, level, lowercase):
    rng = random.Random(7)
    texts = rng.sample(corpus.texts, 3000)
    excluded, which = _round_trip(texts, level, lowercase, max_size=100_000 if level != "subword" else 2000)
    assert excluded <= len(texts) // 200, which[:20]


def test_detokenize_parity_on_model_outputs():
    """Arbitrary id sequences (end tokens in the middle, padding, start tokens, <unk>)
    detokenize to the same text in TF (ragged and padded dense input) and Python."""
    rng = np.random.default_rng(0)
    for level in LEVELS:
        vocab = awkward_vocab(level, False, "partial")
        tokenizer, python = Tokenizer(vocab, level), PyTokenizer(vocab, level)
        rows = [[], [END_ID], [START_ID, END_ID, 5], [PAD_ID, PAD_ID], [UNK_ID, UNK_ID, 4, END_ID],
                [START_ID, 4, 5, END_ID, 6, END_ID, 7], [4, PAD_ID, 5, START_ID, 6, PAD_ID]]
        # Rows that start with (or contain only) `##` continuation tokens.
        continuations = [i for i, t in enumerate(vocab.tokens) if t.startswith("##")]
        if continuations:
            rows += [continuations[:3], [START_ID] + continuations[:2] + [4], [4] + continuations[-3:]]
        for _ in range(300):
            length = int(rng.integers(0, 25))
            row = rng.integers(4, len(vocab), size=length)
            specials = rng.random(length) < 0.15
            row[specials] = rng.integers(0, 4, size=int(specials.sum()))
            rows.append([int(i) for i in row])
        expected = [python.detokenize(row) for row in rows]
        assert_same(rows, tf_detokenize(tokenizer, rows), expected, f"{level} detokenized text (ragged)")
        width = max(map(len, rows))
        dense = np.zeros((len(rows), width + 3), dtype=np.int32)
        for r, row in enumerate(rows):
            dense[r, :len(row)] = row
        got = [t.decode("utf-8") for t in tokenizer.detokenize(dense).numpy()]
        assert_same(rows, got, expected, f"{level} detokenized text (padded dense)")
        # Spelled-out rules: stop at the first end token, skip <pad> and <s>, keep <unk>.
        assert python.detokenize([START_ID, 4, PAD_ID, 5, END_ID, 6]) == pytokenizer.join_tokens(
            [vocab.tokens[4], vocab.tokens[5]], level)
        assert python.detokenize([END_ID, 4]) == ""
        assert UNK in python.detokenize([UNK_ID])


# 4. ------------------------------------------------------------ whole code space sweep


def _sweep(codes, lowercase):
    """Code points whose `c` or `"a" + c + "b"` standardize or split (word level)
    differently in TF and Python, with both outputs."""
    texts = [text for c in codes for text in (chr(c), f"a{chr(c)}b")]
    standardized, split = [], []
    for start in range(0, len(texts), 65536):
        batch = tf.constant(texts[start:start + 65536])
        standardized += [t.decode("utf-8") for t in tf_tokenizer.standardize(batch, lowercase).numpy()]
        split += _decode_rows(tf_tokenizer.split(batch, "word", lowercase).to_list())
    mismatches = {}
    for text, tf_text, tf_words in zip(texts, standardized, split):
        py_text = pytokenizer.standardize(text, lowercase)
        py_words = pytokenizer.split_words(py_text)
        if (tf_text, tf_words) != (py_text, py_words):
            c = ord(text) if len(text) == 1 else ord(text[1])
            mismatches.setdefault(c, (text, tf_words, py_words))
    return mismatches


def _code_points(assigned):
    return [
        c for c in range(0x110000)
        if not 0xD800 <= c <= 0xDFFF and (unicodedata.category(chr(c)) != "Cn") == assigned
    ]


@pytest.mark.parametrize("lowercase", [False, True])
def test_every_assigned_code_point(lowercase):
    assert unicodedata.unidata_version in UNICODE_VERSIONS, "the parity claim is for these"
    codes = _code_points(assigned=True)
    assert len(codes) > 280_000
    mismatches = _sweep(codes, lowercase)
    if mismatches:
        lines = [f"{len(mismatches)} assigned code points tokenize differently (lowercase={lowercase}):"]
        for c, (text, tf_words, py_words) in list(mismatches.items())[:60]:
            name = unicodedata.name(chr(c), unicodedata.category(chr(c)))
            lines.append(f"U+{c:04X} {name}: {_show(text)} TF {tf_words!r} Py {py_words!r}")
        lines.append("all: " + " ".join(f"U+{c:04X}" for c in mismatches))
        pytest.fail("\n".join(lines), pytrace=False)


# Python's Unicode database -> the characters it knows and TensorFlow's ICU does not
# (what Unicode 14.0, 15.0 and 15.1 added): Python 3.11, 3.12 and 3.13.
UNKNOWN_TO_ICU_COUNT = {"14.0.0": 838, "15.0.0": 5_327, "15.1.0": 5_954}
UNICODE_VERSIONS = tuple(UNKNOWN_TO_ICU_COUNT)


def test_the_characters_unknown_to_icu():
    """`pytokenizer._UNKNOWN_TO_ICU` is what TensorFlow's ICU gives the Unknown script
    (USCRIPT_UNKNOWN, 103) among the characters Python assigns (private use aside)."""
    codes = [c for c in range(0x110000)
             if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co")]
    scripts = tf.strings.unicode_script(tf.constant(codes, tf.int32)).numpy()
    unknown = {c for c, script in zip(codes, scripts) if script == 103}
    # The table covers the newest Python; an older one knows a part of it.
    assert unknown == {c for c in pytokenizer._UNKNOWN_TO_ICU
                       if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co")}
    assert len(unknown) == UNKNOWN_TO_ICU_COUNT[unicodedata.unidata_version]


SIGMA_CONTEXTS = ("A\u03a3{}A", "A{}\u03a3", "{}\u03a3", "A\u03a3{}", "\u03a3{}",
                  "A{}\u03a3{}")


def test_final_sigma_beside_every_assigned_character():
    """A capital sigma lower-cases to `ς` or `σ` by its neighbours (Unicode's
    Final_Sigma): with every assigned character beside it, both tokenizers agree."""
    codes = [c for c in _code_points(assigned=True) if unicodedata.category(chr(c)) != "Co"]
    texts = [context.format(chr(c), chr(c)) for c in codes for context in SIGMA_CONTEXTS]
    found = []
    for start in range(0, len(texts), 65536):
        batch = tf.constant(texts[start:start + 65536])
        found += [t.decode("utf-8") for t in tf_tokenizer.standardize(batch, True).numpy()]
    mismatches = [(text, tf_text) for text, tf_text in zip(texts, found)
                  if pytokenizer.standardize(text, True) != tf_text]
    assert not mismatches, (len(mismatches), [_show(t) for t, _ in mismatches[:20]])


@pytest.mark.slow
def test_unassigned_code_points_informational():
    """Python does not know characters assigned after its Unicode version (category
    Cn), TensorFlow's ICU and RE2 know some: some of those tokenize differently
    (documented)."""
    codes = _code_points(assigned=False)
    counts = {lowercase: len(_sweep(codes, lowercase)) for lowercase in (False, True)}
    print(f"\nmismatching Cn code points out of {len(codes)}: {counts}")
    assert all(count < 1000 for count in counts.values()), counts


# 5. ----------------------------------------------------------------- learn_vocabulary


def _synthetic_texts(seed, lines=300, letters="abcdefghij"):
    rng = random.Random(seed)
    return [
        " ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 7))) for _ in range(8))
        + rng.choice([".", "!", "?", ", ok."])
        for _ in range(lines)
    ]


LEARN_TEXTS = EXTRA + _synthetic_texts(0, 200) + AWKWARD[:40]


@pytest.mark.parametrize("level", LEVELS)
def test_learn_vocabulary_is_deterministic(level):
    first = learn_vocabulary(LEARN_TEXTS, level, 300)
    assert first == learn_vocabulary(list(LEARN_TEXTS), level, 300)
    shuffled = list(LEARN_TEXTS)
    random.Random(1).shuffle(shuffled)
    assert first == learn_vocabulary(shuffled, level, 300), "the vocabulary depends on the text order"
    assert first.tokens[: len(SPECIALS)] == list(SPECIALS)
    assert len(set(first.tokens)) == len(first.tokens)


@pytest.mark.parametrize("max_size", [5, 30, 100, 200, 400, 800])
@pytest.mark.parametrize("level", LEVELS)
def test_learn_vocabulary_respects_max_size(level, max_size):
    vocab = learn_vocabulary(_synthetic_texts(0), level, max_size)
    assert vocab.tokens[: len(SPECIALS)] == list(SPECIALS)
    assert len(vocab) <= max_size, f"{level} vocabulary of {len(vocab)} entries for max_size={max_size}"


@pytest.mark.parametrize("lowercase", [False, True])
def test_word_vocabulary_ranks_by_frequency(lowercase):
    texts = ["b a b c!", "a b. A B", "d, d, d, d", "e"]
    expected_top = ["b", "d", "##,", "a"] if lowercase else ["d", "##,", "b", "a"]  # ties: a-z
    top = learn_vocabulary(texts, "word", len(SPECIALS) + 4, lowercase).tokens[len(SPECIALS):]
    assert top == expected_top
    texts += EXTRA
    python = PyTokenizer(Vocabulary([]), "word", lowercase)
    counts = collections.Counter(token for text in texts for token in python.split(text))
    ranked = sorted(counts, key=lambda token: (-counts[token], token))
    assert learn_vocabulary(texts, "word", 1000, lowercase).tokens == list(SPECIALS) + ranked
    assert learn_vocabulary(texts, "word", 7, lowercase).tokens == list(SPECIALS) + ranked[:3]
    frequent = [token for token in ranked if counts[token] >= 2]
    assert learn_vocabulary(texts, "word", 1000, lowercase, min_count=2).tokens == list(SPECIALS) + frequent
    char_counts = collections.Counter(c for text in texts for c in pytokenizer.standardize(text, lowercase))
    assert learn_vocabulary(texts, "char", 10, lowercase).tokens[4:] == sorted(
        char_counts, key=lambda c: (-char_counts[c], c))[:6]


@pytest.mark.parametrize(
    "texts, level, max_size, match",
    [
        (["a b"], "bpe", 100, "level"),
        (["a b"], "Word", 100, "level"),
        (["a b"], "word", 4, "max_size"),
        (["a b"], "subword", 0, "max_size"),
        (["a b"], "char", -1, "max_size"),
        ([], "word", 100, "without tokens"),
        ([], "subword", 100, "without tokens"),
        (["", "  ", "\u200b\t\n"], "char", 100, "without tokens"),
        (["", "\ufeff"], "subword", 100, "without tokens"),
    ],
)
def test_learn_vocabulary_refuses_bad_arguments(texts, level, max_size, match):
    with pytest.raises(ValueError, match=match):
        learn_vocabulary(texts, level, max_size)


def test_tokenizers_refuse_unknown_levels():
    vocab = Vocabulary(["a"])
    for cls in (Tokenizer, PyTokenizer):
        with pytest.raises(ValueError, match="level"):
            cls(vocab, level="bpe")


# 6. ------------------------------------------------------------ no TensorFlow on device


def test_pytokenizer_does_not_import_tensorflow():
    code = (
        "import sys, keras_s2s.text.pytokenizer as p\n"
        "from keras_s2s.text.vocabulary import Vocabulary\n"
        "t = p.PyTokenizer(Vocabulary(['a', '##b']), 'subword')\n"
        "assert t.tokenize('ab') == [4, 5]\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_text', 'keras', 'numpy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"importing pytokenizer loaded: {result.stdout.strip()}"
