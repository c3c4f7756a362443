"""Bad input and broken files on every entry point: a clear error or a defined result.

Runs on the zoo's committed dates model (`saved_models/dates_bahdanau`) and its bundle
(`export/dates_bahdanau`); the table in `docs/reliability.md` points at these tests.
"""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from keras_s2s import runtime
from keras_s2s.cli import main
from keras_s2s.runtime import BundleError, SourceTruncatedWarning
from keras_s2s.runtime.bundle import BUNDLE_FILE
from keras_s2s.text.vocabulary import UNK_ID
from keras_s2s.zoo.trained import bundle_dir, model_dir

from conftest import REPO

BUNDLE = bundle_dir("dates_bahdanau")
MODEL = model_dir("dates_bahdanau")
DATE = "Nov. 23rd, 2026"
RUNTIMES = ("tflite", "onnx")


@pytest.fixture(scope="module", params=RUNTIMES + ("keras",))
def translator(request):
    """The dates bundle on each backend (keras: the bundle's own `.keras` model)."""
    return runtime.load(BUNDLE, backend=request.param)


@pytest.fixture(scope="module")
def limit(translator):
    return translator.max_source_length


def run_cli(capsys, *argv, stdin=None, monkeypatch=None):
    """`keras-s2s ARGV` in this process: `(exit code, stdout, stderr)`."""
    if stdin is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse refusals
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


# === Texts: a defined result for anything a user can type ===


def test_the_bundle_records_a_source_limit(translator):
    assert translator.max_source_length == 100


def test_blank_texts_translate_to_empty_strings(translator):
    texts = ["", " ", "\t \n", "\u200b\u200d", "\x00\x00"]
    assert translator.translate(texts + [DATE]) == [""] * len(texts) + ["2026-11-23"]


def test_a_source_over_the_limit_is_cut_with_a_warning(translator, limit):
    long = "9" * (3 * limit) + " 12/25/99"
    with pytest.warns(SourceTruncatedWarning, match=rf"longest {3 * limit + 9}\).*cut to {limit}"):
        [found] = translator.translate([long])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cut text itself is within the limit
        assert translator.translate(["9" * limit]) == [found]
    with pytest.warns(SourceTruncatedWarning):
        assert translator.tokenize_sources([long]) == translator.tokenize_sources(["9" * limit])


def test_a_one_megabyte_line_is_cut_not_run(translator):
    with pytest.warns(SourceTruncatedWarning, match="longest 1000000"):
        [found] = translator.translate(["7" * 1_000_000])
    assert isinstance(found, str) and len(found) <= 3 * translator.max_decode_length


def test_characters_never_seen_become_unk_and_still_translate(translator):
    text = "\u65e5\u672c \u2603 \U0001d518 \u0627\u0644"
    ids = translator.tokenize_sources([text])[0]
    assert UNK_ID in ids
    [found] = translator.translate([text])
    assert isinstance(found, str)


def test_nul_and_control_characters_count_as_spaces(translator):
    assert translator.translate(["Nov.\x0023rd,\x07 2026"]) == translator.translate(
        ["Nov. 23rd,  2026"])


@pytest.mark.parametrize("texts, match", [
    ("Nov. 23rd, 2026", "wrap it in a list"),
    (b"Nov. 23rd, 2026", "wrap it in a list"),
    (["ok", None], r"texts\[1\] is a NoneType"),
    ([b"12/25/99"], r"texts\[0\] is a bytes.*decode"),
    (["ok", 42], r"texts\[1\] is a int"),
    (7, "list of strings, got int"),
])
def test_texts_that_are_not_a_list_of_strings_are_refused(translator, texts, match):
    with pytest.raises(ValueError, match=match):
        translator.translate(texts)


