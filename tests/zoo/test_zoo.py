"""The zoo's presets: every one builds and runs, they cover the attention family and the
cells, and the CLI lists, shows and trains from them."""

import json
import os

import numpy as np
import pytest

from keras_s2s.cli import ARCHITECTURE_DEFAULTS, main
from keras_s2s.choices import ATTENTIONS
from keras_s2s.zoo import PRESETS, from_preset, list_presets, preset_config

TINY_TRAIN = ["--task", "reverse", "--epochs", "1", "--quiet", "--no-tensorboard",
              "--train-size", "100", "--dev-size", "10", "--test-size", "10", "--max-length", "4"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_decodes_stepwise_like_training(name):
    model = from_preset(name, source_vocab_size=12, target_vocab_size=9,
                        units=8, embedding_dim=8)
    sources = np.array([[4, 5, 6, 0], [7, 8, 0, 0]], np.int32)
    targets = np.array([[1, 4, 5], [1, 6, 7]], np.int32)
    logits = np.asarray(model({"source_ids": sources, "target_ids": targets}))
    assert logits.shape == (2, 3, 9)
    # The preset's architecture is what was built.
    config = model.get_config()
    for key, value in preset_config(name).items():
        if key not in ("units", "embedding_dim"):
            assert config[key] == value, key
    # One decoder step of the inference model gives the training model's first logits.
    inference = model.inference()
    state, memory = inference.encode(sources)
    step_logits, _, _ = inference.decode_step(targets[:, 0], state, memory)
    np.testing.assert_allclose(step_logits, logits[:, 0], atol=1e-5)


def test_presets_cover_every_attention_and_both_cells():
    configs = [PRESETS[name]["config"] for name in PRESETS]
    assert {c["attention"] for c in configs} == set(ATTENTIONS)
    assert {c["cell"] for c in configs} == {"gru", "lstm"}
    assert all(PRESETS[name]["description"].strip() for name in PRESETS)
    assert all(set(c) <= set(ARCHITECTURE_DEFAULTS) for c in configs)


def test_overrides_and_copies():
    model = from_preset("bahdanau_bigru", 10, 10, units=16, dropout=0.1)
    assert model.get_config()["units"] == 16 and model.get_config()["dropout"] == 0.1
    config = preset_config("rnn_gru")
    config["units"] = 999
    assert PRESETS["rnn_gru"]["config"]["units"] != 999


def test_unknown_preset_suggests_the_closest_name():
    with pytest.raises(ValueError, match="Did you mean 'luong_dot_lstm'"):
        from_preset("luong_dot", 10, 10)


def test_cli_lists_and_shows_presets(capsys):
    assert main(["zoo", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    presets = lines[1:lines.index("Trained models (any MODEL argument):")]
    assert lines[0].startswith("Presets")
    assert [line.split()[0] for line in presets] == list_presets()
    assert main(["zoo", "show", "sutskever_lstm"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):]) == PRESETS["sutskever_lstm"]["config"]
    assert main(["zoo", "show", "nope"]) == 2
    assert "neither a preset nor a trained model" in capsys.readouterr().err


def test_train_with_a_preset_and_an_override(tmp_path):
    out = str(tmp_path / "model")
    assert main(["train", "--preset", "luong_general_lstm", "--units", "8",
                 "--embedding-dim", "8", "--out", out] + TINY_TRAIN) == 0
    model = json.load(open(os.path.join(out, "s2s.json")))["model"]
    expected = {**ARCHITECTURE_DEFAULTS, **PRESETS["luong_general_lstm"]["config"],
                "units": 8, "embedding_dim": 8}
    for key, value in expected.items():
        assert model[key] == value, key


def test_train_with_an_unknown_preset_fails_before_training(tmp_path, capsys):
    out = str(tmp_path / "model")
    assert main(["train", "--preset", "bahdanau", "--out", out] + TINY_TRAIN) == 2
    assert "Unknown preset 'bahdanau'" in capsys.readouterr().err
    assert not os.path.exists(out)
