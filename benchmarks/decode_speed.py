"""Decoding speed of one trained model on every decoder, against the arithmetic it needs.

Decodes held-out sources of the model's test data with `keras_s2s.runtime.Translator`
(tokenize, encode, decode, detokenize: the whole text-to-text path) on these decoders:

- `keras/step`: the Keras backend (`keras_s2s.export.backends.KerasBackend`, what
  `--backend keras` runs): a Python loop calling the inference model's step model once
  per token, through `tf.function`;
- `keras-predict/step`: how the keras.io `lstm_seq2seq` example decodes: the same Python
  loop, but every encode and every decoder step is a `keras.Model.predict()` call on the
  inference model's `encoder_model` / `step_model` (the Keras model of one decoder step),
  with `batch_size` set to the rows of the call so each `predict` runs the model once;
- `savedmodel`, `tflite`, `onnx`: the bundle's SavedModel, LiteRT and ONNX Runtime
  backends, each `step` (the Python loop of `keras_s2s.decoding` calling the exported
  `decode_step` graph) and `whole_loop` (one call of the exported greedy `translate`
  graph per batch, or of the `beam` graph for beam search).

Settings: batch 1 and batch 64, greedy and beam 4 (`Translator.decode` runs beam search
over a batch). Reported per setting and decoder: the median milliseconds per sentence
(batch 1: per sentence; batch 64: per batch call divided by its sentences), sentences
per second (all sentences / total time), both as a ratio to the fastest decoder of the
setting, and the achieved GFLOP/s: 2 * MACs / seconds, where MACs is the multiply-adds
the decoder steps of these sentences need, each sentence decoded alone (counted by
running it step by step: rows x steps x the MACs of one step at its source length).
Padding, finished rows kept in a batch, tokenizing and encoding are not counted as
work, so the GFLOP/s is the useful rate. One decoder step's MACs come from the
architecture (see `decoder_step_matrices`): the RNN cells, the attention score and
context, the attentional layer and the output projection; the embedding lookup,
biases and elementwise operations are free. For scale, the float32 GFLOP/s numpy
reaches on a large matrix product and on the step's own matrix products is measured too.

Sources: the model's recorded test split (`keras_s2s.data.recorded.recorded_split`),
`--sentences` (batch 1) and `--batch-sentences` (batch 64) spread evenly over it and
kept in file order (the spa-eng test file is in Tatoeba order, roughly by length, so its
first lines are the shortest). If `--bundle` does not exist, the model is exported to it
first (all formats, float32). Writes `benchmarks/results/decode_speed.json` and `.md`.

    .venv/bin/python benchmarks/decode_speed.py [--model runs/spa-eng-bleu] \\
        [--bundle runs/spa-eng-bleu-bundle] [--sentences 200] [--batch-sentences 1024] \\
        [--repeats 1] [--threads N] [--name decode_speed]
"""

import argparse
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_s2s import runtime  # noqa: E402
from keras_s2s.data.recorded import recorded_split  # noqa: E402
from keras_s2s.text.vocabulary import PAD_ID  # noqa: E402
from keras_s2s.trained_model import read_meta  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "decode_speed"
# (setting, batch size, beam size, title)
SETTINGS = (("batch1/greedy", 1, 1, "batch 1, greedy"), ("batch1/beam4", 1, 4, "batch 1, beam 4"),
            ("batch64/greedy", 64, 1, "batch 64, greedy"), ("batch64/beam4", 64, 4, "batch 64, beam 4"))
# The rows of a decoder step in each setting (batch x beam), where numpy's speed is measured.
REFERENCE_ROWS = (1, 4, 64, 256)
TITLES = {setting: title for setting, _, _, title in SETTINGS}
# (decoder, translator of `load_translators`, whole loop)
DECODERS = (("keras/step", "keras", False), ("keras-predict/step", "keras-predict", False),
            ("savedmodel/step", "savedmodel", False), ("savedmodel/whole_loop", "savedmodel", True),
            ("tflite/step", "tflite", False), ("tflite/whole_loop", "tflite", True),
            ("onnx/step", "onnx", False), ("onnx/whole_loop", "onnx", True))