@pytest.mark.parametrize("options, match", [
    ({"beam_size": 0}, "beam_size must be a positive int"),
    ({"beam_size": 1000}, r"beam_size \(1000\) is larger than the vocabulary"),
    ({"max_length": 0}, "max_length must be a positive"),
    ({"max_length": -3}, "max_length must be a positive"),
    ({"max_length": 2.5}, "max_length must be a positive"),
    ({"whole_loop": True, "max_length": 10_000}, "whole_loop generates at most"),
    ({"sample": True, "temperature": 0}, "temperature must be a finite number > 0"),
    ({"sample": True, "temperature": float("nan")}, "temperature must be a finite number"),
    ({"sample": True, "top_k": -1}, "top_k must be 0"),
    ({"beam_size": 2, "length_penalty": -1.0}, "length_penalty must be a finite number >= 0"),
])
def test_bad_decoding_options_are_refused(translator, options, match):
    with pytest.raises(ValueError, match=match):
        translator.translate([DATE], **options)


def test_temperature_zero_is_refused_even_for_blank_texts(translator):
    with pytest.raises(ValueError, match="temperature"):
        translator.translate([""], sample=True, temperature=0)


@pytest.mark.parametrize("whole_loop", [False, True])
def test_max_length_cuts_greedy_decoding_to_a_prefix(translator, whole_loop):
    [[full]] = translator.decode([DATE])
    assert full.finished and len(full.tokens) == 10
    for max_length in (1, 4, 10, 11):
        [[cut]] = translator.decode([DATE], max_length=max_length, whole_loop=whole_loop)
        assert cut.tokens == full.tokens[:max_length]
        assert cut.finished == (max_length == 11)


# === The step API: wrong arrays are refused before the runtime sees them ===


def _encoded(backend):
    return backend.encode(np.array([[5, 6, 7, 8]], dtype=np.int32))


BAD_SOURCES = [
    (np.array([[5.0, 6.0]]), "integer token ids, got dtype float64"),
    (np.array([["5", "6"]]), "tokenize text first"),
    (np.array([5, 6, 7]), r"\(batch, src_len\) array.*got shape \(3,\)"),
    (np.zeros((1, 2, 3), np.int32), r"got shape \(1, 2, 3\)"),
    (np.zeros((0, 4), np.int32), r"got shape \(0, 4\)"),
    (np.array([[5, 6, 10_000]]), "id 10000, outside the source vocabulary of {source_vocab} tokens"),
    (np.array([[5, -1]]), "id -1, outside the source vocabulary"),
    (np.array([[5, 6], [0, 0]]), "Row 1 of source_ids is all padding"),
    (np.array([[5, 0, 6]]), "Row 0 of source_ids has padding"),
    ([[5, 6], [7]], "rectangular"),
]


@pytest.mark.parametrize("source_ids, match", BAD_SOURCES)
def test_encode_refuses_bad_source_ids(translator, source_ids, match):
    match = match.replace("{source_vocab}", str(translator.backend.contract.source_vocab_size))
    for call in (translator.backend.encode, translator.backend.greedy_loop):
        with pytest.raises(ValueError, match=match):
            call(source_ids)


def _bad_steps(state, memory):
    name = next(iter(state))
    memory_name = next(iter(memory))
    ok = np.array([1], np.int32)
    return [
        ((np.array([1.0]), state, memory), "integer token ids, got dtype float64"),
        ((np.array([[1]]), state, memory), r"token_ids must be a \(batch,\) array"),
        ((np.array([99]), state, memory), "id 99, outside the target vocabulary of 15"),
        ((np.array([-2]), state, memory), "id -2, outside the target vocabulary"),
        ((np.array([1, 1]), state, memory), rf"state\['{name}'\] has shape \(1, \d+\), expected \(2,"),
        ((ok, {}, memory), rf"missing \['{name}'\]"),
        ((ok, {**state, "typo": state[name]}, memory), r"unexpected \['typo'\]"),
        ((ok, {name: state[name][:, :3]}, memory), r"expected \(1, \d+\)"),
        ((ok, {name: np.full(state[name].shape, "x")}, memory), "must be numeric"),
        ((ok, state, {**memory, memory_name: memory[memory_name][0]}), "has shape"),
        ((ok, list(state.values()), memory), "state must be a dict"),
    ]


