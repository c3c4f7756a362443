"""The TensorFlow-free runtime: what it imports, which bundles it refuses, and the
argument checks and empty-text shortcut of `Translator.decode`."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keras_s2s import runtime
from keras_s2s.export import export_bundle
from keras_s2s.runtime import FORMAT_VERSION, Bundle, BundleError, Translator
from keras_s2s.runtime.bundle import BUNDLE_FILE, list_files
from keras_s2s.training import train_task

from conftest import REPO

TINY = {"units": 8, "embedding_dim": 8, "attention": "general"}
SIZES = {"train_size": 200, "dev_size": 20, "test_size": 20}
TEXTS = ["a b c", "d e f g", "h", "i j"]
BLANK_TEXTS = ["", "   ", "\t\n", "\u200b", " \u3000 "]
HEAVY_MODULES = {"tensorflow", "keras", "tensorflow_text", "tf_keras"}
VARIABLES = "saved_model/variables/variables.data-00000-of-00001"


def quiet(*args):
    pass


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny reverse model with attention, trained for one epoch."""
    out = str(tmp_path_factory.mktemp("runtime") / "model")
    train_task("reverse", out, TINY, epochs=1, verbose=0, tensorboard=False, log=quiet, **SIZES)
    return out


@pytest.fixture(scope="module")
def bundle(model_dir, tmp_path_factory):
    """The tiny model's bundle in every format (not checked: other tests compare backends)."""
    out = str(tmp_path_factory.mktemp("runtime_bundle") / "bundle")
    export_bundle(model_dir, out, check_size=0, log=quiet)
    return out


@pytest.fixture(scope="module")
def onnx_bundle(model_dir, tmp_path_factory):
    """The tiny model's bundle with the ONNX export only."""
    out = str(tmp_path_factory.mktemp("onnx_bundle") / "bundle")
    export_bundle(model_dir, out, formats=["onnx"], check_size=0, log=quiet)
    return out


@pytest.fixture
def bundle_copy(bundle, tmp_path):
    """A copy of the bundle that a test may damage."""
    return shutil.copytree(bundle, tmp_path / "bundle")


def read_meta(path):
    with open(os.path.join(path, BUNDLE_FILE), encoding="utf-8") as f:
        return json.load(f)


