"""Vocabulary shortlists (`keras_s2s.decoding.shortlist`): how candidates are counted,
and that decoding over them is decoding with every other word given probability zero."""

import numpy as np
import pytest

from keras_s2s import decoding
from keras_s2s.decoding.shortlist import (
    SPECIAL_IDS,
    Shortlist,
    position_of,
    shortlist_memory,
    shortlisted_step,
)
from keras_s2s.text.vocabulary import END_ID, START_ID

VOCAB, UNITS = 40, 6


def test_build_counts_frequent_words_and_each_source_words_companions():
    pairs = [([4, 5], [10, 11, 12]), ([4], [10, 13]), ([5, 6], [10, 11, 14]),
             ([6], [10, 14]), ([6], [15])]
    shortlist = Shortlist.build(pairs, source_vocab_size=8, target_vocab_size=16,
                                frequent=2, per_word=1)
    # 10 is in 4 targets, 11 and 14 in 2 each: the tie goes to the lower id.
    assert shortlist.frequent.tolist() == [10, 11]
    # Word 4 saw 12 and 13 once each (tie: lower id); word 6 saw 14 twice, 15 once.
    assert shortlist.words_of(4).tolist() == [12]
    assert shortlist.words_of(6).tolist() == [14]
    assert shortlist.words_of(7).tolist() == []  # never seen
    assert shortlist.settings == {"frequent": 2, "per_word": 1, "pairs": 5}


def test_candidates_are_each_rows_own_within_the_batch_union():
    pairs = [([4], [10]), ([5], [11]), ([4, 5], [12])]
    shortlist = Shortlist.build(pairs, source_vocab_size=6, target_vocab_size=13,
                                frequent=0, per_word=2)
    ids, allowed = shortlist.candidates(np.array([[4, 0, 0], [5, 5, 0], [0, 0, 0]]))
    assert ids.tolist() == [*SPECIAL_IDS, 10, 11, 12]
    by_row = [ids[row].tolist() for row in allowed]
    assert by_row == [[*SPECIAL_IDS, 10, 12], [*SPECIAL_IDS, 11, 12], list(SPECIAL_IDS)]


def test_a_shortlist_survives_its_file(tmp_path):
    pairs = [([4, 5], [10, 11]), ([5], [12])]
    shortlist = Shortlist.build(pairs, 6, 13, frequent=1, per_word=3)
    path = tmp_path / "shortlist.npz"
    path.write_bytes(shortlist.to_bytes())
    loaded = Shortlist.load(path)
    for name in ("frequent", "offsets", "words"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(shortlist, name))
    assert loaded.settings == shortlist.settings


@pytest.mark.parametrize("options,message", [({"frequent": -1}, "frequent"),
                                             ({"per_word": 1.5}, "per_word")])
def test_bad_sizes_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        Shortlist.build([([4], [5])], 6, 6, **options)


def test_no_pairs_is_refused():
    with pytest.raises(ValueError, match="No pairs"):
        Shortlist.build([], 6, 6)


class ToyModel:
    """A numpy decoder: features from the previous token and a running state, an
    output layer over VOCAB words."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.embedding = rng.normal(size=(VOCAB, UNITS)).astype(np.float32)
        self.mix = rng.normal(size=(UNITS, UNITS)).astype(np.float32) * 0.5
        self.kernel = rng.normal(size=(UNITS, VOCAB)).astype(np.float32)
        self.bias = rng.normal(size=VOCAB).astype(np.float32)
        self.bias[END_ID] -= 1.0  # rows end at different steps

    def features_step(self, token_ids, state, memory):
        h = np.tanh(self.embedding[token_ids] + state["h"] @ self.mix + memory["source"])
        return h, {"h": h}, None

    def step(self, token_ids, state, memory):
        features, new_state, _ = self.features_step(token_ids, state, memory)
        return features @ self.kernel + self.bias, new_state, None

    def masked_step(self, allowed_ids):
        """The full step with every word outside each row's `allowed_ids` at -inf."""
        def step(token_ids, state, memory):
            logits, new_state, attention = self.step(token_ids, state, memory)
            mask = np.zeros_like(logits, dtype=bool)
            for row, ids in enumerate(memory["allowed_ids"]):
                mask[row, ids] = True
            return np.where(mask, logits, -np.inf), new_state, attention
        return step


