"""Greedy search and sampling: one token per row per step."""

import numpy as np

from keras_s2s.decoding.common import (
    Hypothesis,
    batch_size,
    check_ids,
    check_sampling,
    log_normalizer,
    log_softmax,
    take_rows,
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
    # The most likely token is the largest logit: no need for every log-probability.
    return _decode_token_by_token(
        step_fn, state, memory, start_id, end_id, max_length,
        pick=lambda logits: logits.argmax(axis=-1),
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

    def pick(logits):
        scaled = log_softmax(logits) / temperature
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
    generated = np.full((n, max_length), end_id, dtype=np.int32)
    attention = None  # (n, max_length, src_len) once a step returns attention weights
    scores = np.zeros(n)
    lengths = np.full(n, max_length)  # tokens kept per row, the end token excluded
    finished = np.zeros(n, dtype=bool)
    # The rows still in the batch: all of them (a slice, cheap to index with) until
    # finished rows leave it, once they are half of it (so a batch takes at most
    # log2(n) + 1 shapes, which keeps shape-specialising runtimes from recompiling at
    # every step); then their indices.
    active = slice(None)
    tokens = np.full(n, start_id, dtype=np.int32)
    for t in range(max_length):
        logits, state, weights = step_fn(tokens, state, memory)
        logits = np.asarray(logits)
        tokens = pick(logits).astype(np.int32)
        running = ~finished[active]
        # The chosen tokens' log-probabilities (`log_softmax`, for these entries only).
        chosen = logits[np.arange(len(tokens)), tokens].astype(np.float64) - log_normalizer(logits)
        scores[active] += np.where(running, chosen, 0.0)
        generated[active, t] = np.where(running, tokens, end_id)
        if weights is not None:
            if attention is None:
                attention = np.zeros((n, max_length, weights.shape[-1]), weights.dtype)
            attention[active, t] = weights
        ended = running & (tokens == end_id)
        if ended.any():
            batch_rows = np.arange(n)[active]
            lengths[batch_rows[ended]] = t
            finished[batch_rows[ended]] = True
            still = ~finished[active]
            if not still.any():
                break
            if 2 * still.sum() <= len(tokens):
                active, tokens = batch_rows[still], tokens[still]
                state, memory = take_rows(state, still), take_rows(memory, still)
    return [
        Hypothesis(
            tokens=generated[i, : lengths[i]].tolist(),
            score=float(scores[i]),
            attention=attention[i, : lengths[i]] if attention is not None else None,
            finished=bool(finished[i]),
        )
        for i in range(n)
    ]
