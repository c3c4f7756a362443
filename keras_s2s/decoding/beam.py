"""Batched beam search over a step function."""

import numpy as np

from keras_s2s.decoding.common import (
    Hypothesis,
    batch_size,
    check_ids,
    log_softmax,
    repeat_rows,
    take_rows,
    top_indices,
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
    state, memory = repeat_rows(state, k), repeat_rows(memory, k)
    finished = [[] for _ in range(n)]
    done = np.zeros(n, dtype=bool)
    # The loop's arrays hold the sources still searching (`active`, indices into the
    # batch), `k` rows each. Sources that are done leave once they are half of them
    # (at most log2(n) + 1 batch shapes, as in greedy search).
    active = np.arange(n)
    tokens = np.full(n * k, start_id, dtype=np.int32)
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0  # all beams start equal: keep one so the first step has no copies
    history = np.zeros((n, k, 0), dtype=np.int32)
    attention_history = None

    def rank(score, length):
        return score / length_penalty_factor(length, length_penalty)

    for t in range(max_length):
        m = len(active)
        logits, state, weights = step_fn(tokens, state, memory)
        log_probs = log_softmax(logits)
        vocab = log_probs.shape[-1]
        if k > vocab:
            raise ValueError(f"beam_size ({k}) is larger than the vocabulary ({vocab}).")
        if weights is not None:
            weights = np.asarray(weights).reshape(m, k, 1, -1)
            if attention_history is None:
                attention_history = np.zeros((m, k, 0, weights.shape[-1]), weights.dtype)
            step_attention = np.concatenate([attention_history, weights], axis=2)
        candidates = (scores[:, :, None] + log_probs.reshape(m, k, vocab)).reshape(m, -1)
        best = top_indices(candidates, 2 * k)
        parents = np.zeros((m, k), dtype=np.int64)
        next_tokens = np.full((m, k), end_id, dtype=np.int32)
        next_scores = np.full((m, k), -np.inf)
        for row in np.flatnonzero(~done[active]):
            i = active[row]
            alive = 0
            for position, flat in enumerate(best[row]):
                parent, token = divmod(int(flat), vocab)
                score = candidates[row, flat]
                if token == end_id:
                    if position < k and np.isfinite(score):
                        finished[i].append(Hypothesis(
                            tokens=history[row, parent].tolist(),
                            score=float(score),
                            attention=None if weights is None
                            else attention_history[row, parent],
                            finished=True,
                            ranking_score=float(rank(score, t + 1)),
                        ))
                    continue
                parents[row, alive], next_tokens[row, alive] = parent, token
                next_scores[row, alive] = score
                alive += 1
                if alive == k:
                    break
            done[i] = len(finished[i]) >= k
        searching = ~done[active]
        if not searching.any():
            break
        history = np.concatenate(
            [np.take_along_axis(history, parents[:, :, None], axis=1), next_tokens[:, :, None]],
            axis=2,
        )
        if weights is not None:
            attention_history = np.take_along_axis(
                step_attention, parents[:, :, None, None], axis=1
            )
        rows = (np.arange(m)[:, None] * k + parents).reshape(-1)
        state = take_rows(state, rows)
        scores = next_scores
        tokens = next_tokens.reshape(-1)
        if 2 * searching.sum() <= m:
            keep_rows = np.repeat(searching, k)
            active, scores, history = active[searching], scores[searching], history[searching]
            if attention_history is not None:
                attention_history = attention_history[searching]
            tokens = tokens[keep_rows]
            state, memory = take_rows(state, keep_rows), take_rows(memory, keep_rows)

    position = {int(i): row for row, i in enumerate(active)}
    results = []
    for i in range(n):
        hypotheses = list(finished[i])
        if not done[i]:
            row = position[i]  # a source that is not done is still in the loop's arrays
            for j in range(k):
                if np.isfinite(scores[row, j]):
                    hypotheses.append(Hypothesis(
                        tokens=history[row, j].tolist(),
                        score=float(scores[row, j]),
                        attention=None if attention_history is None
                        else attention_history[row, j],
                        finished=False,
                        ranking_score=float(rank(scores[row, j], history.shape[2])),
                    ))
        hypotheses.sort(key=lambda h: -h.ranking_score)
        results.append(hypotheses[:n_best])
    return results