def test_step_refuses_bad_arrays_and_keeps_working(translator):
    backend = translator.backend
    state, memory = _encoded(backend)
    logits, _, _ = backend.step(np.array([1], np.int32), state, memory)
    for args, match in _bad_steps(state, memory):
        with pytest.raises(ValueError, match=match):
            backend.step(*args)
    # A refused call never reached the runtime: the same step gives the same logits.
    again, _, _ = backend.step(np.array([1], np.int32), state, memory)
    np.testing.assert_array_equal(logits, again)
    assert translator.translate([DATE]) == ["2026-11-23"]


def test_memory_arrays_must_agree_on_the_source_length(translator):
    backend = translator.backend
    state, memory = _encoded(backend)
    assert len(memory) == 3  # encoder outputs, attention keys, source mask
    first = next(iter(memory))
    shorter = {**memory, first: memory[first][:, :2]}
    with pytest.raises(ValueError, match="disagree on the source length"):
        backend.step(np.array([1], np.int32), state, shorter)


# === The command line ===


def test_cli_translates_blank_long_nul_and_invalid_utf8_lines(capsys, monkeypatch):
    lines = [b"Nov. 23rd, 2026", b"", b"   ", b"\xff\xfe12/25/99", b"12/25/99\x00",
             b"1" * 100_000]
    code, out, err = run_cli(capsys, "translate", BUNDLE, "--backend", "onnx",
                             stdin=b"\n".join(lines) + b"\n", monkeypatch=monkeypatch)
    assert code == 0, err
    outputs = out.split("\n")[:-1]
    assert len(outputs) == len(lines)
    assert outputs[0] == "2026-11-23" and outputs[1] == outputs[2] == ""
    assert outputs[4] == "1999-12-25"
    assert "stdin is not valid UTF-8" in err and "replaced by U+FFFD" in err
    assert "cut to 100 tokens" in err


@pytest.mark.parametrize("argv, match", [
    (["--beam", "0"], "--beam: must be a positive integer"),
    (["--beam", "1000"], r"beam_size \(1000\) is larger than the vocabulary"),
    (["--max-length", "0"], "--max-length: must be a positive integer"),
    (["--max-length", "-5"], "--max-length: must be a positive integer"),
    (["--sample", "--temperature", "0"], "--temperature: must be > 0"),
    (["--sample", "--temperature", "nan"], "--temperature: must be > 0"),
    (["--sample", "--beam", "2"], "--sample draws one translation"),
    (["--nbest", "3", "--beam", "2"], "--n-best 3 needs --beam 3"),
    (["--length-penalty", "-1"], "--length-penalty: must be a number >= 0"),
    (["--backend", "gpu"], "invalid choice"),
])
def test_cli_refuses_bad_options_with_exit_code_2(capsys, argv, match):
    code, out, err = run_cli(capsys, "translate", BUNDLE, "--backend", "onnx", *argv, DATE)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) <= 12  # a message, not a traceback
    assert "Traceback" not in err
    import re

    assert re.search(match, err), err


def test_cli_sampling_is_reproducible_with_a_seed(capsys):
    argv = ("translate", BUNDLE, "--backend", "onnx", "--sample", "--seed", "3",
            "--temperature", "1.5", DATE, "12/25/99")
    first = run_cli(capsys, *argv)
    assert first[0] == 0 and len(first[1].splitlines()) == 2
    assert run_cli(capsys, *argv) == first


# === Broken or mismatched files ===


@pytest.fixture
def bundle_copy(tmp_path):
    return Path(shutil.copytree(BUNDLE, tmp_path / "bundle"))


