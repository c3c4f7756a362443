"""Batched beam search over a step function."""

import numpy as np

from keras_s2s.decoding.common import (
    Hypothesis,
    batch_size,
    check_ids,
    log_softmax,
    repeat_rows,
    take_rows,
)


def length_penalty_factor(length, alpha):
    """GNMT's length penalty `((5 + length) / 6) ** alpha` (1 when `alpha` is 0)."""
    return ((5.0 + length) / 6.0) ** alpha


def beam_search(step_fn, state, memory, *, start_id, end_id, max_length, beam_size=4,
                length_penalty=0.0, n_best=1):
    """Keeps the `beam_size` best partial sequences of every source at each step.

    At each step every live hypothesis is extended by every token, and the
    `beam_size` best extensions that do not end stay alive. An extension ending with
    `end_id` is kept as finished when it ranks among the `beam_size` best of the step
    (so `beam_size=1` is exactly greedy search). A source is done when it has
    `beam_size` finished hypotheses; at `max_length` its live hypotheses are added
    unfinished.

    Args:
        step_fn, state, memory, start_id, end_id, max_length: as `greedy_search`.
        beam_size: hypotheses kept per source (>= 1, at most the vocabulary size).
        length_penalty: GNMT alpha. Hypotheses are ranked by
            `score / ((5 + length) / 6) ** alpha` with `length` counting the end token;
            0 ranks by the plain sum of log-probabilities (which favours short
            outputs), larger values favour longer ones.
        n_best: hypotheses returned per source, best first (<= beam_size).

    Returns:
        A list with, for each source, a list of `n_best` `Hypothesis` sorted by
        `ranking_score`, best first.
    """
    check_ids(start_id, end_id, max_length)
    if not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
        raise ValueError(f"beam_size must be a positive int, got {beam_size!r}.")
    if not isinstance(n_best, (int, np.integer)) or not 1 <= n_best <= beam_size:
        raise ValueError(f"n_best must be between 1 and beam_size ({beam_size}), got {n_best!r}.")
    if not (isinstance(length_penalty, (int, float, np.number)) and length_penalty >= 0
            and np.isfinite(length_penalty)):
        raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}.")

    n, k = batch_size(state, memory), beam_size
    # Row i * k + j of the decoding batch is beam j of source i.
    state, memory = repeat_rows(state, k), repeat_rows(memory, k)
    tokens = np.full(n * k, start_id, dtype=np.int32)
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0  # all beams start equal: keep one so the first step has no copies
    history = np.zeros((n, k, 0), dtype=np.int32)
    attention_history = None
    finished = [[] for _ in range(n)]
    done = np.zeros(n, dtype=bool)

    def rank(score, length):
        return score / length_penalty_factor(length, length_penalty)

    for t in range(max_length):
        logits, state, weights = step_fn(tokens, state, memory)
        log_probs = log_softmax(logits)
        vocab = log_probs.shape[-1]
        if k > vocab:
            raise ValueError(f"beam_size ({k}) is larger than the vocabulary ({vocab}).")
        if weights is not None:
            weights = np.asarray(weights).reshape(n, k, 1, -1)
            if attention_history is None:
                attention_history = np.zeros((n, k, 0, weights.shape[-1]), weights.dtype)
            step_attention = np.concatenate([attention_history, weights], axis=2)
        candidates = (scores[:, :, None] + log_probs.reshape(n, k, vocab)).reshape(n, -1)
        # The 2k best candidates always hold k that do not end.
        best = np.argsort(-candidates, axis=1, kind="stable")[:, : 2 * k]
        parents = np.zeros((n, k), dtype=np.int64)
        next_tokens = np.full((n, k), end_id, dtype=np.int32)
        next_scores = np.full((n, k), -np.inf)
        for i in np.flatnonzero(~done):
            alive = 0
            for position, flat in enumerate(best[i]):
                parent, token = divmod(int(flat), vocab)
                score = candidates[i, flat]
                if token == end_id:
                    if position < k and np.isfinite(score):
                        finished[i].append(Hypothesis(
                            tokens=history[i, parent].tolist(),
                            score=float(score),
                            attention=None if weights is None
                            else attention_history[i, parent],
                            finished=True,
                            ranking_score=float(rank(score, t + 1)),
                        ))
                    continue
                parents[i, alive], next_tokens[i, alive] = parent, token
                next_scores[i, alive] = score
                alive += 1
                if alive == k:
                    break
            done[i] = len(finished[i]) >= k
        if done.all():
            break
        history = np.concatenate(
            [np.take_along_axis(history, parents[:, :, None], axis=1), next_tokens[:, :, None]],
            axis=2,
        )
        if weights is not None:
            attention_history = np.take_along_axis(
                step_attention, parents[:, :, None, None], axis=1
            )
        rows = (np.arange(n)[:, None] * k + parents).reshape(-1)
        state = take_rows(state, rows)
        scores = next_scores
        tokens = next_tokens.reshape(-1)

    results = []
    for i in range(n):
        hypotheses = list(finished[i])
        if not done[i]:
            for j in range(k):
                if np.isfinite(scores[i, j]):
                    hypotheses.append(Hypothesis(
                        tokens=history[i, j].tolist(),
                        score=float(scores[i, j]),
                        attention=None if attention_history is None else attention_history[i, j],
                        finished=False,
                        ranking_score=float(rank(scores[i, j], history.shape[2])),
                    ))
        hypotheses.sort(key=lambda h: -h.ranking_score)
        results.append(hypotheses[:n_best])
    return results
