"""Tests of keras_s2s.decoding with hand-built numpy step functions (no TensorFlow)."""

import itertools
import subprocess
import sys

import numpy as np
import pytest

from keras_s2s.decoding import (
    Hypothesis,
    beam_search,
    greedy_search,
    length_penalty_factor,
    log_normalizer,
    log_softmax,
    sample,
)
from keras_s2s.decoding.common import top_indices

START, END = 1, 2


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# === Step functions ===


class TableStep:
    """A deterministic pseudo-model whose outputs depend on the whole prefix.

    The state `h` hashes the prefix; logits and attention are looked up from fixed random
    tables by that hash, plus a per-source bias from the memory. Attention is masked
    by the memory's source mask.
    """

    def __init__(self, vocab=7, seed=0, end_boost=0.0, buckets=101):
        rng = np.random.default_rng(seed)
        self.vocab, self.buckets = vocab, buckets
        self.logits = rng.normal(0.0, 2.0, size=(buckets, vocab))
        self.logits[:, END] += end_boost
        self.scores = rng.normal(0.0, 2.0, size=(buckets, 64))
        self.calls = 0

    def initial(self, n, src_len=5, seed=1):
        rng = np.random.default_rng(seed)
        state = {"h": rng.integers(0, self.buckets, size=n)}
        lengths = rng.integers(1, src_len + 1, size=n)
        mask = (np.arange(src_len)[None, :] < lengths[:, None]).astype(np.float32)
        memory = {"bias": rng.normal(0.0, 1.0, size=(n, self.vocab)), "source_mask": mask}
        return state, memory

    def __call__(self, token_ids, state, memory):
        self.calls += 1
        token_ids = np.asarray(token_ids)
        assert token_ids.shape == (len(state["h"]),)
        h = (state["h"] * 31 + token_ids + 7) % self.buckets
        logits = self.logits[h] + memory["bias"]
        mask = memory["source_mask"]
        attention = softmax(self.scores[h][:, : mask.shape[1]]) * mask
        attention /= attention.sum(-1, keepdims=True)
        return logits, {"h": h}, attention


def markov_step(table):
    """A step function whose next-token log-probabilities depend on the previous token
    only: `table[previous]`. No attention."""

    def step(token_ids, state, memory):
        return np.log(table[np.asarray(token_ids)]), dict(state), None

    return step


def counter_step(rows_by_time):
    """A step function whose next-token probabilities depend on the step number only."""

    def step(token_ids, state, memory):
        t = state["t"]
        probs = rows_by_time[np.minimum(t, len(rows_by_time) - 1)]
        return np.log(probs), {"t": t + 1}, None

    return step


def one_row(tree, row):
    return {name: value[row:row + 1] for name, value in tree.items()}


def replay(step_fn, state, memory, sequence):
    """Teacher-forces `sequence` (after the start token) through one row.

    Returns the log-probability of each token of `sequence` and the attention rows of
    the steps that produced them (`None` without attention).
    """
    log_probs, attention = [], []
    token = START
    for next_token in sequence:
        logits, state, weights = step_fn(np.array([token], np.int32), state, memory)
        log_probs.append(log_softmax(logits)[0, next_token])
        attention.append(None if weights is None else weights[0])
        token = next_token
    if attention and attention[0] is None:
        return np.array(log_probs), None
    return np.array(log_probs), (np.array(attention) if attention else None)


def check_hypothesis(hypothesis, step_fn, state, memory, row, max_length):
    """A hypothesis's score and attention are those of its own tokens."""
    sequence = hypothesis.tokens + ([END] if hypothesis.finished else [])
    assert END not in hypothesis.tokens
    assert len(sequence) <= max_length
    if not hypothesis.finished:
        assert len(hypothesis.tokens) == max_length
    log_probs, attention = replay(step_fn, one_row(state, row), one_row(memory, row),
                                  sequence)
    assert hypothesis.score == pytest.approx(log_probs.sum(), abs=1e-9)
    if attention is None:
        assert hypothesis.attention is None
    else:
        src_len = memory["source_mask"].shape[1]
        assert hypothesis.attention.shape == (len(hypothesis.tokens), src_len)
        np.testing.assert_allclose(hypothesis.attention, attention[: len(hypothesis.tokens)],
                                   rtol=0, atol=1e-12)