@pytest.fixture
def model_copy(tmp_path):
    return Path(shutil.copytree(MODEL, tmp_path / "model"))


def _rewrite(path, damage):
    data = path.read_bytes()
    path.write_bytes(damage(data))


DAMAGES = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: bytes(b ^ 0x5A for b in data),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("backend, name", [
    ("tflite", "encoder.tflite"), ("tflite", "decoder_step.tflite"),
    ("onnx", "encoder.onnx"), ("onnx", "decoder_step.onnx"), ("keras", "model.keras"),
])
def test_a_damaged_model_file_names_the_file(bundle_copy, backend, name, damage):
    _rewrite(bundle_copy / name, DAMAGES[damage])
    with pytest.raises(BundleError, match=rf"{name}.*does not match its sha256"):
        runtime.load(bundle_copy, backend=backend)
    # Unverified (or re-hashed by hand), the runtime's own loader refuses it, named.
    with pytest.raises(ValueError, match=rf"{name}.*(cannot be loaded|damaged)"):
        runtime.load(bundle_copy, backend=backend, verify=False)


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_keras_model_in_a_model_directory_names_the_file(model_copy, damage,
                                                                    capsys):
    from keras_s2s.trained_model import TrainedModel

    _rewrite(model_copy / "model.keras", DAMAGES[damage])
    with pytest.raises(ValueError, match=r"model\.keras cannot be loaded as a Keras model"):
        TrainedModel.load(str(model_copy))
    code, out, err = run_cli(capsys, "translate", str(model_copy), DATE)
    assert code == 2 and "model.keras cannot be loaded" in err


def test_a_vocabulary_of_another_model_is_refused(bundle_copy, model_copy):
    from keras_s2s.trained_model import TrainedModel

    other = Path(model_dir("reverse_bahdanau")) / "target_vocab.txt"
    shutil.copy(other, model_copy / "target_vocab.txt")
    with pytest.raises(ValueError, match="target vocabulary .* has 20 tokens but the model "
                                         "expects 15"):
        TrainedModel.load(str(model_copy))
    shutil.copy(other, bundle_copy / "target_vocab.txt")
    with pytest.raises(BundleError, match="target_vocab.txt does not match its sha256"):
        runtime.load(bundle_copy, backend="onnx")
    with pytest.raises(BundleError, match="target_vocab.txt has 20 tokens but the bundle's "
                                          "model expects 15"):
        runtime.load(bundle_copy, backend="onnx", verify=False)


@pytest.mark.parametrize("name", ["source_vocab.txt", "target_vocab.txt", "s2s.json"])
def test_a_missing_file_of_a_model_directory_is_named(model_copy, name, capsys):
    os.remove(model_copy / name)
    code, out, err = run_cli(capsys, "translate", str(model_copy), DATE)
    assert code == 2 and name in err and "Traceback" not in err


def test_a_model_directory_of_a_newer_format_asks_to_upgrade(model_copy, capsys):
    meta = json.loads((model_copy / "s2s.json").read_text())
    meta["format_version"] = 99
    (model_copy / "s2s.json").write_text(json.dumps(meta))
    code, out, err = run_cli(capsys, "translate", str(model_copy), DATE)
    assert code == 2 and "newer keras_s2s (format 99" in err and "upgrade" in err


def test_a_bundle_of_a_newer_format_asks_to_upgrade(bundle_copy, capsys):
    meta = json.loads((bundle_copy / BUNDLE_FILE).read_text())
    meta["format_version"] = 99
    (bundle_copy / BUNDLE_FILE).write_text(json.dumps(meta))
    code, out, err = run_cli(capsys, "translate", str(bundle_copy), "--backend", "tflite", DATE)
    assert code == 2 and "bundle format 99, newer than this keras_s2s reads" in err