# Issue 16's targets: (setting, "ms" (at most, per sentence) or "rate" (at least,
# sentences/s), threshold, which decoders must meet it).
TARGETS = (("batch1/greedy", "ms", 0.8, "each runtime"),
           ("batch1/beam4", "ms", 4.0, "each runtime"),
           ("batch64/greedy", "rate", 2500, "each runtime"),
           ("batch64/greedy", "rate", 4000, "one runtime"))
BACKEND_NAMES = tuple(dict.fromkeys(d[1] for d in DECODERS))
DEVICE_DECODERS = ("tflite/step", "tflite/whole_loop", "onnx/step", "onnx/whole_loop")


# === The arithmetic of one decoder step ===

def layer_sizes(arch):
    """`(value_dim, decoder_units)`: the encoder output size and the decoder RNN size
    (the encoder output size unless `decoder_units` is set, as `Seq2Seq` does)."""
    value_dim = arch["units"] * (2 if arch["bidirectional"] else 1)
    return value_dim, arch["decoder_units"] or value_dim


def decoder_step_matrices(arch):
    """The weight matrices one decoder step multiplies a row by: `(name, rows, cols)`.

    Follows `keras_s2s.layers.decoder.Decoder.forward_step` and `Attention.call`: per
    RNN layer the input kernel and the recurrent kernel (3 gates for a GRU, 4 for an
    LSTM), the query projection of the concat / bahdanau scores (the source side,
    `project_keys`, is computed once per source by the encoder graph), the attentional
    layer `W_c [c_t; h_t]` and the output projection to the target vocabulary.
    """
    value_dim, units = layer_sizes(arch)
    gates = 3 if arch["cell"] == "gru" else 4
    attention = arch["attention"] != "none"
    rnn_input = arch["embedding_dim"]
    if arch["input_feeding"]:
        rnn_input += units
    if attention and arch["attention_placement"] == "bahdanau":
        rnn_input += value_dim
    matrices = []
    for layer in range(arch["decoder_layers"]):
        matrices.append((f"{arch['cell']}_{layer}_kernel", rnn_input, gates * units))
        matrices.append((f"{arch['cell']}_{layer}_recurrent_kernel", units, gates * units))
        rnn_input = units
    if arch["attention"] in ("concat", "bahdanau"):
        matrices.append(("attention_query", units, arch["attention_units"] or units))
    if attention:
        matrices.append(("attentional_dense", value_dim + units, units))
    matrices.append(("output_dense", units, arch["target_vocab_size"]))
    return matrices


def encoder_matrices(arch):
    """The weight matrices the encoder multiplies each source token by: `(name, rows,
    cols)`. Per layer and direction the RNN's input and recurrent kernels, then the
    attention's key projection (`Attention.project_keys`: none for the dot score). The
    bridge (once per sentence, not per token) is left out: it is tiny."""
    value_dim, units = layer_sizes(arch)
    gates = 3 if arch["cell"] == "gru" else 4
    directions = ("forward", "backward") if arch["bidirectional"] else ("forward",)
    matrices, rnn_input = [], arch["embedding_dim"]
    for layer in range(arch["encoder_layers"]):
        for direction in directions:
            matrices.append((f"encoder_{arch['cell']}_{layer}_{direction}_kernel", rnn_input,
                             gates * arch["units"]))
            matrices.append((f"encoder_{arch['cell']}_{layer}_{direction}_recurrent_kernel",
                             arch["units"], gates * arch["units"]))
        rnn_input = arch["units"] * len(directions)
    if arch["attention"] == "general":
        matrices.append(("attention_keys", value_dim, units))
    elif arch["attention"] in ("concat", "bahdanau"):
        matrices.append(("attention_keys", value_dim, arch["attention_units"] or units))
    return matrices


def encoder_macs_per_token(arch):
    """Multiply-adds the encoder spends on one source token."""
    return sum(rows * cols for _, rows, cols in encoder_matrices(arch))


def macs_per_source_position(arch):
    """Multiply-adds of one decoder step per source token: the score and the context."""
    if arch["attention"] == "none":
        return 0
    value_dim, units = layer_sizes(arch)
    # dot / general: h_t . key (key_dim = units); concat / bahdanau: v . tanh(...).
    score = units if arch["attention"] in ("dot", "general") else (arch["attention_units"] or units)
    return score + value_dim  # + the context, weights . encoder outputs