def brute_force_best(step_fn, state, memory, vocab, max_length):
    """The most probable finished sequence of one row, by enumerating all of them."""
    best_score, best_tokens = -np.inf, None
    others = [token for token in range(vocab) if token != END]
    for length in range(max_length):
        for tokens in itertools.product(others, repeat=length):
            log_probs, _ = replay(step_fn, state, memory, list(tokens) + [END])
            if log_probs.sum() > best_score:
                best_score, best_tokens = log_probs.sum(), list(tokens)
    return best_tokens, best_score


# === Greedy search ===


@pytest.mark.parametrize("seed", range(4))
def test_greedy_picks_the_arg_max_and_scores_its_tokens(seed):
    step = TableStep(seed=seed, end_boost=1.0)
    state, memory = step.initial(4)
    hypotheses = greedy_search(step, state, memory, start_id=START, end_id=END,
                               max_length=8)
    assert len(hypotheses) == 4
    for row, hypothesis in enumerate(hypotheses):
        check_hypothesis(hypothesis, step, state, memory, row, 8)
        assert hypothesis.ranking_score == hypothesis.score
        # Each token is the arg-max given its prefix.
        sequence = hypothesis.tokens + ([END] if hypothesis.finished else [])
        token, st = START, one_row(state, row)
        for next_token in sequence:
            logits, st, _ = step(np.array([token]), st, one_row(memory, row))
            assert logits[0].argmax() == next_token
            token = next_token


def test_greedy_stops_at_max_length_unfinished():
    step = TableStep(seed=3)
    step.logits[:, END] = -1e9  # never ends
    state, memory = step.initial(3)
    for max_length in (1, 4):
        hypotheses = greedy_search(step, state, memory, start_id=START, end_id=END,
                                   max_length=max_length)
        for row, hypothesis in enumerate(hypotheses):
            assert not hypothesis.finished
            assert len(hypothesis.tokens) == max_length
            check_hypothesis(hypothesis, step, state, memory, row, max_length)


def test_greedy_stops_calling_the_model_once_every_row_ended():
    table = np.full((5, 5), 0.05)
    table[:, END] = 0.8
    step = markov_step(table / table.sum(-1, keepdims=True))
    calls = []

    def counting(*args):
        calls.append(1)
        return step(*args)

    [hypothesis] = greedy_search(counting, {"dummy": np.zeros((1, 1))}, {},
                                 start_id=START, end_id=END, max_length=10)
    assert hypothesis.tokens == [] and hypothesis.finished
    assert len(calls) == 1
    assert hypothesis.score == pytest.approx(np.log(0.8 / 1.0), abs=1e-9)


# === Beam search ===


@pytest.mark.parametrize("seed", range(6))
def test_beam_of_one_equals_greedy(seed):
    step = TableStep(seed=seed, end_boost=0.5)
    state, memory = step.initial(3, seed=seed)
    kwargs = dict(start_id=START, end_id=END, max_length=7)
    greedy = greedy_search(step, state, memory, **kwargs)
    beam = beam_search(step, state, memory, beam_size=1, **kwargs)
    assert len(beam) == 3
    for g, hypotheses in zip(greedy, beam):
        assert len(hypotheses) == 1
        b = hypotheses[0]
        assert b.tokens == g.tokens
        assert b.finished == g.finished
        assert b.score == pytest.approx(g.score, abs=1e-9)
        np.testing.assert_allclose(b.attention, g.attention, atol=1e-12)
    # Not a degenerate case where every row ends at once.
    assert any(g.tokens for g in greedy)