@pytest.mark.parametrize("path", ["does/not/exist", "README.md"])
def test_a_path_that_is_no_model_is_named(path, capsys):
    code, out, err = run_cli(capsys, "translate", str(REPO / path), "--backend", "onnx", DATE)
    assert code == 2 and path.split("/")[-1] in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["encoder.onnx", "bundle.json", "source_vocab.txt"])
def test_an_unreadable_file_is_named(tmp_path, name):
    bundle = Path(shutil.copytree(BUNDLE, tmp_path / "bundle"))
    os.chmod(bundle / name, 0)
    command = [sys.executable, "-m", "keras_s2s.cli", "translate", str(bundle),
               "--backend", "onnx", DATE]
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that allow it
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv (util-linux) to drop CAP_DAC_*")
        command = ["setpriv", "--inh-caps=-all",
                   "--bounding-set=-dac_override,-dac_read_search"] + command
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    assert name in result.stderr and "Permission denied" in result.stderr
    assert "Traceback" not in result.stderr


# === Data files given to train and evaluate ===


@pytest.mark.parametrize("content, match", [
    (None, "does not exist"),
    (b"", "holds no train pairs: the file is empty"),
    (b"one\ttwo\nthree\n", "line 2: 1 tab-separated column"),
    (b"a\tb\n\xff\xfe\tc\n", "is not valid UTF-8 \\(line 2"),
])
def test_bad_training_files_are_named(tmp_path, capsys, content, match):
    path = tmp_path / "train.tsv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run_cli(capsys, "train", "--train", str(path), "--dev", str(path),
                             "--out", str(tmp_path / "run"), "--epochs", "1", "--quiet")
    import re

    assert code == 2 and re.search(match, err) and "train.tsv" in err, err
    assert not (tmp_path / "run").exists()


def test_a_translator_takes_any_object_with_encode_and_step():
    """Backends of one's own (a counting or logging wrapper) need no `run_step`."""
    from keras_s2s.runtime import Translator

    inner = runtime.load(BUNDLE, backend="onnx")

    class Wrapper:
        def __init__(self):
            self.steps = 0

        def encode(self, source_ids):
            return inner.backend.encode(source_ids)

        def step(self, token_ids, state, memory):
            self.steps += 1
            return inner.backend.step(token_ids, state, memory)

    wrapper = Wrapper()
    translator = Translator(wrapper, inner.source_tokenizer, inner.target_tokenizer,
                            inner.max_decode_length)
    assert translator.translate([DATE, "12/25/99"]) == ["2026-11-23", "1999-12-25"]
    assert wrapper.steps == 11  # ten characters and the end token


# === Atomic writes ===


def test_temporaries_of_dead_processes_are_removed_and_nothing_else(tmp_path):
    from keras_s2s.utils import atomic

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead, alive = child.pid, os.getppid()
    stale = [f".model.keras.tmp-{dead}-abcd_123.keras", f".bundle.tmp-{dead}-x1y2z3w4",
             f".bundle.old-{dead}-aaaaaaaa"]
    kept = [f".bundle.tmp-{alive}-abcdefgh", f".notes.tmp-{dead}-mine", "bundle",
            f"bundle.tmp-{dead}-abcdefgh"]
    for name in stale + kept:
        (tmp_path / name).mkdir()
    atomic.write_text(tmp_path / "note.txt", "hello")  # any write cleans its directory
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["note.txt"])


def test_replacing_a_directory_swaps_it_whole(tmp_path):
    from keras_s2s.utils.atomic import atomic_directory

    target = tmp_path / "bundle"
    for version in ("old", "new"):
        with atomic_directory(target) as tmp:
            Path(tmp, "version").write_text(version)
            Path(tmp, version).write_text("")
    assert sorted(os.listdir(target)) == ["new", "version"]
    assert os.listdir(tmp_path) == ["bundle"]  # no temporary or old copy left
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        Path(tmp, "version").write_text("failed")
        raise RuntimeError("the writer failed half-way")
    assert (target / "version").read_text() == "new" and os.listdir(tmp_path) == ["bundle"]