def decoder_step_macs(arch, source_length):
    """Multiply-adds of one decoder step for one row with `source_length` source tokens."""
    weights = sum(rows * cols for _, rows, cols in decoder_step_matrices(arch))
    return weights + macs_per_source_position(arch) * source_length


class CountingBackend:
    """Wraps a backend and adds up the rows and multiply-adds of the decoder steps run."""

    def __init__(self, backend, arch):
        self.backend = backend
        self.arch = arch
        self.row_steps = 0
        self.macs = 0
        self.encoder_macs = 0

    def encode(self, source_ids):
        tokens = int(np.count_nonzero(np.asarray(source_ids) != PAD_ID))
        self.encoder_macs += tokens * encoder_macs_per_token(self.arch)
        return self.backend.encode(source_ids)

    def step(self, token_ids, state, memory):
        rows = len(token_ids)
        source_length = memory["source_mask"].shape[1] if "source_mask" in memory else 0
        self.row_steps += rows
        self.macs += rows * decoder_step_macs(self.arch, source_length)
        return self.backend.step(token_ids, state, memory)


def count_work(translator, arch, sources, batch_size, beam_size):
    """Decoder rows x steps and multiply-adds of decoding `sources` step by step, and the
    encoder's multiply-adds on their tokens (padding not counted)."""
    counter = CountingBackend(translator.backend, arch)
    counting = runtime.Translator(counter, translator.source_tokenizer,
                                  translator.target_tokenizer, translator.max_decode_length)
    counting.decode(sources, batch_size=batch_size, beam_size=beam_size)
    return {"row_steps": counter.row_steps, "macs": counter.macs,
            "encoder_macs": counter.encoder_macs}


# === Hardware reference ===

def _best_seconds(function, repeats):
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def numpy_reference(arch):
    """GFLOP/s of numpy float32 matrix products: one large (1024^3) and the decoder
    step's own matrix products at the rows each setting runs (`REFERENCE_ROWS`: batch x
    beam; the best of several runs). Run it
    before any backend is loaded: the idle thread pools of TensorFlow and ONNX Runtime
    slow numpy's BLAS threads down by an order of magnitude on a small machine."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((1024, 1024), dtype=np.float32) for _ in range(2))
    result = {"gemm_1024": 2 * 1024 ** 3 / _best_seconds(lambda: a @ b, 5) / 1e9}
    weights = [rng.standard_normal((r, c), dtype=np.float32) for _, r, c in decoder_step_matrices(arch)]
    macs = sum(w.size for w in weights)
    for rows in REFERENCE_ROWS:
        inputs = [rng.standard_normal((rows, w.shape[0]), dtype=np.float32) for w in weights]

        def step_products():
            for x, w in zip(inputs, weights):
                x @ w

        result[f"step_matrices_rows_{rows}"] = 2 * rows * macs / _best_seconds(step_products, 20) / 1e9
    return {name: round(value, 2) for name, value in result.items()}


# === Decoders ===

class KerasPredictBackend:
    """The keras.io `lstm_seq2seq` way: `Model.predict()` for the encoder and for every
    decoder step, on the inference model's `encoder_model` and `step_model`."""

    def __init__(self, inference):
        self.inference = inference

    @staticmethod
    def _predict(model, inputs):
        rows = len(next(iter(inputs.values())))
        return model.predict(inputs, batch_size=rows, verbose=0)

    def encode(self, source_ids):
        outputs = self._predict(self.inference.encoder_model,
                                {"source_ids": np.asarray(source_ids, dtype=np.int32)})
        return ({name: outputs[name] for name in self.inference.state_names},
                {name: outputs[name] for name in self.inference.memory_names})

    def step(self, token_ids, state, memory):
        outputs = self._predict(self.inference.step_model,
                                {"token_ids": np.asarray(token_ids, dtype=np.int32), **state, **memory})
        new_state = {name: outputs[f"next_{name}"] for name in self.inference.state_names}
        return outputs["logits"], new_state, outputs.get("attention")