def greedy_trap():
    """Tokens: 0 pad, 1 start, 2 end, 3 A, 4 B. Greedy takes A (0.55) and then never
    ends with much probability, while B (0.45) ends with 0.9."""
    probs = np.full((5, 5), 1.0)  # rows not listed: uniform
    probs[START] = [1e-6, 1e-6, 1e-6, 0.55, 0.45]
    probs[3] = [1e-6, 1e-6, 0.30, 0.34, 0.32]
    probs[4] = [1e-6, 1e-6, 0.90, 0.05, 0.05]
    return markov_step(probs / probs.sum(-1, keepdims=True))


@pytest.mark.parametrize("beam_size", [2, 3])
def test_beam_finds_the_best_sequence_that_greedy_misses(beam_size):
    step = greedy_trap()
    state, memory = {"dummy": np.zeros((1, 1))}, {}
    max_length = 5
    best_tokens, best_score = brute_force_best(step, state, memory, 5, max_length)

    [greedy] = greedy_search(step, state, memory, start_id=START, end_id=END,
                             max_length=max_length)
    assert greedy.tokens != best_tokens
    assert greedy.score < best_score - 0.1

    [[beam]] = beam_search(step, state, memory, start_id=START, end_id=END,
                           max_length=max_length, beam_size=beam_size)
    assert beam.finished
    assert beam.tokens == best_tokens
    assert beam.score == pytest.approx(best_score, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_beam_hypotheses_are_consistent_and_sorted(seed):
    step = TableStep(vocab=6, seed=seed, end_boost=0.5)
    state, memory = step.initial(3, seed=seed)
    max_length = 6
    results = beam_search(step, state, memory, start_id=START, end_id=END,
                          max_length=max_length, beam_size=4, n_best=4)
    assert len(results) == 3
    for row, hypotheses in enumerate(results):
        assert len(hypotheses) == 4
        ranking = [h.ranking_score for h in hypotheses]
        assert ranking == sorted(ranking, reverse=True)
        sequences = [tuple(h.tokens) + ((END,) if h.finished else ()) for h in hypotheses]
        assert len(set(sequences)) == len(sequences)
        for hypothesis in hypotheses:
            check_hypothesis(hypothesis, step, state, memory, row, max_length)
            assert hypothesis.ranking_score == pytest.approx(hypothesis.score, abs=1e-12)
        # Asking for fewer returns the head of the same list.
        [top] = beam_search(step, one_row(state, row), one_row(memory, row),
                            start_id=START, end_id=END, max_length=max_length,
                            beam_size=4, n_best=2)
        assert [h.tokens for h in top] == [h.tokens for h in hypotheses[:2]]


def reference_beam_search(step_fn, state, memory, vocab, beam_size, max_length,
                          length_penalty):
    """A plain, one-source beam search written from the documented rules.

    Every live hypothesis is extended by every token; candidates are ranked by score;
    an ending candidate among the `beam_size` best of the step is finished, the best
    `beam_size` non-ending candidates stay alive; decoding stops when `beam_size`
    hypotheses have finished, or at `max_length` (live ones are then kept unfinished).
    """

    def rank(score, length):
        return score / ((5.0 + length) / 6.0) ** length_penalty

    beams = [([], 0.0, state)]
    finished, done = [], False
    for t in range(max_length):
        candidates = []
        for tokens, score, beam_state in beams:
            previous = tokens[-1] if tokens else START
            logits, new_state, _ = step_fn(np.array([previous]), beam_state, memory)
            log_probs = log_softmax(logits)[0]
            candidates += [(score + log_probs[v], tokens, v, new_state)
                           for v in range(vocab)]
        candidates.sort(key=lambda c: -c[0])
        beams = []
        for position, (score, tokens, token, new_state) in enumerate(candidates):
            if token == END:
                if position < beam_size:
                    finished.append((tokens, score, True, rank(score, t + 1)))
                continue
            if len(beams) < beam_size:
                beams.append((tokens + [token], score, new_state))
        if len(finished) >= beam_size:
            done = True
            break
    hypotheses = list(finished)
    if not done:
        hypotheses += [(tokens, score, False, rank(score, len(tokens)))
                       for tokens, score, _ in beams]
    hypotheses.sort(key=lambda h: -h[3])
    return hypotheses


@pytest.mark.parametrize("beam_size", [2, 3, 5])
@pytest.mark.parametrize("length_penalty", [0.0, 0.8])
@pytest.mark.parametrize("seed", range(4))
def test_beam_search_matches_a_plain_reference(beam_size, length_penalty, seed):
    step = TableStep(vocab=6, seed=seed, end_boost=0.3)
    state, memory = step.initial(3, seed=seed + 10)
    max_length = 6
    results = beam_search(step, state, memory, start_id=START, end_id=END,
                          max_length=max_length, beam_size=beam_size, n_best=beam_size,
                          length_penalty=length_penalty)
    for row, hypotheses in enumerate(results):
        expected = reference_beam_search(step, one_row(state, row), one_row(memory, row),
                                         6, beam_size, max_length, length_penalty)
        assert len(hypotheses) == beam_size
        assert [(h.tokens, h.finished) for h in hypotheses] == \
            [(tokens, is_finished) for tokens, _, is_finished, _ in expected[:beam_size]]
        np.testing.assert_allclose([h.score for h in hypotheses],
                                   [score for _, score, _, _ in expected[:beam_size]],
                                   atol=1e-9)
        np.testing.assert_allclose([h.ranking_score for h in hypotheses],
                                   [ranked for _, _, _, ranked in expected[:beam_size]],
                                   atol=1e-9)


def length_trap(delta=1e-6):
    """Tokens: 0 pad, 1 start, 2 end, 3 word. Ending at once has probability 0.5; the
    alternative is 'word' (0.45), which then (almost surely) repeats to 4 words and
    ends. The short output has the higher raw log-probability."""
    sure_word = [delta, delta, delta, 1 - 3 * delta]
    sure_end = [delta, delta, 1 - 3 * delta, delta]
    rows = np.array([[0.03, 0.02, 0.5, 0.45]] + [sure_word] * 3 + [sure_end])
    return counter_step(rows)


@pytest.mark.parametrize("length_penalty", [0.0, 0.5, 1.0, 2.0])
def test_length_penalty_lets_a_longer_hypothesis_win(length_penalty):
    step = length_trap()
    state = {"t": np.zeros(1, dtype=np.int64)}
    short_score = replay(step, state, {}, [END])[0].sum()
    long_score = replay(step, state, {}, [3, 3, 3, 3, END])[0].sum()
    assert short_score > long_score  # the premise

    [hypotheses] = beam_search(step, state, {}, start_id=START, end_id=END, max_length=8,
                               beam_size=2, n_best=2, length_penalty=length_penalty)
    by_tokens = {tuple(h.tokens): h for h in hypotheses}
    assert set(by_tokens) == {(), (3, 3, 3, 3)}
    for tokens, hypothesis in by_tokens.items():
        assert hypothesis.finished
        expected = hypothesis.score / ((5 + len(tokens) + 1) / 6) ** length_penalty
        assert hypothesis.ranking_score == pytest.approx(expected, rel=1e-12)
        assert hypothesis.ranking_score == pytest.approx(
            hypothesis.score / length_penalty_factor(len(tokens) + 1, length_penalty))
    long_ranked = long_score / ((5 + 5) / 6) ** length_penalty
    short_ranked = short_score / ((5 + 1) / 6) ** length_penalty
    expected_best = (3, 3, 3, 3) if long_ranked > short_ranked else ()
    assert tuple(hypotheses[0].tokens) == expected_best
    # With these numbers any positive penalty flips the choice.
    assert expected_best == (() if length_penalty == 0 else (3, 3, 3, 3))


def test_beam_stops_at_max_length_unfinished():
    step = TableStep(seed=5)
    step.logits[:, END] = -1e9
    state, memory = step.initial(2)
    for max_length in (1, 3):
        results = beam_search(step, state, memory, start_id=START, end_id=END,
                              max_length=max_length, beam_size=3, n_best=3)
        for row, hypotheses in enumerate(results):
            assert len(hypotheses) == 3
            for hypothesis in hypotheses:
                assert not hypothesis.finished
                assert len(hypothesis.tokens) == max_length
                check_hypothesis(hypothesis, step, state, memory, row, max_length)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_batched_decoding_equals_decoding_each_source_alone(beam_size):
    step = TableStep(seed=11, end_boost=0.7)
    state, memory = step.initial(4, seed=2)
    kwargs = dict(start_id=START, end_id=END, max_length=6)
    batch_greedy = greedy_search(step, state, memory, **kwargs)
    batch_beam = beam_search(step, state, memory, beam_size=beam_size, n_best=beam_size,
                             **kwargs)
    lengths = {len(h.tokens) for h in batch_greedy}
    assert len(lengths) > 1  # rows end at different steps
    for row in range(4):
        [alone] = greedy_search(step, one_row(state, row), one_row(memory, row), **kwargs)
        assert alone.tokens == batch_greedy[row].tokens
        assert alone.score == pytest.approx(batch_greedy[row].score, abs=1e-12)
        np.testing.assert_allclose(alone.attention, batch_greedy[row].attention, atol=1e-12)
        [beam_alone] = beam_search(step, one_row(state, row), one_row(memory, row),
                                   beam_size=beam_size, n_best=beam_size, **kwargs)
        assert [h.tokens for h in beam_alone] == [h.tokens for h in batch_beam[row]]
        np.testing.assert_allclose([h.score for h in beam_alone],
                                   [h.score for h in batch_beam[row]], atol=1e-12)
        for h_alone, h_batch in zip(beam_alone, batch_beam[row]):
            np.testing.assert_allclose(h_alone.attention, h_batch.attention, atol=1e-12)


class BatchSizes:
    """Wraps a step function and records the batch size of every call."""

    def __init__(self, step):
        self.step, self.sizes = step, []

    def __call__(self, token_ids, state, memory):
        self.sizes.append(len(token_ids))
        return self.step(token_ids, state, memory)


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_finished_rows_leave_the_batch(strategy):
    """Rows (beam: sources) that have ended stop costing steps once they are half of
    the batch, and what every row gets is what it gets decoded alone."""
    n, k = 24, 3
    step = TableStep(seed=5, end_boost=0.4)
    state, memory = step.initial(n, seed=3)
    kwargs = dict(start_id=START, end_id=END, max_length=12)
    if strategy == "beam":
        kwargs.update(beam_size=k, n_best=2)
    search = greedy_search if strategy == "greedy" else beam_search
    recorder = BatchSizes(step)
    batch = search(recorder, state, memory, **kwargs)
    rows_per_source = 1 if strategy == "greedy" else k
    assert recorder.sizes[0] == n * rows_per_source
    assert min(recorder.sizes) < recorder.sizes[0]  # the batch shrank
    assert recorder.sizes == sorted(recorder.sizes, reverse=True)
    assert len(set(recorder.sizes)) <= int(np.log2(n)) + 1
    for row in range(n):
        [alone] = search(step, one_row(state, row), one_row(memory, row), **kwargs)
        alone, batch_row = ([alone], [batch[row]]) if strategy == "greedy" else (alone, batch[row])
        assert [h.tokens for h in alone] == [h.tokens for h in batch_row]
        np.testing.assert_allclose([h.score for h in alone], [h.score for h in batch_row],
                                   atol=1e-12)
        for h_alone, h_batch in zip(alone, batch_row):
            assert h_alone.finished == h_batch.finished
            np.testing.assert_allclose(h_alone.attention, h_batch.attention, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_top_indices_ranks_like_a_stable_full_sort(seed):
    """Ties (and -inf, as the first beam step has) rank by index, as a stable sort does."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        rows, width = rng.integers(1, 5), rng.integers(1, 40)
        values = rng.integers(-3, 3, size=(rows, width)).astype(float)
        values[rng.random((rows, width)) < 0.2] = -np.inf
        count = int(rng.integers(1, width + 3))
        np.testing.assert_array_equal(
            top_indices(values, count),
            np.argsort(-values, axis=1, kind="stable")[:, :count])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(beam_size=0), "beam_size"),
        (dict(beam_size=-2), "beam_size"),
        (dict(beam_size=2.0), "beam_size"),
        (dict(beam_size=8), "vocabulary"),  # the vocabulary has 7 tokens
        (dict(beam_size=2, n_best=3), "n_best"),
        (dict(beam_size=2, n_best=0), "n_best"),
        (dict(length_penalty=-0.5), "length_penalty"),
        (dict(max_length=0), "max_length"),
        (dict(start_id=-1), "start_id"),
        (dict(end_id=None), "end_id"),
    ],
)
def test_beam_rejects_bad_arguments(kwargs, match):
    step = TableStep(vocab=7)
    state, memory = step.initial(2)
    arguments = dict(start_id=START, end_id=END, max_length=5)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        beam_search(step, state, memory, **arguments)


def test_beam_as_large_as_the_vocabulary_works():
    step = TableStep(vocab=4, seed=1, end_boost=1.0)
    state, memory = step.initial(2)
    results = beam_search(step, state, memory, start_id=START, end_id=END, max_length=4,
                          beam_size=4, n_best=4)
    for row, hypotheses in enumerate(results):
        assert len(hypotheses) == 4
        for hypothesis in hypotheses:
            check_hypothesis(hypothesis, step, state, memory, row, 4)


def test_decoding_without_attention_gives_none():
    step = greedy_trap()
    state = {"dummy": np.zeros((2, 1))}
    for hypothesis in greedy_search(step, state, {}, start_id=START, end_id=END,
                                    max_length=4):
        assert hypothesis.attention is None
    for hypotheses in beam_search(step, state, {}, start_id=START, end_id=END,
                                  max_length=4, beam_size=2, n_best=2):
        assert all(h.attention is None for h in hypotheses)


# === Sampling ===


def test_sampling_with_a_seed_is_reproducible():
    step = TableStep(seed=4, end_boost=-1.0)
    state, memory = step.initial(8)
    kwargs = dict(start_id=START, end_id=END, max_length=8, temperature=1.5)
    first = sample(step, state, memory, seed=7, **kwargs)
    second = sample(step, state, memory, seed=7, **kwargs)
    other = sample(step, state, memory, seed=8, **kwargs)
    assert [h.tokens for h in first] == [h.tokens for h in second]
    assert [h.score for h in first] == [h.score for h in second]
    assert [h.tokens for h in first] != [h.tokens for h in other]
    for row, hypothesis in enumerate(first):
        # Scores are log-probabilities under the model, without the temperature.
        check_hypothesis(hypothesis, step, state, memory, row, 8)


def test_sampling_with_top_k_one_is_greedy():
    step = TableStep(seed=9, end_boost=0.5)
    state, memory = step.initial(5)
    kwargs = dict(start_id=START, end_id=END, max_length=7)
    greedy = greedy_search(step, state, memory, **kwargs)
    for seed in (0, 1):
        sampled = sample(step, state, memory, top_k=1, seed=seed, temperature=3.0, **kwargs)
        assert [h.tokens for h in sampled] == [h.tokens for h in greedy]
        assert [h.finished for h in sampled] == [h.finished for h in greedy]
        np.testing.assert_allclose([h.score for h in sampled], [h.score for h in greedy],
                                   atol=1e-12)


def test_sampling_with_top_k_stays_in_the_top_k():
    step = TableStep(vocab=8, seed=2, end_boost=-2.0)
    state, memory = step.initial(30)
    hypotheses = sample(step, state, memory, start_id=START, end_id=END, max_length=5,
                        top_k=2, seed=0, temperature=5.0)
    seen_second_choice = False
    for row, hypothesis in enumerate(hypotheses):
        sequence = hypothesis.tokens + ([END] if hypothesis.finished else [])
        token, st = START, one_row(state, row)
        for next_token in sequence:
            logits, st, _ = step(np.array([token]), st, one_row(memory, row))
            top2 = np.argsort(-logits[0])[:2]
            assert next_token in top2
            seen_second_choice |= next_token == top2[1]
            token = next_token
    assert seen_second_choice  # it is sampling, not greedy


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_sampling_follows_the_tempered_distribution(temperature):
    logits = np.array([0.0, 1.0, 2.0, -1.0, 0.5])
    n = 20000

    def step(token_ids, state, memory):
        return np.tile(logits, (len(token_ids), 1)), state, None

    state = {"dummy": np.zeros((n, 1))}
    hypotheses = sample(step, state, {}, start_id=START, end_id=END, max_length=1,
                        temperature=temperature, seed=123)
    first = np.array([h.tokens[0] if h.tokens else END for h in hypotheses])
    frequencies = np.bincount(first, minlength=len(logits)) / n
    expected = softmax(logits / temperature)
    # Binomial standard deviation is at most 0.0036 here: 5 sigma.
    np.testing.assert_allclose(frequencies, expected, atol=0.018)
    assert all(h.finished == (not h.tokens) for h in hypotheses)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(temperature=0.0), "temperature"),
        (dict(temperature=-1.0), "temperature"),
        (dict(top_k=-1), "top_k"),
        (dict(top_k=1.5), "top_k"),
        (dict(max_length=0), "max_length"),
    ],
)
def test_sampling_rejects_bad_arguments(kwargs, match):
    step = TableStep()
    state, memory = step.initial(2)
    arguments = dict(start_id=START, end_id=END, max_length=5)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sample(step, state, memory, **arguments)


def test_greedy_rejects_bad_ids():
    step = TableStep()
    state, memory = step.initial(2)
    with pytest.raises(ValueError, match="end_id"):
        greedy_search(step, state, memory, start_id=START, end_id=-3, max_length=5)
    with pytest.raises(ValueError, match="max_length"):
        greedy_search(step, state, memory, start_id=START, end_id=END, max_length=2.5)


# === Helpers and packaging ===


def test_log_softmax_is_stable_and_normalized():
    logits = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    result = log_softmax(logits)
    assert np.all(np.isfinite(result[1])) and np.isfinite(result[0, :2]).all()
    np.testing.assert_allclose(np.exp(result).sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(result[1], np.log(softmax(logits[1])), atol=1e-12)


def test_log_softmax_of_float32_logits_keeps_their_exact_order():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(8, 5000)).astype(np.float32)
    logits[:, 10] = logits[:, 11] = logits.max(axis=1)  # ties stay ties
    logits[:, 12] = np.nextafter(logits[:, 10], np.float32(-np.inf))  # one ulp below
    result = log_softmax(logits)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(np.argsort(-result, axis=1, kind="stable"),
                                  np.argsort(-logits, axis=1, kind="stable"))
    reference = log_softmax(logits.astype(np.float64))
    np.testing.assert_allclose(result, reference, rtol=0, atol=1e-6)
    np.testing.assert_allclose(log_normalizer(logits), np.log(np.exp(logits.astype(
        np.float64)).sum(axis=1)), rtol=0, atol=1e-6)


def test_hypothesis_ranking_score_defaults_to_score():
    assert Hypothesis([3], -1.5, None, True).ranking_score == -1.5
    assert Hypothesis([3], -1.5, None, True, ranking_score=-0.5).ranking_score == -0.5


def test_decoding_imports_neither_tensorflow_nor_keras():
    code = (
        "import sys\n"
        "import keras_s2s.decoding\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras', 'jax', 'torch'))\n"
        "assert 'keras_s2s.decoding.beam' in sys.modules\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported: {result.stdout.strip()}"
