"""A token <-> id vocabulary with the special tokens every model uses (pure Python)."""

from keras_s2s.utils.atomic import write_text

PAD, START, END, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, START, END, UNK)
PAD_ID, START_ID, END_ID, UNK_ID = range(4)


class Vocabulary:
    """Maps tokens to ids and back. Ids 0-3 are `<pad>`, `<s>`, `</s>`, `<unk>`.

    Args:
        tokens: the ordinary tokens, in id order (ids start at 4). Duplicates and the
            special tokens themselves are refused.

    Example:
    >>> vocab = Vocabulary(["a", "b"])
    >>> vocab.encode(["b", "z"]), vocab.decode([5, 4, 2, 0])
    ([5, 3], ['b', 'a'])
    """

    def __init__(self, tokens):
        tokens = list(tokens)
        seen = set(SPECIALS)
        for token in tokens:
            if not isinstance(token, str) or not token or any(c in token for c in "\n\r"):
                raise ValueError(f"Vocabulary tokens must be non-empty one-line strings, got {token!r}.")
            if token in seen:
                raise ValueError(f"Token {token!r} appears twice in the vocabulary (or is a special token).")
            seen.add(token)
        self.tokens = list(SPECIALS) + tokens
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def encode(self, tokens):
        """Token strings -> ids; unknown tokens get `UNK_ID`."""
        return [self._ids.get(token, UNK_ID) for token in tokens]

    def decode(self, ids):
        """Ids -> token strings, stopping at the end token and skipping `<pad>` and `<s>`."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == END_ID:
                break
            if i in (PAD_ID, START_ID):
                continue
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"Token id {i} is outside this vocabulary of {len(self)} tokens.")
            tokens.append(self.tokens[i])
        return tokens

    def save(self, path):
        """Writes one token per line (the specials first), atomically."""
        write_text(path, "\n".join(self.tokens) + "\n")

    @classmethod
    def load(cls, path):
        """Reads a file written by `save()`."""
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            raise FileNotFoundError(f"Vocabulary file {path} does not exist.") from None
        if lines and lines[-1] == "":
            lines.pop()
        if tuple(lines[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(
                f"{path} is not a keras_s2s vocabulary: its first lines must be "
                f"{', '.join(SPECIALS)}."
            )
        return cls(lines[len(SPECIALS):])
