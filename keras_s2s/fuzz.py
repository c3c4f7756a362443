"""Seeded junk text, for checking that a translator never fails on what users type.

    from keras_s2s import fuzz, runtime
    texts, kinds = fuzz.junk_texts(1000, seed=0)
    runtime.load("export/dates_bahdanau", backend="onnx").translate(texts)

The inputs mix every kind of trouble: empty strings, whitespace only (spaces of every
width, tabs, zero-width characters), random assigned Unicode (Unicode 14.0, no
surrogates) of 0-300 characters, NUL and other control characters, plausible dates with
junk around them, plain dates, and very long strings (10k-1M characters, one per
`long_every` inputs). Used by `tests/test_fuzz.py` and `benchmarks/fuzz_runtime.py`.
Pure Python, no TensorFlow.
"""

import random
import unicodedata

from keras_s2s.tasks.dates import DateTask

# Characters a text can consist of and still have no token: spaces, separators, format.
BLANK_CHARS = (" \t\n\r\x0b\x0c\u00a0\u2000\u2003\u2009\u200a\u202f\u3000\u2028\u2029"
               "\u200b\u200c\u200d\ufeff\u00ad")
CONTROL_CHARS = "".join(map(chr, range(32))) + "\x7f\x85"
# Kinds of inputs and their shares, besides the very long ones (one per `long_every`).
KINDS = {"empty": 3, "blank": 10, "unicode": 35, "control": 12, "date_with_junk": 30, "date": 10}


class Junk:
    """Seeded generator of the fuzz inputs."""

    def __init__(self, seed, long_every=2500):
        self.rng = random.Random(seed)
        self.long_every = long_every
        self.dates = DateTask()
        assigned = [c for c in range(0x110000)
                    if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
        # Half of the random characters from the BMP: otherwise the CJK extensions and
        # the private use planes, most of the assigned code points, would be most of them.
        self.code_points = [[c for c in assigned if c < 0x10000], assigned]

    def unicode(self, length):
        rng = self.rng
        return "".join(chr(rng.choice(self.code_points[rng.random() < 0.5]))
                       for _ in range(length))

    def date(self):
        return self.dates.render(self.dates.sample_date(self.rng), self.rng)

    def make(self, kind):
        rng = self.rng
        if kind == "empty":
            return ""
        if kind == "blank":
            return "".join(rng.choice(BLANK_CHARS) for _ in range(rng.randint(1, 20)))
        if kind == "unicode":
            return self.unicode(rng.randint(0, 300))
        if kind == "control":
            pool = CONTROL_CHARS + "abc123/.-, "
            return "".join(rng.choice(pool) for _ in range(rng.randint(1, 60)))
        if kind == "date_with_junk":
            junk = [self.unicode(rng.randint(0, 8)), rng.choice(CONTROL_CHARS) * rng.randint(0, 3),
                    rng.choice(BLANK_CHARS) * rng.randint(0, 3)]
            rng.shuffle(junk)
            return junk[0] + self.date() + junk[1] + junk[2]
        if kind == "date":
            return self.date()
        if kind == "long":
            length = int(10 ** rng.uniform(4, 6))  # 10k to 1M characters
            parts, size = [], 0
            while size < length:  # dates and random Unicode, alternating at random
                if rng.random() < 0.5:
                    part = self.date() + " "
                else:
                    part = self.unicode(rng.randint(1, 500))
                parts.append(part)
                size += len(part)
            return "".join(parts)[:length]
        raise ValueError(kind)

    def inputs(self, count):
        """`count` inputs in a shuffled order, and the kind of each."""
        long_count = max(1, count // self.long_every)
        kinds = ["long"] * long_count + self.rng.choices(
            list(KINDS), weights=list(KINDS.values()), k=count - long_count)
        self.rng.shuffle(kinds)
        return [self.make(kind) for kind in kinds], kinds


def junk_texts(count, seed=0, long_every=2500):
    """`count` seeded junk inputs in a shuffled order, and the kind of each (`"empty"`,
    `"blank"`, `"unicode"`, `"control"`, `"date_with_junk"`, `"date"`, `"long"`)."""
    return Junk(seed, long_every).inputs(count)
