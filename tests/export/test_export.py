"""Exports decode exactly like the Keras model they come from.

Two levels:
- the architecture grid: untrained tiny models of every attention setup, converted with
  `ExportGraphs` + `tflite.convert` / `onnx.convert` and run on the runtime backends
  (LiteRT, ONNX Runtime) next to the Keras model;
- a small trained dates model exported as a full bundle (every format, and TFLite
  quantized), loaded with `keras_s2s.runtime.load`.
"""

import json
import os
import subprocess
import sys
import types

import numpy as np
import onnx
import pytest
from conftest import END_ID, PAD_ID, START_ID, build_seq2seq, make_sources, make_targets
from architecture_grid import EXTRAS, GRID, covering_subset

from keras_s2s import decoding, runtime
from keras_s2s.export import (
    export_bundle,
    onnx_functions,
    onnx_model,
    step_contract,
    tflite,
    tflite_functions,
    token_agreement,
)
from keras_s2s.export import onnx as onnx_export
from keras_s2s.export.backends import KerasBackend
from keras_s2s.export.graphs import ExportGraphs
from keras_s2s.runtime.backends import LiteRTBackend, OnnxBackend
from keras_s2s.runtime.bundle import BUNDLE_FILE, FORMAT_FILES
from keras_s2s.tasks import DateTask, task_splits
from keras_s2s.trained_model import TrainedModel
from keras_s2s.training import train_task

MAX_DECODE_LENGTH = 10
DECODE = {"start_id": START_ID, "end_id": END_ID, "max_length": MAX_DECODE_LENGTH}
BEAM_SIZE = 4
# Source batches of the grid: (row lengths, width, seed); widths beyond the longest row
# add all-padding columns.
SOURCE_BATCHES = (((6, 3, 1, 4), 8, 11), ((2, 7, 5), 7, 12), ((5,), 5, 13))
LOGITS_TOLERANCE = 1e-4


def quiet(*args):
    pass


# === Shared checks ===


def builtin_op_names():
    from tensorflow.lite.python import schema_py_generated as schema

    return {name for name in vars(schema.BuiltinOperator) if not name.startswith("_")}


def check_tflite_file(path):
    """Only builtin operators: no Flex (Select TF) ops and no other custom ops."""
    with open(path, "rb") as f:
        ops = tflite.op_names(f.read())
    assert ops, path
    assert not [op for op in ops if op.startswith("Flex")], (path, sorted(ops))
    assert ops <= builtin_op_names(), (path, sorted(ops - builtin_op_names()))
    return ops


def check_onnx_file(path):
    """A valid model (full check, shapes inferred) at the pinned opset."""
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {entry.domain: entry.version for entry in model.opset_import}
    assert opsets.get("", opsets.get("ai.onnx")) == onnx_export.OPSET, (path, opsets)


def graph_paths(directory, format_name):
    """Role (`encoder`, `decoder_step`, `translate`) -> path of a format's graph file."""
    return {role: os.path.join(directory, name)
            for role, name in FORMAT_FILES[format_name].items()}


def check_graph_files(directory):
    """Checks the TFLite and ONNX files of the three graphs under `directory`; returns
    the TFLite operators of each graph."""
    for path in graph_paths(directory, "onnx").values():
        check_onnx_file(path)
    return {role: check_tflite_file(path)
            for role, path in graph_paths(directory, "tflite").items()}


# === The architecture grid ===


class Converted:
    """One variant's untrained model, its graphs converted to TFLite and ONNX files in
    `directory`, and the backends that run them (`keras`, `tflite`, `onnx`)."""

    def __init__(self, variant, directory, with_onnx=True):
        self.variant = variant
        self.directory = str(directory)
        model = build_seq2seq(**variant.kwargs())
        self.keras = KerasBackend(model, MAX_DECODE_LENGTH)
        make_half_the_rows_end(model, self.keras.inference)
        graphs = ExportGraphs(model, MAX_DECODE_LENGTH, BEAM_SIZE)
        for role, (signature, function) in tflite_functions(graphs).items():
            self._write("tflite", role, tflite.convert(function, signature))
        # What the runtime backends read from a Bundle.
        self.meta = bundle_meta(model, graphs)
        self.files = types.SimpleNamespace(
            meta=self.meta, file=lambda name, role: graph_paths(self.directory, name)[role])
        self.backends = {"keras": self.keras, "tflite": LiteRTBackend(self.files)}
        if with_onnx:
            for role in onnx_functions(graphs):
                self._write("onnx", role, onnx_model(graphs, role).SerializeToString())
            self.backends["onnx"] = OnnxBackend(self.files)

    def _write(self, format_name, role, content):
        with open(graph_paths(self.directory, format_name)[role], "wb") as f:
            f.write(content)


