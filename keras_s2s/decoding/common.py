"""What every decoding strategy shares: the step contract, hypotheses, numpy helpers.

A *step function* is the whole interface between decoding and a model:

    step_fn(token_ids, state, memory) -> (logits, new_state, attention)

- `token_ids`: `(n,)` int32, the previous token of each of the `n` rows;
- `state`: dict of `(n, ...)` float arrays that change every step (RNN states);
- `memory`: dict of `(n, ...)` arrays fixed per source (encoder outputs, mask);
- `logits`: `(n, vocab)` float; `attention`: `(n, src_len)` or `None`.

All arrays are numpy, so the same strategies decode Keras, TFLite and ONNX models.
The same contract with named inputs and outputs, as exported graphs take and give it,
is spelled in `keras_s2s.decoding.step`.
"""

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

StepFunction = Callable[[np.ndarray, dict, dict], tuple]


@dataclass
class Hypothesis:
    """One decoded sequence.

    Attributes:
        tokens: generated token ids, without the start token and without the end token.
        score: sum of the log-probabilities of the generated tokens (and of the end
            token when `finished`).
        attention: `(len(tokens), src_len)` attention weights of the steps that produced
            the tokens, or `None` for a model without attention.
        finished: whether the sequence ended with the end token (else it hit
            `max_length`).
        ranking_score: the score hypotheses were ranked by (beam search with a length
            penalty divides `score` by it; else equal to `score`).
    """

    tokens: list
    score: float
    attention: Optional[np.ndarray]
    finished: bool
    ranking_score: Optional[float] = None

    def __post_init__(self):
        if self.ranking_score is None:
            self.ranking_score = self.score


def log_softmax(logits):
    """Numerically stable log-softmax over the last axis, as float64.

    Each row is its logits (made float64 exactly) minus one normalizer
    (`log_normalizer`), so the order of a row's values is exactly the logits' order.
    """
    logits = _float_logits(logits)
    return logits.astype(np.float64) - log_normalizer(logits)[..., None]


def log_normalizer(logits):
    """`log(sum(exp(logits)))` over the last axis, as float64: what `log_softmax`
    subtracts from each row.

    The exponentials are computed in the logits' own precision (float32 from every
    backend: numpy's float32 `exp` is vectorized, its float64 one far slower; at batch 64
    over 5,000 words that was most of a step's time) and summed in float64.
    """
    logits = _float_logits(logits)
    top = logits.max(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):  # a row of -inf only gives NaN, as it should
        total = np.exp(logits - top).sum(axis=-1, dtype=np.float64)
    return top[..., 0].astype(np.float64) + np.log(total)


def _float_logits(logits):
    logits = np.asarray(logits)
    return logits if logits.dtype in (np.float32, np.float64) else logits.astype(np.float32)


def batch_size(state, memory):
    """The number of rows of a decoding batch."""
    for tree in (state, memory):
        for value in tree.values():
            return int(np.shape(value)[0])
    raise ValueError("state and memory are both empty: the batch size is unknown.")


def top_indices(values, count):
    """The indices of the `count` largest values of each row, largest first, ties in index
    order: `np.argsort(-values, axis=1, kind="stable")[:, :count]`, without sorting whole
    rows (a beam of 4 over 5,000 words ranks 20,000 candidates per source and step, of
    which it needs 8)."""
    values = np.asarray(values)
    if count >= values.shape[1]:
        return np.argsort(-values, axis=1, kind="stable")
    chosen = np.argpartition(-values, count - 1, axis=1)[:, :count]
    chosen_values = np.take_along_axis(values, chosen, axis=1)
    # `argpartition` picks any of several values tied with the count-th largest: where
    # such a tie crosses the cut, rank that row whole so the lowest indices win.
    kth = chosen_values.min(axis=1, keepdims=True)
    crossing = (values == kth).sum(axis=1) > (chosen_values == kth).sum(axis=1)
    for row in np.flatnonzero(crossing):
        chosen[row] = np.argsort(-values[row], kind="stable")[:count]
    chosen_values = np.take_along_axis(values, chosen, axis=1)
    order = np.lexsort((chosen, -chosen_values), axis=1)
    return np.take_along_axis(chosen, order, axis=1)


def repeat_rows(tree, times):
    """Repeats every row of every array `times` times: `[a, b] -> [a, a, b, b]`."""
    return {name: np.repeat(value, times, axis=0) for name, value in tree.items()}


def take_rows(tree, rows):
    """Selects rows of every array of a dict."""
    return {name: value[rows] for name, value in tree.items()}


def check_ids(start_id, end_id, max_length):
    """Validates the arguments every strategy takes."""
    for name, value in (("start_id", start_id), ("end_id", end_id)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative token id, got {value!r}.")
    if not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise ValueError(
            f"max_length must be a positive number of tokens, got {max_length!r}."
        )


def check_sampling(temperature, top_k):
    """Validates the arguments of `sample`."""
    if not (isinstance(temperature, (int, float, np.number)) and not isinstance(temperature, bool)
            and math.isfinite(temperature) and temperature > 0):
        raise ValueError(
            f"temperature must be a finite number > 0, got {temperature!r}; for the most "
            "likely tokens (temperature 0) use greedy search."
        )
    if not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or top_k < 0:
        raise ValueError(f"top_k must be 0 (no limit) or a positive int, got {top_k!r}.")