def decode(strategy, step, state, memory, start_id, end_id, **options):
    found = strategy(step, state, memory, start_id=start_id, end_id=end_id, max_length=8,
                     **options)
    return found


def run_shortlisted(model, memory, state, ids, allowed, strategy, **options):
    step = shortlisted_step(model.features_step, model.kernel, model.bias, ids)
    found = decode(strategy, step, state, shortlist_memory(memory, allowed),
                   position_of(ids, START_ID), position_of(ids, END_ID), **options)
    return found


def batch(rows=5, seed=1):
    rng = np.random.default_rng(seed)
    return ({"h": np.zeros((rows, UNITS), np.float32)},
            {"source": rng.normal(size=(rows, UNITS)).astype(np.float32)})


def as_ids(ids, hypothesis):
    return ids[np.asarray(hypothesis.tokens, np.int64)].tolist()


def test_a_shortlist_of_every_word_decodes_exactly_as_without_one():
    model = ToyModel()
    state, memory = batch()
    ids = np.arange(VOCAB, dtype=np.int32)  # every word
    allowed = np.ones((5, len(ids)), bool)
    plain = decoding.greedy_search(model.step, state, memory, start_id=START_ID,
                                   end_id=END_ID, max_length=8)
    listed = run_shortlisted(model, memory, state, ids, allowed, decoding.greedy_search)
    assert [as_ids(ids, h) for h in listed] == [h.tokens for h in plain]
    np.testing.assert_allclose([h.score for h in listed], [h.score for h in plain], atol=1e-5)


@pytest.mark.parametrize("strategy,options", [(decoding.greedy_search, {}),
                                              (decoding.beam_search, {"beam_size": 3,
                                                                      "n_best": 3})])
def test_each_row_decodes_as_if_only_its_candidates_existed(strategy, options):
    """Against the full step with each row's other words masked out: the same tokens and
    scores, and a row decoded alone gets what it gets in the batch."""
    model = ToyModel(seed=2)
    state, memory = batch(rows=4, seed=3)
    rng = np.random.default_rng(4)
    own = [np.unique(np.concatenate([SPECIAL_IDS, rng.choice(np.arange(4, VOCAB), 8)]))
           for _ in range(4)]
    ids = np.unique(np.concatenate(own)).astype(np.int32)
    allowed = np.stack([np.isin(ids, row) for row in own])

    listed = run_shortlisted(model, memory, state, ids, allowed, strategy, **options)
    reference = decode(strategy, model.masked_step(own), state,
                       {**memory, "allowed_ids": np.array(own, dtype=object)},
                       START_ID, END_ID, **options)
    flatten = (lambda found: found) if strategy is decoding.greedy_search else (
        lambda found: [h for hypotheses in found for h in hypotheses])
    assert [as_ids(ids, h) for h in flatten(listed)] == [h.tokens for h in flatten(reference)]
    np.testing.assert_allclose([h.score for h in flatten(listed)],
                               [h.score for h in flatten(reference)], atol=1e-5)
    for row in range(4):
        alone_ids = own[row].astype(np.int32)
        alone = run_shortlisted(model, {"source": memory["source"][row:row + 1]},
                                {"h": state["h"][row:row + 1]}, alone_ids,
                                np.ones((1, len(alone_ids)), bool), strategy, **options)
        assert [as_ids(alone_ids, h) for h in flatten(alone)] == \
            [as_ids(ids, h) for h in flatten([listed[row]])]


def test_position_of_a_missing_token_is_an_error():
    with pytest.raises(ValueError, match="not among the candidates"):
        position_of(np.array([1, 2, 5]), 3)