def bundle_meta(model, graphs):
    """The part of `bundle.json` the runtime backends read: vocabulary sizes, the step
    contract and the TFLite encoder's batch size (None: any)."""
    return {"model": {"source_vocab_size": model.source_vocab_size,
                      "target_vocab_size": model.target_vocab_size},
            "step_contract": step_contract(graphs),
            "formats": {"tflite": {"encoder_batch_size": None}}}


def source_batches():
    return [make_sources(lengths, width, seed) for lengths, width, seed in SOURCE_BATCHES]


def end_margins(inference, sources):
    """Per row, the least the end token's logit falls short of the best other logit,
    along the greedy path that never picks the end token."""
    state, memory = inference.encode(sources)
    tokens = np.full(len(sources), START_ID, np.int32)
    closest = np.full(len(sources), np.inf)
    for _ in range(MAX_DECODE_LENGTH):
        logits, state, _ = inference.decode_step(tokens, state, memory)
        others = logits.copy()
        others[:, END_ID] = -np.inf
        closest = np.minimum(closest, others.max(axis=1) - logits[:, END_ID])
        tokens = others.argmax(axis=1).astype(np.int32)
    return closest


def make_half_the_rows_end(model, inference):
    """Raises the end token's output bias so that about half of the greedy rows of
    SOURCE_BATCHES end before the length limit (untrained models hardly ever end).

    Until the end token wins, greedy search follows the path that never picks it, so a
    row ends iff its `end_margins` is below the raise; the raise is set halfway between
    two rows' margins, far from a tie."""
    margins = np.sort(np.concatenate([end_margins(inference, s) for s in source_batches()]))
    middle = len(margins) // 2
    bias = model.decoder.output_dense.bias
    values = np.array(bias.numpy())
    values[END_ID] += (margins[middle - 1] + margins[middle]) / 2
    bias.assign(values)


def step_hypotheses(backend, sources):
    """Greedy search in Python over the backend's encoder and step graphs."""
    state, memory = backend.encode(sources)
    found = decoding.greedy_search(backend.step, state, memory, **DECODE)
    return [(h.tokens, h.finished) for h in found]


def whole_loop_hypotheses(backend, sources):
    """The backend's one-call greedy graph, its rows checked against the documented
    layout (tokens, then the end token if generated, then padding)."""
    tokens, lengths = backend.greedy_loop(sources)
    assert tokens.shape == (len(sources), MAX_DECODE_LENGTH)
    found = []
    for row, n in zip(tokens.tolist(), lengths.tolist()):
        finished = n < len(row) and row[n] == END_ID
        assert all(t == PAD_ID for t in row[n + finished:]), row
        found.append((row[:n], finished))
    return found


def teacher_forced(backend, sources, targets):
    """`(initial state, per-step logits, per-step attention)` with the gold prefix fed."""
    state, memory = backend.encode(sources)
    initial, logits, attention = state, [], []
    for t in range(targets.shape[1]):
        step_logits, state, weights = backend.step(targets[:, t], state, memory)
        logits.append(step_logits)
        attention.append(weights)
    return initial, np.stack(logits, 1), attention


def beam_tokens(backend, sources):
    state, memory = backend.encode(sources)
    found = decoding.beam_search(backend.step, state, memory, beam_size=BEAM_SIZE,
                                 n_best=BEAM_SIZE, **DECODE)
    return [[h.tokens for h in hypotheses] for hypotheses in found]


def test_the_grid_subset_covers_every_setup():
    subset = covering_subset(GRID)
    assert 12 <= len(subset) <= 16
    assert {v.attention for v in subset} == {v.attention for v in GRID}
    assert {v.cell for v in subset} == {"gru", "lstm"}
    assert {v.placement for v in subset if v.attention != "none"} == {"luong", "bahdanau"}
    assert {v.input_feeding for v in subset} == {False, True}
    assert {v.bidirectional for v in subset} == {False, True}
    assert {v.layers for v in subset} == {1, 2}