def load_translators(bundle, threads, names=BACKEND_NAMES):
    """Yields `(name, Translator)` for those of `names` (in `DECODERS`' order), one at a
    time, so that at most two backends are in memory (the Keras ones share one model)."""
    options = {"num_threads": threads} if threads else {}
    if {"keras", "keras-predict"} & set(names):
        keras_translator = runtime.load(bundle, backend="keras")
        if "keras" in names:
            yield "keras", keras_translator
        if "keras-predict" in names:
            yield "keras-predict", runtime.Translator(
                KerasPredictBackend(keras_translator.backend.inference),
                keras_translator.source_tokenizer, keras_translator.target_tokenizer,
                keras_translator.max_decode_length)
        del keras_translator
    if "savedmodel" in names:
        yield "savedmodel", runtime.load(bundle, backend="savedmodel")
    for backend in ("tflite", "onnx"):
        if backend in names:
            yield backend, runtime.load(bundle, backend=backend, **options)


def time_decoding(translator, sources, batch_size, beam_size, whole_loop, repeats):
    """Seconds of every `decode` call of `batch_size` sources, after a warm-up on the
    first two batches (tracing, first-shape allocations)."""
    options = {"batch_size": batch_size, "beam_size": beam_size, "whole_loop": whole_loop}
    translator.decode(sources[:max(5, 2 * batch_size)], **options)
    calls = []
    for _ in range(repeats):
        for start in range(0, len(sources), batch_size):
            batch = sources[start:start + batch_size]
            began = time.perf_counter()
            translator.decode(batch, **options)
            calls.append((time.perf_counter() - began, len(batch)))
    seconds = sum(s for s, _ in calls)
    return {"seconds": seconds, "sentences": sum(n for _, n in calls),
            "ms_per_sentence": 1000 * statistics.median(s / n for s, n in calls)}


# === Inputs ===

def spread(items, count):
    """`count` items taken evenly over `items`, in order (all of them if fewer)."""
    if count >= len(items):
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, count).round().astype(int)]


def test_sources(meta, model_dir):
    """The source texts of the model's recorded test split, or exit with the reason."""
    data = meta.get("data") or {}
    missing = [data[key] for key in ("test", "test_source") if data.get(key)
               and not os.path.exists(data[key])]
    if missing:
        sys.exit(f"The test data of {model_dir} is not at {missing[0]}: the spa-eng corpus "
                 "belongs in ../shared/data/spa-eng beside the repository.")
    pairs = recorded_split(data, "test")
    if not pairs:
        sys.exit(f"{model_dir} has no recorded test data to decode.")
    return [source for source, _ in pairs]


def ensure_bundle(model_dir, bundle_dir, meta):
    """The bundle's path; exports `model_dir` there first if it does not exist."""
    if not os.path.exists(bundle_dir):
        from keras_s2s.export import export_bundle

        print(f"== exporting {model_dir} to {bundle_dir} (all formats, float32)")
        export_bundle(model_dir, bundle_dir)
    bundle = runtime.Bundle(bundle_dir)
    if bundle.meta["model"] != meta["model"]:
        sys.exit(f"{bundle_dir} was exported from another architecture than {model_dir}; "
                 "give the model's own bundle with --bundle, or a new directory to export to.")
    missing = [f for f in ("keras", "savedmodel", "tflite", "onnx") if not bundle.has_format(f)]
    if missing:
        sys.exit(f"{bundle_dir} has no {', '.join(missing)} export; export the model again "
                 f"with every format (`keras-s2s export {model_dir} --out DIR`).")
    return bundle


# === Report ===

def add_ratios(results, work):
    """Ratios to the fastest decoder of each setting, and the useful GFLOP/s."""
    for setting, by_decoder in results.items():
        fastest_ms = min(r["ms_per_sentence"] for r in by_decoder.values())
        fastest_rate = max(r["sentences_per_second"] for r in by_decoder.values())
        for r in by_decoder.values():
            r["ms_ratio_to_fastest"] = round(r["ms_per_sentence"] / fastest_ms, 2)
            r["rate_ratio_to_fastest"] = round(fastest_rate / r["sentences_per_second"], 2)
            r["gflops"] = round(2 * work[setting]["macs"] * r["repeats"] / r["seconds"] / 1e9, 3)


