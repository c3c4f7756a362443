"""Padding lists of token ids into arrays (numpy only, usable on devices)."""

import numpy as np

from keras_s2s.text.vocabulary import PAD_ID


def pad_ids(sequences, length=None, dtype=np.int32):
    """Pads lists of ids with `PAD_ID` at the end into a `(batch, length)` array.

    `length` defaults to the longest sequence (at least 1, so an empty input still
    gives a valid array); longer sequences raise `ValueError`.
    """
    sequences = [list(s) for s in sequences]
    longest = max((len(s) for s in sequences), default=0)
    length = max(longest, 1) if length is None else length
    if longest > length:
        raise ValueError(f"A sequence of {longest} ids does not fit in length {length}.")
    out = np.full((len(sequences), length), PAD_ID, dtype=dtype)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out