def write_meta(path, meta):
    with open(os.path.join(path, BUNDLE_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f)


# === LiteRT's kernels ===


def test_litert_runs_the_loop_graphs_on_xnnpack_only_when_asked(bundle):
    """By default the graphs with a loop run on LiteRT's builtin kernels and the step
    graph on XNNPACK; `xnnpack_loops=True` puts every graph on XNNPACK, with the same
    translations (greedy and beam, step by step and whole loop)."""
    shipped = runtime.load(bundle, backend="tflite")
    opted = runtime.load(bundle, backend="tflite", xnnpack_loops=True)
    for translator in (shipped, opted):
        for options in ({}, {"beam_size": 4}):
            translator.translate(TEXTS, whole_loop=True, **options)
    assert shipped.backend.kernels == {"encoder": "builtin", "decoder_step": "xnnpack",
                                       "translate": "builtin", "beam": "builtin"}
    assert set(opted.backend.kernels.values()) == {"xnnpack"} and len(opted.backend.kernels) == 4
    for options in ({}, {"whole_loop": True}, {"beam_size": 4}, {"beam_size": 4, "whole_loop": True}):
        assert opted.translate(TEXTS, **options) == shipped.translate(TEXTS, **options), options


def test_xnnpack_loops_is_refused_for_a_bundle_of_row_by_row_graphs(bundle_copy):
    meta = read_meta(bundle_copy)
    meta["formats"]["tflite"]["encoder_batch_size"] = 1  # as bundles before the batched encoder
    write_meta(bundle_copy, meta)
    with pytest.raises(ValueError, match="export the model again"):
        runtime.load(bundle_copy, backend="tflite", verify=False, xnnpack_loops=True)
    with pytest.raises(ValueError, match="xnnpack_loops must be True or False"):
        runtime.load(bundle_copy, backend="tflite", verify=False, xnnpack_loops="yes")


# === No TensorFlow on the device ===

CHILD = """
import json, sys
import keras_s2s.runtime as runtime

path, texts = sys.argv[1], json.loads(sys.argv[2])
translations = {}
for backend in ("tflite", "onnx"):
    translator = runtime.load(path, backend=backend)
    translations[backend] = [translator.translate(texts),
                             translator.translate(texts, whole_loop=True),
                             translator.translate(texts, beam_size=3)]
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"translations": translations, "modules": loaded}))
"""


def test_the_runtime_decodes_without_tensorflow_or_keras(bundle):
    result = subprocess.run([sys.executable, "-c", CHILD, bundle, json.dumps(TEXTS)],
                            capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    child = json.loads(result.stdout.strip().splitlines()[-1])
    assert HEAVY_MODULES.isdisjoint(child["modules"]), sorted(HEAVY_MODULES & set(child["modules"]))
    assert "keras_s2s" in child["modules"]
    # The same translations as the backends give in this (TensorFlow) process.
    for backend, found in child["translations"].items():
        translator = runtime.load(bundle, backend=backend)
        assert found == [translator.translate(TEXTS), translator.translate(TEXTS, whole_loop=True),
                         translator.translate(TEXTS, beam_size=3)], backend


# === Refused bundles ===


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_every_file_but_bundle_json_has_a_checksum(bundle):
    assert set(read_meta(bundle)["files"]) == set(list_files(bundle)) - {BUNDLE_FILE}


# Each file with a backend that reads it.
USED_BY = {"decoder_step.onnx": "onnx", "encoder.tflite": "tflite", "translate.tflite": "tflite",
           "source_vocab.txt": "onnx", "target_vocab.txt": "tflite", "model.keras": "keras",
           "saved_model/saved_model.pb": "savedmodel", VARIABLES: "savedmodel"}


@pytest.mark.parametrize("name", sorted(USED_BY))
def test_a_changed_byte_is_refused_naming_the_file(name, bundle_copy):
    assert name in read_meta(bundle_copy)["files"]
    Bundle(bundle_copy)  # intact
    flip_a_byte(bundle_copy / name)
    with pytest.raises(BundleError, match=rf"{name}.*does not match its sha256"):
        runtime.load(bundle_copy, backend=USED_BY[name])
    with pytest.raises(BundleError, match=rf"{name}.*does not match its sha256"):
        Bundle(bundle_copy)  # every format present is verified
    Bundle(bundle_copy, verify=False)  # only the verification refuses it


@pytest.mark.parametrize("name", ["translate.onnx", "model.keras", VARIABLES])
def test_a_damaged_file_of_another_format_is_not_read(name, bundle_copy):
    flip_a_byte(bundle_copy / name)
    assert runtime.load(bundle_copy, backend="tflite").translate(TEXTS[:1])


@pytest.mark.parametrize("name,backend", [
    ("encoder.tflite", "tflite"), ("decoder_step.onnx", "onnx"), ("target_vocab.txt", "onnx"),
    ("source_vocab.txt", "tflite"), (VARIABLES, "savedmodel"), ("model.keras", "keras")])
def test_a_missing_file_is_refused_naming_it(name, backend, bundle_copy):
    os.remove(bundle_copy / name)
    with pytest.raises(BundleError, match=rf"incomplete.*: {name} is missing"):
        runtime.load(bundle_copy, backend=backend)


def test_a_newer_format_version_asks_to_upgrade(bundle_copy):
    meta = read_meta(bundle_copy)
    write_meta(bundle_copy, {**meta, "format_version": FORMAT_VERSION + 1})
    with pytest.raises(BundleError, match=rf"format {FORMAT_VERSION + 1}.*upgrade keras_s2s"):
        runtime.load(bundle_copy, backend="onnx")


@pytest.mark.parametrize("version", [0, "1", None])
def test_an_invalid_format_version_is_refused(version, bundle_copy):
    write_meta(bundle_copy, {**read_meta(bundle_copy), "format_version": version})
    with pytest.raises(BundleError, match="invalid format_version"):
        Bundle(bundle_copy)


def test_a_missing_or_non_directory_bundle_is_refused(bundle_copy, tmp_path):
    with pytest.raises(BundleError, match="does not exist or is not a directory"):
        runtime.load(tmp_path / "nowhere", backend="onnx")
    with pytest.raises(BundleError, match="does not exist or is not a directory"):
        runtime.load(bundle_copy / "source_vocab.txt", backend="onnx")


def test_a_directory_without_bundle_json_is_refused(bundle_copy):
    os.remove(bundle_copy / BUNDLE_FILE)
    with pytest.raises(BundleError, match="not a keras_s2s bundle: bundle.json is missing"):
        runtime.load(bundle_copy, backend="onnx")


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe"],
                         ids=["broken", "empty", "binary"])
def test_unreadable_bundle_json_is_refused(content, bundle_copy):
    (bundle_copy / BUNDLE_FILE).write_bytes(content)
    with pytest.raises(BundleError, match="is not valid JSON"):
        runtime.load(bundle_copy, backend="onnx")


@pytest.mark.parametrize("content", [[1, 2], {"format": "something.else", "format_version": 1}],
                         ids=["list", "other-format"])
def test_json_that_is_not_a_bundle_description_is_refused(content, bundle_copy):
    write_meta(bundle_copy, content)
    with pytest.raises(BundleError, match="does not describe a keras_s2s bundle"):
        runtime.load(bundle_copy, backend="onnx")


@pytest.mark.parametrize("backend", ["tflite", "savedmodel", "keras"])
def test_a_format_the_bundle_lacks_is_named(backend, onnx_bundle):
    assert Bundle(onnx_bundle).formats == ["onnx"]
    with pytest.raises(BundleError, match=rf"has no {backend} export.*--formats {backend}"):
        runtime.load(onnx_bundle, backend=backend)
    runtime.load(onnx_bundle, backend="onnx").translate(TEXTS[:1])


def test_an_unknown_backend_lists_the_choices(bundle):
    with pytest.raises(ValueError, match="Unknown backend 'coreml'") as error:
        runtime.load(bundle, backend="coreml")
    for name in ("keras", "savedmodel", "tflite", "onnx"):
        assert name in str(error.value)


# === Translator.decode ===


class UncallableBackend:
    """A backend stub that fails the test if the translator runs it."""

    def encode(self, source_ids):
        raise AssertionError("encode was called")

    def step(self, token_ids, state, memory):
        raise AssertionError("step was called")

    def greedy_loop(self, source_ids):
        raise AssertionError("greedy_loop was called")


@pytest.fixture(scope="module")
def stub_translator(bundle):
    """A `Translator` with the bundle's tokenizers and a backend it must not call."""
    described = Bundle(bundle)
    return Translator(UncallableBackend(), described.source_tokenizer(),
                      described.target_tokenizer(), described.max_decode_length)


@pytest.mark.parametrize("options, match", [
    ({"beam_size": 0}, "beam_size must be a positive int"),
    ({"beam_size": 2.0}, "beam_size must be a positive int"),
    ({"beam_size": 2, "n_best": 3}, r"n_best must be between 1 and beam_size \(2\)"),
    ({"n_best": 0}, "n_best must be between 1"),
    ({"beam_size": 4, "whole_loop": True}, "has no whole-loop beam graph"),
    ({"sample": True, "whole_loop": True}, "whole_loop searches .* it does not sample"),
    ({"batch_size": 0}, "batch_size must be a positive int"),
])
def test_decode_rejects_bad_options(options, match, stub_translator):
    for texts in (TEXTS, [""]):
        with pytest.raises(ValueError, match=match):
            stub_translator.decode(texts, **options)


@pytest.mark.parametrize("options", [{}, {"whole_loop": True}, {"beam_size": 4, "n_best": 2},
                                     {"sample": True, "seed": 0}],
                         ids=["greedy", "whole_loop", "beam", "sample"])
def test_texts_without_tokens_translate_to_nothing_without_the_backend(options, stub_translator):
    assert stub_translator.tokenize_sources(BLANK_TEXTS) == [[]] * len(BLANK_TEXTS)
    decoded = stub_translator.decode(BLANK_TEXTS, **options)
    assert [[(h.tokens, h.finished) for h in hypotheses] for hypotheses in decoded] == \
        [[([], True)]] * len(BLANK_TEXTS)
    assert stub_translator.translate(BLANK_TEXTS, **options) == [""] * len(BLANK_TEXTS)
    assert stub_translator.decode([], **options) == []


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_blank_texts_leave_the_other_rows_alone(backend, bundle):
    translator = runtime.load(bundle, backend=backend)
    mixed = [BLANK_TEXTS[0], TEXTS[0], BLANK_TEXTS[1], TEXTS[1], TEXTS[2]]
    for options in ({}, {"whole_loop": True}, {"beam_size": 3},
                    {"beam_size": 4, "whole_loop": True}):
        alone = translator.translate(TEXTS[:3], **options)
        assert translator.translate(mixed, batch_size=2, **options) == \
            ["", alone[0], "", alone[1], alone[2]]


def test_length_sorted_batches_return_results_in_input_order(bundle):
    translator = runtime.load(bundle, backend="onnx")
    # Lengths out of order, so that sorting by length reorders the batches.
    texts = sorted(TEXTS, key=len, reverse=True) + sorted(TEXTS, key=len)
    one_by_one = [translator.translate([text])[0] for text in texts]
    assert translator.translate(texts, batch_size=2) == one_by_one
    decoded = translator.decode(texts, batch_size=3, beam_size=2, n_best=2)
    assert [len(hypotheses) for hypotheses in decoded] == [2] * len(texts)
    assert translator.detokenize([h[0].tokens for h in decoded]) == \
        [translator.translate([text], beam_size=2)[0] for text in texts]


# === Bundles cut down for a device, and exports of some formats ===


def cut_down(bundle, tmp_path, keep):
    """A copy of `bundle` holding bundle.json, the vocabularies and the files `keep`."""
    out = tmp_path / "device"
    out.mkdir()
    for name in [BUNDLE_FILE, "source_vocab.txt", "target_vocab.txt", *keep]:
        shutil.copy(Path(bundle) / name, out / name)
    return out


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_a_bundle_with_one_formats_files_runs_on_that_backend(backend, bundle, tmp_path):
    files = [f"{role}.{backend}" for role in ("encoder", "decoder_step", "translate", "beam")]
    device = cut_down(bundle, tmp_path, files)
    full = runtime.load(bundle, backend=backend)
    translator = runtime.load(device, backend=backend)
    for options in ({}, {"whole_loop": True}, {"beam_size": 3},
                    {"beam_size": 4, "whole_loop": True}):
        assert translator.translate(TEXTS, **options) == full.translate(TEXTS, **options)
    assert Bundle(device).available_formats == [backend]
    other = "onnx" if backend == "tflite" else "tflite"
    with pytest.raises(BundleError, match=rf"incomplete for {other}: decoder_step\.{other} is "
                                          rf"missing\. It can run on {backend}\."):
        runtime.load(device, backend=other)


def test_without_the_whole_loop_graph_step_decoding_still_runs(bundle, tmp_path):
    device = cut_down(bundle, tmp_path, ["encoder.tflite", "decoder_step.tflite"])
    translator = runtime.load(device, backend="tflite")
    assert translator.translate(TEXTS) == runtime.load(bundle, backend="tflite").translate(TEXTS)
    with pytest.raises(BundleError, match=r"no translate\.tflite.*leave out --whole-loop"):
        translator.translate(TEXTS, whole_loop=True)
    with pytest.raises(BundleError, match=r"no beam\.tflite.*leave out --whole-loop"):
        translator.translate(TEXTS, whole_loop=True, beam_size=4)


def test_a_cut_down_bundle_is_still_verified(bundle, tmp_path):
    device = cut_down(bundle, tmp_path, ["encoder.onnx", "decoder_step.onnx", "translate.onnx"])
    flip_a_byte(device / "translate.onnx")  # optional, but present: checked
    with pytest.raises(BundleError, match="translate.onnx.*does not match its sha256"):
        runtime.load(device, backend="onnx")


def test_export_writes_only_the_formats_asked_for(model_dir, tmp_path):
    out = tmp_path / "tflite_only"
    report = export_bundle(model_dir, str(out), formats=["tflite"], check_size=5, log=quiet)
    written = list_files(out)
    assert written == sorted([BUNDLE_FILE, "beam.tflite", "decoder_step.tflite",
                              "encoder.tflite", "source_vocab.txt", "target_vocab.txt",
                              "tokenizer.json", "tokenizer_conformance.json", "translate.tflite"])
    meta = read_meta(out)
    assert list(meta["formats"]) == ["tflite"]
    assert sorted(meta["files"]) == [name for name in written if name != BUNDLE_FILE]
    assert sorted(report["sizes"]) == written
    # Still checked against the Keras model (in memory: no model.keras in the bundle).
    assert report["checks"]["tflite/step"]["token_agreement"] == 1.0