def target_rows(results, work, sources, reference):
    """Issue 16's targets for the LiteRT and ONNX Runtime decoders, each with two floors:
    the time the setting's useful decoder-step arithmetic takes at the speed numpy does
    the step's matrix products at the setting's rows (batch x beam; the Python loop and
    the rest not counted), and that plus the encoder's arithmetic at the same speed
    (every sentence must be encoded); and the measured figure's ratio to each."""
    rows = []
    options = {setting: (batch, beam) for setting, batch, beam, _ in SETTINGS}
    for setting, kind, threshold, scope in TARGETS:
        batch, beam = options[setting]
        flop = 2 * work[setting]["macs"] / len(sources[batch])  # per sentence
        encoder_flop = 2 * work[setting]["encoder_macs"] / len(sources[batch])
        gflops = reference[f"step_matrices_rows_{batch * beam}"]
        floor_ms = flop / gflops / 1e6
        full_floor_ms = (flop + encoder_flop) / gflops / 1e6
        measured = {d: results[setting][d] for d in DEVICE_DECODERS if d in results[setting]}
        if not measured:
            continue
        if scope == "one runtime":
            best = max(measured, key=lambda d: measured[d]["sentences_per_second"])
            measured = {best: measured[best]}
        for decoder, r in measured.items():
            if kind == "ms":
                value, met = r["ms_per_sentence"], r["ms_per_sentence"] <= threshold
                text, floor, ratio = f"{value:.2f} ms", f"{floor_ms:.2f} ms", value / floor_ms
                full_floor, full_ratio = f"{full_floor_ms:.2f} ms", value / full_floor_ms
                by = f"{value / threshold:.2f}x the target"
                title = f"{TITLES[setting]}, median <= {threshold} ms per sentence"
            else:
                value = r["sentences_per_second"]
                met, floor_rate = value >= threshold, 1000 / floor_ms
                text, floor, ratio = f"{value:,.0f}/s", f"{floor_rate:,.0f}/s", floor_rate / value
                full_floor = f"{1000 / full_floor_ms:,.0f}/s"
                full_ratio = 1000 / full_floor_ms / value
                by = f"{value / threshold:.0%} of the target"
                title = f"{TITLES[setting]}, >= {threshold:,} sentences/s ({scope})"
            rows.append({"target": title, "decoder": decoder, "measured": text, "met": met,
                         "by": by, "floor": floor, "ratio_to_floor": round(ratio, 2),
                         "floor_with_encoder": full_floor,
                         "ratio_to_floor_with_encoder": round(full_ratio, 2)})
    return rows


