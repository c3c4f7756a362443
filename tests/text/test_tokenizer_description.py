"""The portable tokenizer description (`tokenizer.json`) and its conformance file: every
bundle carries both, and the pure-Python tokenizer built from the description alone
passes the conformance cases, whose expected values come from tensorflow-text."""

import json
import os

import pytest

from keras_s2s.runtime import Bundle
from keras_s2s.text import description
from keras_s2s.text.pytokenizer import PyTokenizer
from keras_s2s.zoo.trained import bundle_dir, list_trained


def read(bundle, name):
    with open(os.path.join(bundle, name), encoding="utf-8") as f:
        return json.load(f)


def check_conformance(bundle):
    """Runs the conformance file of a bundle against tokenizers built from its
    description only; returns the number of cases."""
    spec = read(bundle, description.DESCRIPTION_FILE)
    cases = read(bundle, description.CONFORMANCE_FILE)
    source = PyTokenizer.from_description(spec, "source")
    target = PyTokenizer.from_description(spec, "target")
    wrong = [case for case in cases["source"] if source.tokenize(case["text"]) != case["ids"]]
    assert not wrong, wrong[:5]
    for case in cases["target"]:
        assert target.tokenize(case["text"]) == case["ids"], case
        assert target.detokenize(case["ids"] + [2]) == case["detokenized"], case
    return len(cases["source"]) + len(cases["target"])


@pytest.mark.parametrize("name", list_trained())
def test_every_zoo_bundle_passes_its_conformance_file(name):
    bundle = bundle_dir(name)
    assert check_conformance(bundle) >= 300
    cases = read(bundle, description.CONFORMANCE_FILE)
    texts = {case["text"] for case in cases["source"]}
    assert set(description.AWKWARD_TEXTS) <= texts  # the awkward Unicode is in there
    assert sum(len(text) > 100 for text in texts) >= 1
    # The bundle's own tokenizers (vocabulary files and settings) are the described ones.
    described = Bundle(bundle)
    spec = read(bundle, description.DESCRIPTION_FILE)
    for side, tokenizer in (("source", described.source_tokenizer()),
                            ("target", described.target_tokenizer())):
        assert spec[side]["vocabulary"] == tokenizer.vocab.tokens
        assert (spec[side]["level"], spec[side]["lowercase"]) == (tokenizer.level, tokenizer.lowercase)


@pytest.mark.parametrize("level", ["char", "word", "subword"])
@pytest.mark.parametrize("lowercase", [False, True])
def test_a_description_round_trips_through_json(level, lowercase):
    from keras_s2s.text.vocabulary import Vocabulary

    tokenizer = PyTokenizer(Vocabulary(["a", "##b", "c", "Σ", "σ"]), level, lowercase)
    spec = json.loads(json.dumps(description.tokenizer_description(tokenizer, tokenizer)))
    again = PyTokenizer.from_description(spec, "target")
    assert (again.level, again.lowercase, again.vocab.tokens) == (level, lowercase, tokenizer.vocab.tokens)
    for text in description.AWKWARD_TEXTS:
        assert again.tokenize(text) == tokenizer.tokenize(text)
    steps = [step["step"] for step in spec["source"]["standardize"]]
    assert steps == ["nfkc", "remove", "to_space", "collapse_spaces"] + (
        ["lowercase", "nfkc"] if lowercase else [])


def test_descriptions_with_other_rules_are_refused():
    from keras_s2s.text.vocabulary import Vocabulary

    tokenizer = PyTokenizer(Vocabulary(["a"]), "word", False)
    spec = description.tokenizer_description(tokenizer, tokenizer)
    changed = json.loads(json.dumps(spec))
    changed["source"]["split"]["continuation"] = "@@"
    with pytest.raises(ValueError, match="split rules differ"):
        PyTokenizer.from_description(changed, "source")
    with pytest.raises(ValueError, match="newer than this keras_s2s reads"):
        PyTokenizer.from_description({**spec, "format_version": 99}, "source")
    with pytest.raises(ValueError, match="Not a keras_s2s tokenizer description"):
        PyTokenizer.from_description({"format": "other"}, "source")
    with pytest.raises(ValueError, match="side must be"):
        PyTokenizer.from_description(spec, "both")
