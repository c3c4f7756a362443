"""`keras-s2s export --shortlist` and decoding with it (`translate` / `evaluate
--shortlist`) on every backend that can."""

import contextlib
import io
import json
import os

import numpy as np
import pytest

from keras_s2s import runtime
from keras_s2s.cli import main
from keras_s2s.runtime.bundle import OUTPUT_LAYER_FILE, SHORTLIST_FILE

TINY = ["--units", "8", "--embedding-dim", "8", "--epochs", "2", "--quiet", "--no-tensorboard",
        "--train-size", "300", "--dev-size", "20", "--test-size", "30", "--max-length", "5"]
SOURCES = ["a b c", "d e", "f", "g h i j"]
BACKENDS = ("keras", "tflite", "onnx")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """A tiny reverse model (Bahdanau attention), its bundle with a shortlist, and one
    without."""
    root = tmp_path_factory.mktemp("cli_shortlist")
    model, listed, plain = (str(root / name) for name in ("model", "listed", "plain"))
    assert main(["train", "--task", "reverse", "--attention", "bahdanau", "--out", model]
                + TINY) == 0
    common = ["--formats", "keras,tflite,onnx", "--no-whole-loop", "--check", "0"]
    assert main(["export", model, "--out", listed, "--shortlist", "3,2"] + common) == 0
    assert main(["export", model, "--out", plain] + common) == 0
    return model, listed, plain


def run(args, capsys):
    assert main(args) == 0
    return capsys.readouterr().out


def test_the_bundle_records_the_shortlist_and_its_files(bundles):
    _, listed, _ = bundles
    meta = json.load(open(os.path.join(listed, "bundle.json")))
    assert meta["shortlist"]["frequent"] == 3 and meta["shortlist"]["per_word"] == 2
    assert meta["shortlist"]["pairs"] == 300
    for name in (SHORTLIST_FILE, OUTPUT_LAYER_FILE, "decoder_features.tflite",
                 "decoder_features.onnx"):
        assert name in meta["files"], name
    for fmt in ("tflite", "onnx"):
        assert meta["formats"][fmt]["files"]["decoder_features"] == f"decoder_features.{fmt}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_features_graph_times_the_output_layer_is_the_step(bundles, backend):
    _, listed, _ = bundles
    translator = runtime.load(listed, backend=backend)
    _, kernel, bias = runtime.Bundle(listed).shortlist()
    ids = translator.tokenize_sources(SOURCES)
    width = max(len(row) for row in ids)
    sources = np.array([row + [0] * (width - len(row)) for row in ids], np.int32)
    state, memory = translator.backend.encode(sources)
    tokens = np.array([1, 5, 6, 7], np.int32)
    logits, next_state, attention = translator.backend.run_step(tokens, state, memory)
    features, features_state, features_attention = translator.backend.run_features_step(
        tokens, state, memory)
    np.testing.assert_allclose(features @ kernel + bias, logits, atol=1e-4)
    for name in next_state:
        np.testing.assert_allclose(features_state[name], next_state[name], atol=1e-5)
    np.testing.assert_allclose(features_attention, attention, atol=1e-5)


def test_translate_with_the_shortlist_agrees_on_every_backend(bundles, capsys):
    _, listed, _ = bundles
    for beam in ("1", "3"):
        outputs = {backend: run(["translate", listed, "--backend", backend, "--shortlist",
                                 "--beam", beam] + SOURCES, capsys) for backend in BACKENDS}
        assert len(set(outputs.values())) == 1, outputs
        assert outputs["onnx"].count("\n") == len(SOURCES)


def test_each_sentence_gets_the_same_tokens_alone_and_in_a_batch(bundles):
    _, listed, _ = bundles
    translator = runtime.load(listed, backend="onnx")
    together = translator.translate(SOURCES, shortlist=True, beam_size=3)
    alone = [translator.translate([text], shortlist=True, beam_size=3)[0] for text in SOURCES]
    assert together == alone


def test_evaluate_names_the_shortlist(bundles, capsys):
    _, listed, _ = bundles
    result = json.loads(run(["evaluate", listed, "--backend", "onnx", "--shortlist", "--json"],
                            capsys))
    assert result["decoding"] == "greedy+shortlist" and result["n"] == 30


def test_what_cannot_decode_with_a_shortlist_says_why(bundles, capsys):
    model, listed, plain = bundles
    for args, message in (
            ([plain, "--backend", "onnx"], "export the model again with --shortlist"),
            ([model], "export the model with --shortlist"),
            ([listed, "--backend", "onnx", "--whole-loop"], "leave out whole_loop")):
        assert main(["translate", *args, "--shortlist", "a b"]) == 2
        assert message in capsys.readouterr().err
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(["export", model, "--out", listed + "-bad", "--shortlist", "many"])
    assert code == 2 and "FREQUENT,PER_WORD" in stderr.getvalue() + capsys.readouterr().err
