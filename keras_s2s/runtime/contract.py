"""The step contract, checked where arrays enter a backend (numpy only, no TensorFlow).

Every backend takes the same arrays (see `keras_s2s.runtime.backends`). A wrong array
given to LiteRT or ONNX Runtime fails deep inside the runtime with a message about a
graph node (`Gather ... indices element out of data bounds`), and LiteRT's XNNPACK
delegate can stay broken for later calls; a negative id or a float id is even taken
silently. `StepContract` refuses such input first, with a message that names the
array, what it should be, and what it was:

- `source_ids`: 2-D `(batch, src_len)` integers, batch and length at least 1, ids in
  `[0, source_vocab_size)`, padding (0) only after a row's tokens, and every row with
  at least one token;
- `token_ids`: 1-D `(batch,)` integers in `[0, target_vocab_size)`;
- `state` and `memory`: dicts with exactly the contract's names, numeric arrays of
  shape `(batch, ...)` as the contract gives (memory arrays share one `src_len`).
"""

import numpy as np


class StepContract:
    """Names, shapes and id ranges of a model's `encode` and `decode_step`.

    Args:
        source_vocab_size, target_vocab_size: ids must be below these.
        state_shapes: `{name: shape}` of the decoder state without the batch axis.
        memory_shapes: `{name: shape}` of the memory without the batch axis; `None`
            marks the source-length axis.

    Example:
    >>> from keras_s2s.runtime import Bundle
    >>> contract = StepContract.from_bundle_meta(Bundle("export/dates_bahdanau").meta)
    >>> contract.state_names, contract.memory_names
    (['h0'], ['encoder_outputs', 'attention_keys', 'source_mask'])
    >>> contract.check_source_ids([[5, 6, 7, 0]]).dtype
    dtype('int32')
    >>> contract.check_source_ids([[0, 5]])
    Traceback (most recent call last):
    ...
    ValueError: Row 0 of source_ids has padding (0) before a token: [0, 5]; padding goes after the tokens only.
    """

    def __init__(self, source_vocab_size, target_vocab_size, state_shapes, memory_shapes):
        self.source_vocab_size = int(source_vocab_size)
        self.target_vocab_size = int(target_vocab_size)
        self.state_shapes = {name: tuple(shape) for name, shape in state_shapes.items()}
        self.memory_shapes = {name: tuple(shape) for name, shape in memory_shapes.items()}

    @property
    def state_names(self):
        return list(self.state_shapes)

    @property
    def memory_names(self):
        return list(self.memory_shapes)

    @classmethod
    def from_bundle_meta(cls, meta):
        """The contract recorded in a bundle's `bundle.json`."""
        contract = meta["step_contract"]
        inputs = contract["step_inputs"]

        def shape(name):
            # ["batch", "src_len", 128] -> (None, 128): the batch axis dropped.
            return tuple(None if d == "src_len" else d for d in inputs[name]["shape"][1:])

        return cls(
            meta["model"]["source_vocab_size"], meta["model"]["target_vocab_size"],
            {name: shape(name) for name in contract["state"]},
            {name: shape(name) for name in contract["memory"]},
        )

    # === Checks ===

    def check_source_ids(self, source_ids):
        """`source_ids` as a checked `(batch, src_len)` int32 array."""
        ids = _integers("source_ids", source_ids)
        if ids.ndim != 2 or 0 in ids.shape:
            raise ValueError(
                f"source_ids must be a (batch, src_len) array with at least one row and one "
                f"column, got shape {ids.shape}; wrap a single source in a list: [[5, 6, 7]]."
            )
        _check_range("source_ids", ids, self.source_vocab_size, "source")
        present = ids != 0
        lengths = present.sum(axis=1)
        if not lengths.all():
            row = int(np.argmin(lengths))
            raise ValueError(
                f"Row {row} of source_ids is all padding (0): every row needs at least one "
                "token (an empty text has an empty translation; leave it out)."
            )
        if not (present == (np.arange(ids.shape[1]) < lengths[:, None])).all():
            row = int(np.argmax((present != (np.arange(ids.shape[1]) < lengths[:, None])).any(1)))
            raise ValueError(
                f"Row {row} of source_ids has padding (0) before a token: {ids[row].tolist()}; "
                "padding goes after the tokens only."
            )
        return ids.astype(np.int32, copy=False)

    def check_step_inputs(self, token_ids, state, memory):
        """`(token_ids, state, memory)` checked and converted: int32 ids and float32
        arrays, all with the same batch size."""
        tokens = _integers("token_ids", token_ids)
        if tokens.ndim != 1 or tokens.shape[0] == 0:
            raise ValueError(
                f"token_ids must be a (batch,) array of the previous token of each row, got "
                f"shape {tokens.shape}."
            )
        _check_range("token_ids", tokens, self.target_vocab_size, "target")
        batch = tokens.shape[0]
        state = _floats("state", state, self.state_shapes, batch)
        memory = _floats("memory", memory, self.memory_shapes, batch)
        lengths = {name: value.shape[1] for name, value in memory.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"The memory arrays disagree on the source length: {lengths}.")
        return tokens.astype(np.int32, copy=False), state, memory


def _integers(name, value):
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of token ids ({e}).") from None
    if array.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integer token ids, got dtype {array.dtype}"
            + (" (tokenize text first)" if array.dtype.kind in "USO" else "") + "."
        )
    return array


def _check_range(name, ids, vocab_size, side):
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)].flat[0]
        raise ValueError(
            f"{name} holds id {int(bad)}, outside the {side} vocabulary of {vocab_size} "
            f"tokens (ids 0 to {vocab_size - 1})."
        )


def _floats(kind, values, shapes, batch):
    if not isinstance(values, dict):
        raise ValueError(f"{kind} must be a dict of arrays named {sorted(shapes)}, got "
                         f"{type(values).__name__}.")
    missing = sorted(set(shapes) - set(values))
    unexpected = sorted(set(values) - set(shapes))
    if missing or unexpected:
        raise ValueError(
            f"{kind} must have exactly the entries {sorted(shapes)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {unexpected}" if unexpected else "")
            + ". Pass what encode() and the previous step returned."
        )
    checked = {}
    for name, expected in shapes.items():
        try:
            array = np.asarray(values[name])
        except ValueError as e:
            raise ValueError(f"{kind}[{name!r}] is not a rectangular array ({e}).") from None
        if array.dtype.kind not in "fiu":
            raise ValueError(f"{kind}[{name!r}] must be numeric, got dtype {array.dtype}.")
        want = (batch,) + expected
        if array.ndim != len(want) or any(
                d is not None and d != got for d, got in zip(want, array.shape)):
            shown = tuple("src_len" if d is None else d for d in want)
            raise ValueError(
                f"{kind}[{name!r}] has shape {array.shape}, expected {shown} (batch {batch} "
                "from token_ids)."
            )
        checked[name] = array.astype(np.float32, copy=False)
    return checked