@pytest.fixture(
    scope="module",
    params=covering_subset(GRID) + [pytest.param(v, marks=pytest.mark.slow) for v in EXTRAS],
    ids=str,
)
def converted(request, tmp_path_factory):
    """One variant converted to TFLite and ONNX (pytest runs every test of a variant
    before converting the next)."""
    return Converted(request.param, tmp_path_factory.mktemp("variant"))


def test_greedy_tokens_agree_on_every_backend(converted):
    lengths = []
    for sources in source_batches():
        expected = [(h.tokens, h.finished) for h in
                    converted.keras.inference.greedy(sources, **DECODE)]
        lengths += [len(tokens) if finished else None for tokens, finished in expected]
        found = {}
        for name, backend in converted.backends.items():
            found[f"{name}/step"] = step_hypotheses(backend, sources)
            found[f"{name}/whole_loop"] = whole_loop_hypotheses(backend, sources)
        assert found == {key: expected for key in found}
    # Rows that end and rows that run to the limit, so the loops' stopping is tested.
    assert lengths.count(None) == len(lengths) // 2, lengths


def test_step_graphs_compute_the_keras_logits(converted):
    for sources in source_batches():
        targets = make_targets(len(sources), 6, seed=len(sources))
        state, logits, attention = teacher_forced(converted.keras, sources, targets)
        # The comparison means something only if the logits are not all alike.
        assert np.std(logits) > 1e-2
        for name in ("tflite", "onnx"):
            found_state, found_logits, found_attention = teacher_forced(
                converted.backends[name], sources, targets)
            for key in state:
                np.testing.assert_allclose(found_state[key], state[key],
                                           atol=LOGITS_TOLERANCE, err_msg=f"{name} {key}")
            np.testing.assert_allclose(found_logits, logits, atol=LOGITS_TOLERANCE,
                                       err_msg=name)
            for expected, found in zip(attention, found_attention):
                assert (found is None) == (expected is None), name
                if expected is not None:
                    np.testing.assert_allclose(found, expected, atol=LOGITS_TOLERANCE,
                                               err_msg=f"{name} attention")
                    assert np.all(found[sources == PAD_ID] == 0.0), f"{name} attends to padding"


def test_beam_search_agrees_on_the_step_graphs(converted):
    for sources in source_batches():
        found = {name: beam_tokens(backend, sources)
                 for name, backend in converted.backends.items()}
        assert len(found["keras"]) == len(sources)
        assert all(len(hypotheses) == BEAM_SIZE for hypotheses in found["keras"])
        assert found == {name: found["keras"] for name in found}


# Random weights make near ties: the graph ranks in float32, Python in float64, so two
# candidates closer than this may come out in either order (trained models: see
# tests/zoo/test_zoo_trained.py, where the n-best lists must be equal).
NEAR_TIE = 1e-5


def test_the_beam_graph_is_beam_search_on_the_step_graphs(converted):
    """The whole-loop beam graph gives, on every backend and with and without a length
    penalty, the n-best lists (tokens, scores, ranking scores, finished) that
    `keras_s2s.decoding.beam_search` finds over the same backend's step graph; a
    hypothesis may differ only where its rank is a near tie."""
    same = total = 0
    for sources in source_batches():
        for penalty in (0.0, 1.0):
            for name, backend in converted.backends.items():
                state, memory = backend.encode(sources)
                expected = decoding.beam_search(
                    backend.step, state, memory, beam_size=BEAM_SIZE, n_best=BEAM_SIZE,
                    length_penalty=penalty, **DECODE)
                found = backend.beam_loop(sources, penalty)
                assert found["tokens"].shape == (len(sources), BEAM_SIZE, MAX_DECODE_LENGTH)
                for i, hypotheses in enumerate(expected):
                    assert found["count"][i] == len(hypotheses), name
                    for j, h in enumerate(hypotheses):
                        n = found["lengths"][i, j]
                        assert not found["tokens"][i, j, n:].any(), (name, i, j)
                        rank = found["ranking_scores"][i, j]
                        total += 1
                        if found["tokens"][i, j, :n].tolist() != h.tokens:
                            assert abs(rank - h.ranking_score) < NEAR_TIE, (name, i, j)
                            continue
                        same += 1
                        assert bool(found["finished"][i, j]) == h.finished, (name, i, j)
                        assert abs(found["scores"][i, j] - h.score) < 1e-4, (name, i, j)
                        assert abs(rank - h.ranking_score) < 1e-4, (name, i, j)
    assert same >= 0.95 * total, (same, total)


