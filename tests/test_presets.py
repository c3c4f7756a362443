"""Presets and the public API: `keras_s2s.Seq2Seq.from_preset`, `save_to_preset`,
`keras_s2s.TrainedModel`, and lazy imports that keep the runtime free of TensorFlow."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import keras_s2s
from conftest import make_sources, make_targets

ZOO_MODEL = "dates_bahdanau"


def test_public_names_are_the_library_objects():
    from keras_s2s.models import Seq2Seq
    from keras_s2s.trained_model import TrainedModel

    assert keras_s2s.Seq2Seq is Seq2Seq
    assert keras_s2s.TrainedModel is TrainedModel
    assert keras_s2s.layers.Decoder.__name__ == "Decoder"
    assert callable(keras_s2s.runtime.load)
    with pytest.raises(AttributeError, match="no attribute 'Seq2seq'"):
        keras_s2s.Seq2seq  # noqa: B018


def test_importing_the_package_and_its_runtime_loads_no_tensorflow():
    code = ("import sys, keras_s2s, keras_s2s.runtime; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(run.stdout.replace("'", '"')) == []


def test_a_zoo_model_round_trips_through_a_preset_folder(tmp_path):
    model = keras_s2s.Seq2Seq.from_preset(ZOO_MODEL)
    original = keras_s2s.TrainedModel.from_preset(ZOO_MODEL)
    inputs = {"source_ids": make_sources((5, 3)) % model.source_vocab_size,
              "target_ids": make_targets(2, 4) % model.target_vocab_size}
    np.testing.assert_array_equal(np.asarray(model(inputs)), np.asarray(original.model(inputs)))

    # Fine-tuning changes the weights; the preset written afterwards carries them, and
    # the tokenizers of the preset it came from.
    kernel = model.decoder.output_dense.kernel
    kernel.assign(np.asarray(kernel) * 0.5)
    folder = tmp_path / "shared"
    assert model.save_to_preset(folder) == folder
    assert sorted(os.listdir(folder)) == ["model.keras", "s2s.json", "source_vocab.txt",
                                          "target_vocab.txt"]
    loaded = keras_s2s.Seq2Seq.from_preset(folder)
    np.testing.assert_array_equal(np.asarray(loaded.decoder.output_dense.kernel),
                                  np.asarray(kernel))
    restored = keras_s2s.TrainedModel.from_preset(folder)
    assert restored.source_vocab.tokens == original.source_vocab.tokens
    assert restored.meta["tokenizer"] == original.meta["tokenizer"]


def test_a_trained_model_saves_a_preset_that_translates_the_same(tmp_path):
    original = keras_s2s.TrainedModel.from_preset(ZOO_MODEL)
    original.save_to_preset(tmp_path / "copy")
    texts = ["Nov. 23rd, 2026", "5 March 1999"]
    assert keras_s2s.TrainedModel.from_preset(tmp_path / "copy").translate(texts) == \
        original.translate(texts)


def test_an_architecture_preset_gives_an_untrained_model():
    from keras_s2s.zoo import list_presets, preset_config

    name = list_presets()[0]
    model = keras_s2s.Seq2Seq.from_preset(name, source_vocab_size=30, target_vocab_size=40,
                                          units=16)
    assert (model.source_vocab_size, model.target_vocab_size, model.units) == (30, 40, 16)
    assert model.attention == preset_config(name)["attention"]
    with pytest.raises(ValueError, match="source_vocab_size and target_vocab_size"):
        keras_s2s.Seq2Seq.from_preset(name)


def test_bad_presets_are_named_with_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="Did you mean 'dates_bahdanau'"):
        keras_s2s.Seq2Seq.from_preset("dates_bahdanu")
    with pytest.raises(FileNotFoundError, match="lacks s2s.json, model.keras"):
        keras_s2s.Seq2Seq.from_preset(tmp_path)
    with pytest.raises(ValueError, match="architecture is fixed: units"):
        keras_s2s.Seq2Seq.from_preset(ZOO_MODEL, units=8)
    bare = keras_s2s.Seq2Seq(10, 10, units=4, embedding_dim=4)
    with pytest.raises(ValueError, match="tokenizers"):
        bare.save_to_preset(tmp_path / "bare")
    assert not (tmp_path / "bare").exists()
