"""A portable description of a bundle's tokenizers (`tokenizer.json`), and the
conformance cases a port must pass (`tokenizer_conformance.json`).

A device without Python (Kotlin, Swift, C++, JavaScript) must turn text into exactly the
ids the model was trained on. `tokenizer.json` says everything needed, as data:

    {"format": "keras_s2s.tokenizer", "format_version": 1,
     "source": SIDE, "target": SIDE}

    SIDE = {
      "level": "char" | "word" | "subword",
      "lowercase": bool,
      "vocabulary": [token, ...],          # id = index; 0-3 are the special tokens
      "special_tokens": {"pad": {"id": 0, "token": "<pad>"}, "start": ..., "end": ...,
                         "unk": ...},
      "standardize": [STEP, ...],          # in order, on the text's code points
      "split": {...},                      # how standardized text becomes token strings
      "detokenize": {...}                  # how ids become text again
    }

The steps (`STANDARDIZE_STEPS`, with `lowercase` two more) are Unicode algorithms
named by their standard, plus the exact tables where TensorFlow's libraries (ICU 13,
RE2) differ from the Unicode versions of today's systems:

1. `nfkc`: Unicode NFKC normalization;
2. `remove`: drop every code point of the general categories listed (`Cf`);
3. `to_space`: every code point of the categories listed becomes U+0020 (`Cc`, `Zs`,
   `Zl`, `Zp`);
4. `collapse_spaces`: runs of U+0020 become one; none at either end;
5. (`lowercase` only) `lowercase`: Unicode full case mapping, including the Final_Sigma
   rule for U+03A3, except: code points in `keep_case` (the characters ICU 13 does not
   know) keep their case and count as neither cased nor case-ignorable; and the
   `final_sigma_overrides` (U+0130 counts as cased, U+1734 as case-ignorable);
6. (`lowercase` only) `nfkc` again.

`split`: `char`: every code point is a token (spaces too). `word`: the text splits at
U+0020; inside each chunk, every code point whose general category starts with one of
`split_categories` (P, S), except `not_split`, is a token of its own, and the runs
between them are tokens; a token glued to the previous one (no space between) starts
with `continuation` (`##`). `subword`: each word token is split by WordPiece: the
longest vocabulary entry that starts it, then the longest `##`-prefixed entry that
continues it, and so on; a word of more than `max_bytes_per_word` UTF-8 bytes, or with
a part no entry matches, is one `<unk>`. Token strings not in the vocabulary are
`<unk>`. `detokenize`: drop ids after the first end token, and pad and start ids;
tokens joined without a separator (`char`), else with one space, then every
`" ##"` (and a leading `##`) removed.

General categories are those of `unicode_version` (15.1): a port on an older database
may differ on code points assigned later; the conformance cases use none of those.

`PyTokenizer.from_description` reads a side (checking that its rules are the ones it
implements), and `tests/text/test_tokenizer_description.py` runs it on every bundle's
conformance file, whose expected ids and texts come from the tensorflow-text tokenizer
the model was trained with.
"""

import unicodedata

from keras_s2s.text import pytokenizer
from keras_s2s.text.vocabulary import END, END_ID, PAD, PAD_ID, START, START_ID, UNK, UNK_ID

FORMAT = "keras_s2s.tokenizer"
FORMAT_VERSION = 1
DESCRIPTION_FILE = "tokenizer.json"
CONFORMANCE_FILE = "tokenizer_conformance.json"
UNICODE_VERSION = "15.1.0"

STANDARDIZE_STEPS = [
    {"step": "nfkc"},
    {"step": "remove", "categories": ["Cf"]},
    {"step": "to_space", "categories": ["Cc", "Zs", "Zl", "Zp"]},
    {"step": "collapse_spaces"},
]


def _lowercase_steps():
    return [
        {"step": "lowercase", "mapping": "unicode_full_case_mapping",
         "keep_case": [list(r) for r in pytokenizer._NEW_SINCE_UNICODE_14],
         "final_sigma_overrides": {"cased": [0x0130], "case_ignorable": [0x1734]}},
        {"step": "nfkc"},
    ]


def rules(level, lowercase):
    """The `standardize`, `split` and `detokenize` parts of a side."""
    return {
        "standardize": STANDARDIZE_STEPS + (_lowercase_steps() if lowercase else []),
        "split": {"level": level, "separator": " ", "split_categories": ["P", "S"],
                  "not_split": sorted(pytokenizer._NOT_SYMBOLS_TO_RE2),
                  "continuation": pytokenizer.CONTINUATION,
                  "max_bytes_per_word": pytokenizer.MAX_BYTES_PER_WORD},
        "detokenize": {"stop_at": "end", "skip": ["pad", "start"],
                       "join": "" if level == "char" else " ",
                       "remove": [] if level == "char" else [" " + pytokenizer.CONTINUATION],
                       "remove_leading": "" if level == "char" else pytokenizer.CONTINUATION},
    }


