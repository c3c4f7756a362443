"""Scores: the grapheme-to-phoneme word and phoneme error rates with several references
per word, with and without stress (the CMUdict convention of ../shared/data/cmudict)."""

import pytest

from keras_s2s.evaluation import edit_distance, group_references, pronunciation_scores


def test_edit_distance():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["A"]) == 1 and edit_distance(["A"], []) == 1
    assert edit_distance(("HH", "AH0"), ("HH", "AH0")) == 0


def test_a_word_is_right_when_it_matches_any_of_its_pronunciations():
    references = [["T AH0 M EY1 T OW2", "T AH0 M AA1 T OW2"], ["HH AH0 L OW1"]]
    found = pronunciation_scores(["T AH0 M AA1 T OW2", "HH AH0 L OW1"], references)
    assert found["wer"] == found["per"] == 0.0 and found["n"] == 2
    # One phoneme wrong in one of two words: WER 1/2; PER against the closest
    # reference (6 phonemes) plus the 4 of the other word.
    found = pronunciation_scores(["T AH0 M AE1 T OW2", "HH AH0 L OW1"], references)
    assert found["wer"] == 0.5 and found["per"] == round(1 / 10, 4)


def test_stress_is_scored_with_and_without_its_digits():
    found = pronunciation_scores(["HH AH1 L OW0"], [["HH AH0 L OW1"]])
    assert found["wer"] == 1.0 and found["per"] == 0.5  # two of four phonemes differ
    assert found["wer_no_stress"] == 0.0 and found["per_no_stress"] == 0.0


def test_the_closest_reference_sets_the_phoneme_length():
    # The hypothesis is one deletion from the 3-phoneme reference and 3 edits from
    # the 5-phoneme one: PER = 1 / 3, not 3 / 5 or 1 / 5.
    found = pronunciation_scores(["A B"], [["A B C", "X Y Z W V"]])
    assert found["per"] == round(1 / 3, 4)


def test_group_references_keeps_each_word_once_in_order():
    words, references = group_references([("a", "1"), ("b", "2"), ("a", "3")])
    assert words == ["a", "b"] and references == [["1", "3"], ["2"]]
    with pytest.raises(ValueError, match="2 hypotheses for 1 words"):
        pronunciation_scores(["A", "B"], [["A"]])
