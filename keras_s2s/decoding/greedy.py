"""Greedy search and sampling: one token per row per step."""

import numpy as np

from keras_s2s.decoding.common import (
    Hypothesis,
    batch_size,
    check_ids,
    check_sampling,
    log_softmax,
)


def greedy_search(step_fn, state, memory, *, start_id, end_id, max_length):
    """Decodes every row by taking the most likely token at each step.

    Args:
        step_fn: the step function (see `keras_s2s.decoding.common`).
        state: initial state dict, `(n, ...)` arrays.
        memory: memory dict, `(n, ...)` arrays.
        start_id: token fed at the first step.
        end_id: token that ends a sequence.
        max_length: most tokens generated per row (the end token included).

    Returns:
        A list of `n` `Hypothesis`.
    """
    return _decode_token_by_token(
        step_fn, state, memory, start_id, end_id, max_length,
        pick=lambda log_probs: log_probs.argmax(axis=-1),
    )


def sample(step_fn, state, memory, *, start_id, end_id, max_length, temperature=1.0,
           top_k=0, seed=None):
    """Decodes every row by sampling each token from the model's distribution.

    Args:
        temperature: divides the logits before sampling; below 1 sharpens, above 1
            flattens. Must be positive (use `greedy_search` for "temperature 0").
        top_k: sample among the `top_k` most likely tokens only (0: all tokens);
            tokens tied with the `top_k`-th are kept too, so `top_k=1` is greedy search
            only where the top logit is unique.
        seed: seed of the numpy random generator, for reproducible samples.
        Others: as `greedy_search`.

    Returns:
        A list of `n` `Hypothesis`; scores are log-probabilities under the model
        (without temperature or top-k).
    """
    check_sampling(temperature, top_k)
    rng = np.random.default_rng(seed)

    def pick(log_probs):
        scaled = log_probs / temperature
        if top_k and top_k < scaled.shape[-1]:
            kth = np.partition(scaled, -top_k, axis=-1)[:, -top_k][:, None]
            scaled = np.where(scaled >= kth, scaled, -np.inf)
        probs = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        cumulative = probs.cumsum(axis=-1)
        draws = rng.random((len(probs), 1)) * cumulative[:, -1:]
        # The first token whose cumulative probability exceeds the draw: never one of
        # probability 0, even for a draw of exactly 0.
        return np.minimum((cumulative <= draws).sum(axis=-1), probs.shape[-1] - 1)

    return _decode_token_by_token(step_fn, state, memory, start_id, end_id, max_length, pick)


def _decode_token_by_token(step_fn, state, memory, start_id, end_id, max_length, pick):
    check_ids(start_id, end_id, max_length)
    n = batch_size(state, memory)
    rows = np.arange(n)
    tokens = np.full(n, start_id, dtype=np.int32)
    generated, attention = [], []
    scores = np.zeros(n)
    lengths = np.full(n, max_length)  # tokens kept per row, the end token excluded
    finished = np.zeros(n, dtype=bool)
    for t in range(max_length):
        logits, state, weights = step_fn(tokens, state, memory)
        log_probs = log_softmax(logits)
        tokens = pick(log_probs).astype(np.int32)
        scores += np.where(finished, 0.0, log_probs[rows, tokens])
        generated.append(tokens)
        attention.append(weights)
        ended = ~finished & (tokens == end_id)
        lengths[ended] = t
        finished |= ended
        if finished.all():
            break
    generated = np.stack(generated, axis=1)
    has_attention = attention[0] is not None
    if has_attention:
        attention = np.stack(attention, axis=1)
    return [
        Hypothesis(
            tokens=generated[i, : lengths[i]].tolist(),
            score=float(scores[i]),
            attention=attention[i, : lengths[i]] if has_attention else None,
            finished=bool(finished[i]),
        )
        for i in range(n)
    ]