def markdown(result):
    arch, step = result["architecture"], result["decoder_step"]
    hardware = result["numpy_reference_gflops"]
    lines = [
        f"Model: `{result['model']}` ({'bi-' if arch['bidirectional'] else ''}{arch['cell'].upper()} "
        f"{arch['units']} encoder, {step['decoder_units']}-unit decoder, {arch['attention']} attention "
        f"({arch['attention_placement']} placement), vocabularies {arch['source_vocab_size']:,} -> "
        f"{arch['target_vocab_size']:,}); bundle `{result['bundle']}`.",
        f"Sources: {result['sources']['batch1']} (batch 1) and {result['sources']['batch64']} (batch 64) "
        f"held-out sentences spread over the {result['sources']['test_pairs']:,}-pair test split, "
        f"mean {result['sources']['mean_source_tokens']:.1f} source tokens; {result['repeats']} timed "
        f"pass(es) after a warm-up. Threads: {result['threads'] or 'each runtime’s default'}.",
        f"Machine: {result['machine']}; 1-minute load average {result['load_average']['start']} "
        f"at the start, {result['load_average']['end']} at the end (other work on the machine "
        "makes every number slower and noisier).",
        "",
        f"One decoder step needs {step['weight_macs']:,} multiply-adds per row for its weight "
        f"matrices ({', '.join(f'{n} {r}x{c}' for n, r, c in step['matrices'])}) plus "
        f"{step['macs_per_source_position']:,} per source token (attention score and context): "
        f"{step['macs_at_mean_source_length']:,} at the mean source length, "
        f"{2 * step['macs_at_mean_source_length'] / 1e6:.1f} MFLOP. For scale, numpy float32 matrix "
        f"products on this machine: {hardware['gemm_1024']:.1f} GFLOP/s (1024^3), and the step's own "
        "matrix products " + ", ".join(f"{hardware[f'step_matrices_rows_{rows}']:.1f} GFLOP/s at "
                                       f"{rows} row{'s' if rows > 1 else ''}"
                                       for rows in REFERENCE_ROWS) + ".",
        "",
        "Times are text in, text out (`Translator.decode`: tokenize, encode, decode, detokenize). "
        "ms/sentence is the median per sentence (batch 64: per batch call / its sentences); "
        "sentences/s is all sentences over the total time; \"x fastest\" is how many times slower "
        "than the fastest decoder of the setting. GFLOP/s counts the useful decoder-step "
        "arithmetic (each sentence's steps when decoded alone; no padding, no encoder).",
    ]
    if result.get("graph_kib"):
        lines += ["", "Graph files (KiB): " + ", ".join(
            f"`{name}` {kib:,.1f}" for name, kib in result["graph_kib"].items())
            + (f". `*/whole_loop` at beam 4 is the bundle's beam graph (beam size "
               f"{result['beam_size']}), the whole beam search in one call per batch." if result.get("beam_size") else ".")]
    for setting, _, _, title in SETTINGS:
        work = result["work"][setting]
        lines += ["", f"### {title}",
                  "", f"Useful work: {work['row_steps']:,} decoder rows x steps, "
                  f"{2 * work['macs'] / 1e9:.2f} GFLOP per pass."
                  + (f" Step by step in batches of 64, the decoders run {work['executed_row_steps']:,} "
                     f"rows x steps ({work['executed_row_steps'] / work['row_steps']:.2f}x: padding "
                     "rows of finished sentences)." if "executed_row_steps" in work else ""),
                  "", "| decoder | ms/sentence | x fastest | sentences/s | x fastest | GFLOP/s |",
                  "|---|---:|---:|---:|---:|---:|"]
        for decoder, r in result["results"][setting].items():
            lines.append(f"| {decoder} | {r['ms_per_sentence']:.2f} | {r['ms_ratio_to_fastest']:.2f} | "
                         f"{r['sentences_per_second']:,.1f} | {r['rate_ratio_to_fastest']:.2f} | "
                         f"{r['gflops']:.2f} |")
    lines += ["", "### Targets", "",
              "The floor is the setting's useful decoder-step arithmetic per sentence at the "
              "speed numpy does the step's matrix products at the setting's rows (batch x "
              "beam), without the encoder, tokenizing or the loop around the steps; the "
              "floor with the encoder adds the encoder's arithmetic on the sentence's "
              "tokens (" + ", ".join(f"{n} {r}x{c}" for n, r, c in result["encoder_matrices"])
              + ") at the same speed. \"x floor\" is how far "
              "the measured figure is from each.", "",
              "| target | decoder | measured | met | measured / target | floor | x floor "
              "| floor with the encoder | x floor with the encoder |",
              "|---|---|---:|---|---|---:|---:|---:|---:|"]
    for t in result["targets"]:
        lines.append(f"| {t['target']} | {t['decoder']} | {t['measured']} | "
                     f"{'met' if t['met'] else 'missed'} | {t['by']} | {t['floor']} | "
                     f"{t['ratio_to_floor']:.1f} | {t['floor_with_encoder']} | "
                     f"{t['ratio_to_floor_with_encoder']:.1f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "runs", "spa-eng-bleu"),
                        help="trained model directory")
    parser.add_argument("--bundle", default=None,
                        help="its exported bundle (default: runs/<model name>-bundle; "
                             "exported there if missing)")
    parser.add_argument("--sentences", type=int, default=200, help="test sources decoded at batch 1")
    parser.add_argument("--batch-sentences", type=int, default=1024,
                        help="test sources decoded at batch 64")
    parser.add_argument("--repeats", type=int, default=1, help="timed passes over the sources")
    parser.add_argument("--name", default=NAME,
                        help=f"results file name in benchmarks/results (default {NAME})")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of LiteRT and ONNX Runtime (default: their own choice)")
    parser.add_argument("--backends", default=",".join(BACKEND_NAMES),
                        help="comma-separated backends to time (default: all of "
                             f"{','.join(BACKEND_NAMES)}); tflite,onnx needs a bundle with "
                             "only those formats")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    unknown = sorted(set(backends) - set(BACKEND_NAMES))
    if unknown or not backends:
        parser.error(f"--backends: unknown {unknown}; choose from {', '.join(BACKEND_NAMES)}.")
    if min(args.sentences, args.batch_sentences, args.repeats) < 1:
        parser.error("--sentences, --batch-sentences and --repeats must be at least 1.")
    model_dir = os.path.abspath(args.model)
    bundle_dir = os.path.abspath(args.bundle or os.path.join(
        ROOT, "runs", os.path.basename(model_dir.rstrip(os.sep)) + "-bundle"))
    try:
        meta = read_meta(model_dir)
    except (OSError, ValueError) as e:
        sys.exit(str(e))
    all_sources = test_sources(meta, args.model)
    bundle = ensure_bundle(model_dir, bundle_dir, meta)
    arch = meta["model"]
    # Before any backend exists: their thread pools would compete with numpy's.
    load_at_start = os.getloadavg()[0]
    print("== numpy reference")
    reference = numpy_reference(arch)
    sources = {1: spread(all_sources, args.sentences), 64: spread(all_sources, args.batch_sentences)}
    mean_length = statistics.mean(len(bundle.source_tokenizer().tokenize(s)) for s in sources[1])

    # The work: each sentence decoded alone, step by step (ONNX Runtime, the quickest);
    # at batch 64 also what the padded batches run.
    counter = runtime.load(bundle.path, backend="onnx")
    work = {}
    for setting, batch_size, beam_size, _ in SETTINGS:
        print(f"== counting the decoder steps of {setting}")
        work[setting] = count_work(counter, arch, sources[batch_size], 1, beam_size)
        if batch_size > 1:
            executed = count_work(counter, arch, sources[batch_size], batch_size, beam_size)
            work[setting]["executed_row_steps"] = executed["row_steps"]
    del counter

    results = {setting: {} for setting, _, _, _ in SETTINGS}
    for name, translator in load_translators(bundle.path, args.threads, backends):
        for decoder, _, whole_loop in (d for d in DECODERS if d[1] == name):
            for setting, batch_size, beam_size, _ in SETTINGS:
                if whole_loop and beam_size > 1 and translator.backend.beam_size != beam_size:
                    continue  # no beam graph of this size in the bundle
                timing = time_decoding(translator, sources[batch_size], batch_size, beam_size,
                                       whole_loop, args.repeats)
                results[setting][decoder] = {
                    "ms_per_sentence": round(timing["ms_per_sentence"], 3),
                    "sentences_per_second": round(timing["sentences"] / timing["seconds"], 2),
                    "seconds": round(timing["seconds"], 3), "repeats": args.repeats,
                }
                print(f"   {setting:15s} {decoder:22s} {timing['ms_per_sentence']:9.2f} ms/sentence "
                      f"{timing['sentences'] / timing['seconds']:9.1f} sentences/s")
    add_ratios(results, work)

    result = {
        "model": os.path.relpath(model_dir, ROOT), "bundle": os.path.relpath(bundle_dir, ROOT),
        "architecture": arch,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "load_average": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "threads": args.threads, "repeats": args.repeats,
        "sources": {"test_pairs": len(all_sources), "batch1": len(sources[1]),
                    "batch64": len(sources[64]), "mean_source_tokens": round(mean_length, 2)},
        "decoder_step": {
            "decoder_units": layer_sizes(arch)[1],
            "matrices": decoder_step_matrices(arch),
            "weight_macs": decoder_step_macs(arch, 0),
            "macs_per_source_position": macs_per_source_position(arch),
            "macs_at_mean_source_length": round(decoder_step_macs(arch, mean_length)),
        },
        "encoder_matrices": encoder_matrices(arch),
        "encoder_macs_per_token": encoder_macs_per_token(arch),
        "numpy_reference_gflops": reference,
        "graph_kib": {name: round(os.path.getsize(os.path.join(bundle.path, name)) / 1024, 1)
                      for name in sorted(bundle.meta["files"])
                      if name.endswith((".tflite", ".onnx"))},
        "beam_size": bundle.meta.get("beam_size"),
        "work": work, "results": results,
        "targets": target_rows(results, work, sources, reference),
    }
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    text = markdown(result)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), text)
    print(text)


if __name__ == "__main__":
    main()
