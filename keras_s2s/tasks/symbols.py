"""Copy and reverse: toy tasks on random symbol sequences, generated in code."""

import random
import string

OPERATIONS = ("copy", "reverse")


class SymbolTask:
    """Map a random sequence of symbols to itself (`copy`) or to its reverse (`reverse`).

    The reverse task is the classic smoke test of attention: the first target token
    depends on the last source token, so a plain encoder-decoder must squeeze the whole
    sequence through its final state, while attention can look it up. Long sequences
    make the bottleneck visible.

    Args:
        operation: `"copy"` or `"reverse"`.
        num_symbols: alphabet size (letters `a`, `b`, ... up to 26, then `s26`, ...).
        min_length: shortest sequence.
        max_length: longest sequence.

    Example:
    >>> task = SymbolTask("reverse", num_symbols=4, max_length=5)
    >>> train, dev, test = task.splits(1000, 100, 100, seed=0)
    >>> train[0]
    ('a b b b c', 'c b b b a')
    """

    level = "word"  # the tokenizer level the task is meant for: one symbol, one token

    def __init__(self, operation="reverse", num_symbols=16, min_length=1, max_length=16):
        if operation not in OPERATIONS:
            raise ValueError(f"Unknown symbol task {operation!r}: use 'copy' or 'reverse'.")
        if not 2 <= num_symbols <= 1000:
            raise ValueError(f"num_symbols must be between 2 and 1000, got {num_symbols}.")
        if not 1 <= min_length <= max_length:
            raise ValueError(
                f"Need 1 <= min_length <= max_length, got {min_length} and {max_length}."
            )
        self.operation = operation
        self.num_symbols = num_symbols
        self.min_length = min_length
        self.max_length = max_length
        letters = string.ascii_lowercase
        self.symbols = [
            letters[i] if i < len(letters) else f"s{i}" for i in range(num_symbols)
        ]

    @property
    def name(self):
        return self.operation

    def target_of(self, source):
        return list(reversed(source)) if self.operation == "reverse" else list(source)

    def _sample(self, rng):
        length = rng.randint(self.min_length, self.max_length)
        return tuple(rng.choice(self.symbols) for _ in range(length))

    def splits(self, train_size, dev_size, test_size, seed=0):
        """Train, dev and test lists of `(source_text, target_text)` pairs.

        Texts are the symbols separated by spaces, e.g. `("c a d", "d a c")`.

        Dev and test hold distinct sequences that never occur in train, so evaluation is
        on unseen inputs. The same arguments give the same splits on any machine.
        """
        heldout_rng = random.Random(f"{self.operation}-{seed}-heldout")
        heldout, seen = [], set()
        attempts = 0
        while len(heldout) < dev_size + test_size:
            attempts += 1
            if attempts > 100 * (dev_size + test_size) + 1000:
                raise ValueError(
                    f"Cannot draw {dev_size + test_size} distinct held-out sequences of "
                    f"length {self.min_length}-{self.max_length} over {self.num_symbols} "
                    "symbols: ask for fewer or allow longer sequences."
                )
            source = self._sample(heldout_rng)
            if source not in seen:
                seen.add(source)
                heldout.append(source)
        train_rng = random.Random(f"{self.operation}-{seed}-train")
        train = []
        while len(train) < train_size:
            attempts += 1
            if attempts > 100 * (train_size + dev_size + test_size) + 1000:
                raise ValueError(
                    "Almost every sequence drawn for training is held out: allow longer "
                    "sequences or more symbols, or hold out fewer."
                )
            source = self._sample(train_rng)
            if source not in seen:
                train.append(source)

        def pairs(sources):
            return [(" ".join(s), " ".join(self.target_of(s))) for s in sources]

        return pairs(train), pairs(heldout[:dev_size]), pairs(heldout[dev_size:])

    def get_config(self):
        return {
            "name": self.operation,
            "num_symbols": self.num_symbols,
            "min_length": self.min_length,
            "max_length": self.max_length,
        }