def describe(tokenizer):
    """One side's description (a `PyTokenizer` -> dict of plain data)."""
    return {
        "level": tokenizer.level,
        "lowercase": tokenizer.lowercase,
        "vocabulary": list(tokenizer.vocab.tokens),
        "special_tokens": {"pad": {"id": PAD_ID, "token": PAD},
                           "start": {"id": START_ID, "token": START},
                           "end": {"id": END_ID, "token": END},
                           "unk": {"id": UNK_ID, "token": UNK}},
        **rules(tokenizer.level, tokenizer.lowercase),
    }


def tokenizer_description(source, target):
    """The whole `tokenizer.json` of two `PyTokenizer`s."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "unicode_version": UNICODE_VERSION,
            "source": describe(source), "target": describe(target)}


def from_description(description, side):
    """A `PyTokenizer` for one side of a `tokenizer.json` (already parsed).

    Raises `ValueError` if the description is not a keras_s2s tokenizer description, is
    newer than this keras_s2s reads, or asks for rules other than the ones implemented.
    """
    from keras_s2s.text.vocabulary import Vocabulary

    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ValueError(f"Not a keras_s2s tokenizer description (format {FORMAT!r}).")
    if description.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"Tokenizer description format {description['format_version']} is "
                         f"newer than this keras_s2s reads ({FORMAT_VERSION}): upgrade it.")
    if side not in ("source", "target"):
        raise ValueError(f"side must be 'source' or 'target', got {side!r}.")
    spec = description[side]
    pytokenizer.check_level(spec["level"])
    expected = rules(spec["level"], bool(spec["lowercase"]))
    for part in ("standardize", "split", "detokenize"):
        if spec[part] != expected[part]:
            raise ValueError(
                f"The {side} tokenizer's {part} rules differ from the ones this keras_s2s "
                "implements: the description comes from another version; export the model "
                "again with this one.")
    tokens = spec["vocabulary"]
    specials = [spec["special_tokens"][name]["token"] for name in ("pad", "start", "end", "unk")]
    if tokens[:4] != specials or [PAD, START, END, UNK] != specials:
        raise ValueError(f"The {side} vocabulary must start with {PAD}, {START}, {END}, {UNK}.")
    return pytokenizer.PyTokenizer(Vocabulary(tokens[4:]), level=spec["level"],
                                   lowercase=bool(spec["lowercase"]))


# === Conformance cases ===

# Texts that once told the tokenizers apart, or could: compatibility forms, case
# mapping corner cases (Final_Sigma beside characters ICU 13 does not know, dotted
# capital I), invisible and bidi characters, every kind of space and line break,
# scripts without spaces, emoji sequences, long words, punctuation runs.
AWKWARD_TEXTS = [
    "", " ", "\t\n\r\v\f", "\u200b", "\ufeffBOM", "a\u200db", "\u202eevil\u202c",
    "Don't go! It's 5 o'clock, isn't it? (Yes.)", "e-mail: a.b@c.de #1 5% 3.14 C++",
    "ﬁne ﬂow", "ＡＢＣ１２３", "x² H₂O ½", "Ⅻ ㍿ ㈱", "café naïve Straße", "e\u0301", "\u1e9b\u0323",
    "İstanbul", "ΟΔΟΣ ΟΔΟΣ.", "ΑΣ", "Σ", "A\u03a3\u0898A", "A\u03a3\U00010f82A", "\u2c5f\u03a3",
    "A\u03a3\u1734A", "A\u03a3\u0301", "aΣ'b", "ǅemal", "ß ẞ", "ﬃ", "ŉ", "Ǆ ǆ ǅ",
    "日本語のテキスト。", "北京欢迎你！", "한국어 텍스트", "ภาษาไทย", "مرحبا بالعالم", "שלום עולם",
    "नमस्ते दुनिया", "👍 👍🏽 👨\u200d👩\u200d👧", "🇪🇸🇬🇧", "a\u00a0b\u2003c\u3000d",
    "line\u2028sep\u2029para", "a\x00b\x1fc\x7fd\x85e", "\u00ad soft hyphen", "tab\tinside",
    "...!!!???", "«guillemets» „quotes“ ‘single’", "a--b—c–d", "(([[{{}}]]))", "$5 €10 ¥20",
    "x" * 120, "ab" * 60 + " word", "##hash ##", "<unk> <s> </s> <pad>", "Nov. 23rd, 2026",
    "23.11.26", "12/25/99", "2026-11-23T12:00Z", "the 4th of July, 1976",
    "\u2ffc\u31ef", "a\u2ffcb", "\u0c3c", "Ǉudevit", "ﬀ", "Ω Å K",
]


def conformance_texts(test_sources, junk_count=200, seed=0, max_chars=2000):
    """The source strings of a conformance file: held-out sources, `AWKWARD_TEXTS`, and
    seeded junk (`keras_s2s.fuzz.junk_texts`) of at most `max_chars` characters, using
    only characters that Unicode 13 assigned (parity is promised for those on every
    Python; later ones depend on the Python's Unicode database)."""
    from keras_s2s.fuzz import junk_texts

    def old_enough(text):
        return all(unicodedata.category(c) != "Cn" and ord(c) not in pytokenizer._UNKNOWN_TO_ICU
                   for c in text)

    texts, _ = junk_texts(junk_count, seed)
    junk = [text for text in texts if len(text) <= max_chars and old_enough(text)]
    return list(dict.fromkeys(list(test_sources) + AWKWARD_TEXTS + junk))