def test_converted_files_are_builtin_tflite_and_valid_onnx(converted):
    ops = check_graph_files(converted.directory)
    # `op_names` reads every subgraph: the encoder RNN is a WHILE loop, and the argmax
    # of the whole greedy loop only occurs inside its body.
    assert "WHILE" in ops["encoder"]
    assert {"WHILE", "ARG_MAX"} <= ops["translate"]
    assert {"WHILE", "TOPK_V2", "LOG_SOFTMAX"} <= ops["beam"]
    assert "FULLY_CONNECTED" in ops["decoder_step"]


# The variant of the grid where LiteRT's XNNPACK delegate most often miscomputes the
# whole-loop graph (see the test below).
WHOLE_LOOP_VICTIM = next(v for v in GRID if str(v) == "lstm-uni-concat-luong_placement-nofeed-L2")
FRESH_INTERPRETERS = 100
# Decodes the batches of `job.json` with the whole-loop graph on FRESH_INTERPRETERS fresh
# LiteRT backends, in a process without TensorFlow (as on a device); prints how many
# decoded differently from the expected hypotheses.
WHOLE_LOOP_CHILD = """
import json, os, sys, types
import numpy as np
from keras_s2s.runtime.backends import LiteRTBackend
from keras_s2s.runtime.bundle import FORMAT_FILES

directory, runs = sys.argv[1], int(sys.argv[2])
job = json.load(open(os.path.join(directory, "job.json")))
files = types.SimpleNamespace(
    meta=job["meta"], file=lambda name, role: os.path.join(directory, FORMAT_FILES[name][role]))
sources = [np.array(s, np.int32) for s in job["sources"]]
wrong = 0
for _ in range(runs):
    backend = LiteRTBackend(files)
    found = [backend.greedy_loop(s) for s in sources]
    wrong += [[t.tolist(), n.tolist()] for t, n in found] != job["expected"]
print(wrong)
"""


def test_tflite_whole_loop_does_not_depend_on_earlier_calls(tmp_path):
    """Fresh LiteRT backends decode the grid's batches (rows of lengths 6, 3, 1, 4, then
    2, 7, 5, then 5, one by one) with the whole-loop graph, as the grid test does once;
    each must give the Keras graph's tokens. With LiteRT's default XNNPACK delegate on
    Keras's RNN loop, 28 to 40 of 100 did not (a rate steady in a child process without
    TensorFlow, as on a device); `LiteRTBackend` runs WHILE graphs on the builtin kernels."""
    converted = Converted(WHOLE_LOOP_VICTIM, tmp_path, with_onnx=False)
    expected = [[a.tolist() for a in converted.keras.greedy_loop(s)] for s in source_batches()]
    job = {"sources": [s.tolist() for s in source_batches()], "expected": expected,
           "meta": converted.meta}
    with open(tmp_path / "job.json", "w", encoding="utf-8") as f:
        json.dump(job, f)
    result = subprocess.run(
        [sys.executable, "-c", WHOLE_LOOP_CHILD, str(tmp_path), str(FRESH_INTERPRETERS)],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    wrong = int(result.stdout.split()[-1])
    assert wrong == 0, (f"{wrong} of {FRESH_INTERPRETERS} fresh interpreters decoded "
                        "differently from Keras")


def test_rows_leave_the_whole_greedy_loop_when_they_end():
    """The greedy graph steps only the rows still going: at step `t` (from 0), the rows
    that have not chosen the end token before it. Run eagerly, its loop is a Python loop,
    so the rows of each decoder step can be counted."""
    model = build_seq2seq(**GRID[-1].kwargs())
    keras = KerasBackend(model, MAX_DECODE_LENGTH)
    make_half_the_rows_end(model, keras.inference)
    graphs = ExportGraphs(model, MAX_DECODE_LENGTH)
    rows_per_step, step = [], graphs._step

    def counting_step(token_ids, inputs):
        rows_per_step.append(int(token_ids.shape[0]))
        return step(token_ids, inputs)

    graphs._step = counting_step
    sources = source_batches()[0]
    found = graphs.greedy(sources)
    tokens, lengths = found["tokens"].numpy(), found["lengths"].numpy()
    ended = [n < MAX_DECODE_LENGTH and row[n] == END_ID for row, n in zip(tokens, lengths)]
    assert 0 < sum(ended) < len(sources), (tokens, lengths)  # rows that end, rows that do not
    # A row that ends at step n (its end token at position n) is stepped n + 1 times.
    steps = [n + 1 if end else MAX_DECODE_LENGTH for n, end in zip(lengths, ended)]
    assert rows_per_step == [sum(s > t for s in steps) for t in range(max(steps))]
    # And the tokens are those of the stepwise search.
    assert whole_loop_hypotheses(types.SimpleNamespace(
        greedy_loop=lambda s: (tokens, lengths)), sources) == [
        (h.tokens, h.finished) for h in keras.inference.greedy(sources, **DECODE)]



def test_sources_leave_the_whole_beam_loop_when_they_are_done():
    """The beam graph steps only the sources still searching: a source leaves at the
    step it has `beam_size` finished hypotheses. Run eagerly, the rows of each decoder
    step can be counted: a source whose n-best are all finished (so it was done by the
    step its longest one ended) is not stepped after that step; a source with a live
    hypothesis among them was never done, and is stepped at every step."""
    model = build_seq2seq(**GRID[-1].kwargs())
    keras = KerasBackend(model, MAX_DECODE_LENGTH)
    graphs = ExportGraphs(model, MAX_DECODE_LENGTH, beam_size=BEAM_SIZE)
    rows_per_step, step = [], graphs._step

    def counting_step(token_ids, inputs):
        rows_per_step.append(int(token_ids.shape[0]))
        return step(token_ids, inputs)

    graphs._step = counting_step
    # Raise the end token's bias until, in some batch, sources end at different steps
    # (an untrained model's beams hardly ever end).
    margins = np.concatenate([end_margins(keras.inference, s) for s in source_batches()])
    bias = model.decoder.output_dense.bias
    original = np.array(bias.numpy())
    mixed = 0
    for below in np.linspace(0.5, 0.0, 11):
        values = original.copy()
        values[END_ID] += margins.max() - below
        bias.assign(values)
        for sources in source_batches():
            rows_per_step.clear()
            found = {name: value.numpy() for name, value in graphs.beam(sources, 0.0).items()}
            all_finished = found["finished"].all(axis=1)
            done_by = np.where(all_finished, found["lengths"].max(axis=1), MAX_DECODE_LENGTH)
            steps = len(rows_per_step)
            assert steps == done_by.max() + 1 or steps == MAX_DECODE_LENGTH
            for t, rows in enumerate(rows_per_step):
                assert rows % BEAM_SIZE == 0
                assert BEAM_SIZE * np.sum(~all_finished) <= rows <= BEAM_SIZE * np.sum(done_by >= t)
            mixed += done_by.min() + 1 < steps
            state, memory = keras.encode(sources)
            expected = decoding.beam_search(keras.step, state, memory, beam_size=BEAM_SIZE,
                                            n_best=BEAM_SIZE, **DECODE)
            for i, hypotheses in enumerate(expected):
                assert found["count"][i] == len(hypotheses)
                for j, h in enumerate(hypotheses):
                    assert found["tokens"][i, j, :found["lengths"][i, j]].tolist() == h.tokens
                    assert bool(found["finished"][i, j]) == h.finished
    assert mixed, "no batch had a source leave before the others: the test shows nothing"

# === A trained dates model, exported as a bundle ===

DATES_CONFIG = {"units": 32, "embedding_dim": 16, "attention": "bahdanau",
                "attention_placement": "bahdanau", "bidirectional": True}
DATES_SIZES = {"train_size": 3000, "dev_size": 100, "test_size": 200}
CHECK_SIZE = 100
BACKENDS = ("keras", "savedmodel", "tflite", "onnx")
# Dates as people write them, and texts without a single token.
EXTRA_TEXTS = ["Nov. 23rd, 2026", "23.11.2026", "monday, november 23, 2026", "", "   ",
               "\t\u200b\n"]

slow = pytest.mark.slow  # every test below shares a model trained and exported in ~45 s


@pytest.fixture(scope="module")
def dates_model(tmp_path_factory):
    """A model directory trained on the dates task for about 20 s (exact match ~0.9).

    The task without day-first dates (`day_first=False`): these tests compare backends,
    and a model this small learns that simpler task in 5 epochs."""
    out = str(tmp_path_factory.mktemp("dates") / "model")
    train_task(DateTask(day_first=False), out, DATES_CONFIG, epochs=5, seed=0, verbose=0,
               tensorboard=False, log=quiet, **DATES_SIZES)
    return out


@pytest.fixture(scope="module")
def dates_bundle(dates_model, tmp_path_factory):
    """The dates model exported in every format, checked on CHECK_SIZE held-out dates."""
    out = str(tmp_path_factory.mktemp("dates_bundle") / "bundle")
    report = export_bundle(dates_model, out, check_size=CHECK_SIZE, log=quiet)
    return types.SimpleNamespace(path=out, report=report)


@pytest.fixture(scope="module")
def held_out(dates_model):
    """`sources` and `targets` of the dates model's test split; `texts`: the sources
    then EXTRA_TEXTS."""
    test = task_splits(TrainedModel.load(dates_model).meta["data"])[2]
    sources = [source for source, _ in test]
    return types.SimpleNamespace(sources=sources, targets=[target for _, target in test],
                                 texts=sources + EXTRA_TEXTS)


@pytest.fixture(scope="module")
def reference_tokens(dates_model, held_out):
    """Greedy tokens of the trained model itself (tensorflow-text tokenizer, Keras)."""
    return [h[0].tokens for h in TrainedModel.load(dates_model).decode(held_out.texts)]


@pytest.fixture(scope="module")
def translators(dates_bundle):
    """A `Translator` of the dates bundle on every backend."""
    return {name: runtime.load(dates_bundle.path, backend=name) for name in BACKENDS}


def first_tokens(decoded):
    return [hypotheses[0].tokens for hypotheses in decoded]


@slow
def test_the_dates_model_is_trained(translators, held_out):
    translations = translators["keras"].translate(held_out.texts)
    exact = np.mean([found == target for found, target in zip(translations, held_out.targets)])
    print(f"\ndates: exact match {exact:.3f} on {len(held_out.targets)} held-out dates")
    assert exact >= 0.8
    assert translations[-3:] == ["", "", ""]


@slow
def test_every_backend_decodes_the_same_greedy_tokens(translators, held_out, reference_tokens):
    found = {}
    for name, translator in translators.items():
        for mode, whole_loop in (("step", False), ("whole_loop", True)):
            found[f"{name}/{mode}"] = first_tokens(
                translator.decode(held_out.texts, whole_loop=whole_loop, batch_size=32))
    assert found == {key: reference_tokens for key in found}


@slow
def test_every_backend_decodes_the_same_beam(translators, held_out):
    sources = held_out.sources[:40] + EXTRA_TEXTS
    found = {name: [[h.tokens for h in hypotheses] for hypotheses in
                    translators[name].decode(sources, beam_size=BEAM_SIZE, n_best=2)]
             for name in ("keras", "tflite", "onnx")}
    assert found == {name: found["keras"] for name in found}
    assert all(len(hypotheses) == 2 for hypotheses in found["keras"][:40])


@slow
def test_bundle_json_records_perfect_checks(dates_bundle):
    with open(os.path.join(dates_bundle.path, BUNDLE_FILE), encoding="utf-8") as f:
        meta = json.load(f)
    checks = meta["checks"]
    assert set(checks) == {f"{name}/{mode}" for name in BACKENDS if name != "keras"
                           for mode in ("step", "whole_loop", "beam")}
    for key, result in checks.items():
        if key.endswith("/beam"):
            assert result["nbest_agreement"] == 1.0 and result["sentences"] == CHECK_SIZE, key
            assert result["max_score_difference"] < 1e-4, key
        else:
            assert result == {"token_agreement": 1.0, "sequence_agreement": 1.0,
                              "sentences": CHECK_SIZE}, key
    assert dates_bundle.report["checks"] == checks
    assert sorted(meta["formats"]) == sorted(BACKENDS)
    assert meta["formats"]["onnx"]["opset"] == onnx_export.OPSET


@slow
def test_savedmodel_translate_signature_matches_the_translator(dates_bundle, translators,
                                                               held_out):
    import tensorflow_text  # noqa: F401  (registers the ops the signature uses)
    import tensorflow as tf

    translate = tf.saved_model.load(os.path.join(dates_bundle.path, "saved_model")
                                    ).signatures["translate"]

    def run(texts):
        out = translate(texts=tf.constant(texts))["translations"].numpy()
        return [t.decode("utf-8") for t in out]

    sources = held_out.sources[:60] + EXTRA_TEXTS
    expected = translators["keras"].translate(sources)
    assert run(sources) == expected
    assert all(expected[:-3]) and expected[-3:] == ["", "", ""]
    assert run(["", "  "]) == ["", ""]
    assert run([""]) == [""]


@slow
def test_bundle_files_are_builtin_tflite_and_valid_onnx(dates_bundle):
    check_graph_files(dates_bundle.path)


# === Quantized TFLite ===


def export_in_subprocess(model_dir, out, quantize, check_size=0, min_agreement=0.99):
    """`export_bundle(formats=["tflite"])` in a child process: a converter crash (the
    TFLite calibrator segfaults on WHILE graphs) fails the test instead of killing pytest."""
    code = ("import sys\nfrom keras_s2s.export import export_bundle\n"
            "export_bundle(sys.argv[1], sys.argv[2], formats=['tflite'], quantize=sys.argv[3],"
            " check_size=int(sys.argv[4]), min_agreement=float(sys.argv[5]),"
            " log=lambda *a: None)\n")
    result = subprocess.run([sys.executable, "-c", code, model_dir, out, quantize,
                             str(check_size), str(min_agreement)],
                            capture_output=True, text=True)
    assert result.returncode == 0, (
        f"export with quantize={quantize} exited with {result.returncode}:\n"
        f"{result.stderr[-3000:]}")


@slow
@pytest.mark.parametrize("quantize", ["dynamic", "float16", "int8"])
def test_quantized_tflite_agrees_with_keras(quantize, dates_model, dates_bundle, held_out,
                                            reference_tokens, tmp_path):
    out = str(tmp_path / quantize)
    export_in_subprocess(dates_model, out, quantize)
    with open(os.path.join(out, BUNDLE_FILE), encoding="utf-8") as f:
        written = json.load(f)["formats"]["tflite"]
    assert written["quantization"] == quantize
    # int8 activations for decoder_step only (the encoder and the loop have WHILE ops).
    assert written["quantization_by_file"]["decoder_step"] == quantize
    translator = runtime.load(out, backend="tflite")
    for whole_loop in (False, True):
        found = first_tokens(translator.decode(held_out.texts, whole_loop=whole_loop))
        agreement = token_agreement(reference_tokens, found)
        print(f"\n{quantize} whole_loop={whole_loop}: {agreement}")
        assert agreement["token_agreement"] >= 0.99
    float_paths = graph_paths(dates_bundle.path, "tflite")
    for role, path in graph_paths(out, "tflite").items():
        check_tflite_file(path)
        assert os.path.getsize(path) < os.path.getsize(float_paths[role]), role


@slow
def test_int8_step_falls_back_to_int8_weights_when_it_disagrees(dates_model, held_out,
                                                                 reference_tokens, tmp_path):
    # An agreement bar no export can reach forces the fallback.
    out = str(tmp_path / "int8")
    export_in_subprocess(dates_model, out, "int8", check_size=20, min_agreement=1.01)
    with open(os.path.join(out, BUNDLE_FILE), encoding="utf-8") as f:
        written = json.load(f)
    tflite_meta = written["formats"]["tflite"]
    assert tflite_meta["quantization_by_file"] == {
        "encoder": "dynamic", "decoder_step": "dynamic", "translate": "dynamic",
        "beam": "dynamic"}
    assert 0.0 <= tflite_meta["int8_step_agreement"] <= 1.0
    assert written["checks"]["tflite/step"]["sentences"] == 20
    translator = runtime.load(out, backend="tflite")  # the new step file's sha256 verifies
    found = first_tokens(translator.decode(held_out.texts))
    assert token_agreement(reference_tokens, found)["token_agreement"] >= 0.99
