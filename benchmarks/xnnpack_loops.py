"""LiteRT's graphs with a loop on XNNPACK: as right as the builtin kernels? How much faster?

`keras_s2s.runtime.LiteRTBackend` runs the TFLite graphs that hold a `WHILE` loop
(`encoder`, `translate`, `beam`) on LiteRT's builtin kernels and only the step graph on
XNNPACK, its default delegate: XNNPACK once gave a wrong beam score for one architecture
of the export grid (a fresh-clone CI run, ai-edge-litert 2.3.0), as it often did with
Keras's own RNN loop. This measures both sides of that choice, so that it can be made
again on another LiteRT:

- **agreement**: tiny untrained models of several architectures (GRU/LSTM, uni- and
  bidirectional, every attention, 1-2 layers; the end token's bias raised so that rows
  end at different steps and the greedy loop's batch shrinks), their loop graphs
  converted, then called with random batches (1-8 rows, 1-9 tokens, random padding) on a
  long-lived XNNPACK interpreter and on fresh ones, each output compared with the
  builtin kernels' (a difference above 1e-3 counts as wrong);
- **speed** (`--bundle`): a bundle's whole-loop greedy and beam graphs on spa-eng test
  sentences, text in and text out, with the loop graphs on the builtin kernels (as
  shipped) and on XNNPACK, alternating, the median of `--rounds`; where the n-best
  lists differ, whether only near ties changed places (rounding) or a score is off.

    .venv/bin/python benchmarks/xnnpack_loops.py [--variants 8] [--calls 300] \\
        [--fresh 30] [--bundle runs/spa_eng-all]

Writes `benchmarks/results/xnnpack_loops.{json,md}`. Agreement runs in child processes
without TensorFlow, as on a device.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "xnnpack_loops"
LOOP_GRAPHS = {"encoder": "encode", "translate": "translate", "beam": "beam"}
VOCAB, MAX_DECODE_LENGTH, TOLERANCE = 20, 10, 1e-3
# Ranking scores closer than this may come out in either order between two kernels.
NEAR_TIE = 1e-4

# Run in a child process: the builtin kernels' outputs against XNNPACK's, on one
# long-lived interpreter (every call) and on `fresh` new ones (the first call each).
CHILD = """
import json, os, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType
directory, calls, fresh, threads, seed = sys.argv[1], *map(int, sys.argv[2:6])
signatures = json.loads(sys.argv[6])
tolerance = float(sys.argv[7])

def runner(role, xnnpack):
    options = {} if xnnpack else {
        "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    interpreter = Interpreter(model_path=os.path.join(directory, role + ".tflite"),
                              num_threads=threads, **options)
    interpreter.allocate_tensors()
    return interpreter.get_signature_runner(signatures[role])

def inputs(rng, role):
    batch, width = int(rng.integers(1, 9)), int(rng.integers(1, 10))
    lengths = rng.integers(1, width + 1, size=batch)
    lengths[0] = width
    ids = np.zeros((batch, width), np.int32)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(3, 20, size=n)
    found = {"source_ids": ids}
    if role == "beam":
        found["length_penalty"] = np.float32(rng.choice([0.0, 1.0]))
    return found

def wrong(expected, found):
    return any(a.size and np.max(np.abs(a.astype(np.float64) - found[k].astype(np.float64)))
               > tolerance for k, a in expected.items())

result = {}
for role in signatures:
    rng = np.random.default_rng(seed)
    builtin, xnnpack = runner(role, False), runner(role, True)
    long_lived = 0
    for _ in range(calls):
        x = inputs(rng, role)
        long_lived += wrong(builtin(**x), xnnpack(**x))
    first = 0
    for _ in range(fresh):
        x = inputs(rng, role)
        first += wrong(builtin(**x), runner(role, True)(**x))
    result[role] = {"long_lived_wrong": long_lived, "calls": calls,
                    "fresh_wrong": first, "fresh": fresh}
print(json.dumps(result))
"""


def variants(count):
    """`count` architectures that rotate through the cells, directions, attentions,
    placements and depths, in a fixed order."""
    attentions = ("concat", "bahdanau", "general", "dot", "none")
    found = []
    for i in range(count):
        attention = attentions[i % len(attentions)]
        placement = "luong" if attention == "none" else ("bahdanau", "luong")[(i // 5) % 2]
        layers = 2 - (i // 3) % 2
        found.append(dict(cell=("gru", "lstm")[i % 2], bidirectional=(i // 2) % 2 == 0,
                          attention=attention, attention_placement=placement,
                          encoder_layers=layers, decoder_layers=layers))
    return found


def variant_name(v):
    return (f"{v['cell']}-{'bi' if v['bidirectional'] else 'uni'}-{v['attention']}-"
            f"{v['attention_placement']}-L{v['encoder_layers']}")


def convert_variant(config, directory, seed):
    """A tiny random model of `config` whose greedy rows end at different steps, its
    three loop graphs written as TFLite files under `directory`."""
    import keras

    from keras_s2s.export import tflite, tflite_functions
    from keras_s2s.export.graphs import ExportGraphs
    from keras_s2s.models import Seq2Seq
    from keras_s2s.text.vocabulary import END_ID

    keras.utils.set_random_seed(seed)
    model = Seq2Seq(VOCAB, VOCAB, embedding_dim=8, units=8, bridge="dense", **config)
    rng = np.random.default_rng(seed)
    model({"source_ids": np.ones((1, 3), np.int32), "target_ids": np.ones((1, 3), np.int32)})
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))
    graphs = ExportGraphs(model, MAX_DECODE_LENGTH)
    sources = rng.integers(3, VOCAB, size=(16, 6)).astype(np.int32)
    bias = model.decoder.output_dense.bias
    base = np.array(bias.numpy())
    # Move the end token's bias (the least first) until some, not all, of 16 rows end
    # before the limit.
    for raise_by in sorted(np.linspace(-4.0, 4.0, 33), key=abs):
        values = base.copy()
        values[END_ID] += raise_by
        bias.assign(values)
        lengths = graphs.greedy(sources)["lengths"].numpy()
        if 0.25 <= np.mean(lengths < MAX_DECODE_LENGTH) <= 0.75:
            break
    functions = tflite_functions(graphs)
    for role in LOOP_GRAPHS:
        signature, function = functions[role]
        with open(os.path.join(directory, f"{role}.tflite"), "wb") as f:
            f.write(tflite.convert(function, signature))
    return float(np.mean(lengths < MAX_DECODE_LENGTH))


def agreement(args):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, config in enumerate(variants(args.variants)):
            directory = os.path.join(tmp, str(index))
            os.makedirs(directory)
            print(f"== {variant_name(config)}", flush=True)
            ending = convert_variant(config, directory, seed=index)
            done = subprocess.run(
                [sys.executable, "-c", CHILD, directory, str(args.calls), str(args.fresh),
                 str(args.threads), str(index), json.dumps(LOOP_GRAPHS), str(TOLERANCE)],
                capture_output=True, text=True, check=False)
            if done.returncode:
                sys.exit(f"{variant_name(config)}: the child failed:\n{done.stderr[-3000:]}")
            found = json.loads(done.stdout.strip().splitlines()[-1])
            print("  ", found, flush=True)
            rows.append({"variant": variant_name(config), "greedy_rows_ending": ending, **found})
    return rows


def speed(args):
    """Sentences per second of whole-loop greedy and beam 4 with the loop graphs on the
    builtin kernels and on XNNPACK."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from decode_speed import spread

    from keras_s2s import runtime
    from keras_s2s.data.recorded import recorded_split

    test = [source for source, _ in recorded_split({"corpus": "spa-eng"}, "test")]
    translators = {"builtin": runtime.load(args.bundle, backend="tflite"),
                   "xnnpack": runtime.load(args.bundle, backend="tflite", xnnpack_loops=True)}
    rows = []
    for batch, count, beam in ((1, 100, 1), (1, 100, 4), (64, 512, 1), (64, 512, 4)):
        sources = spread(test, count)
        rates, outputs = {name: [] for name in translators}, {}
        options = {"batch_size": batch, "beam_size": beam, "whole_loop": True}
        for _ in range(args.rounds):
            for name, translator in translators.items():
                translator.decode(sources[:8], **options)
                began = time.perf_counter()
                outputs[name] = translator.decode(sources, n_best=beam, **options)
                rates[name].append(len(sources) / (time.perf_counter() - began))
        row = {"batch": batch, "beam": beam, "sentences": len(sources),
               **{name: round(statistics.median(r), 1) for name, r in rates.items()},
               **compare_hypotheses(outputs["builtin"], outputs["xnnpack"])}
        print("  ", row, flush=True)
        rows.append(row)
    return rows


def compare_hypotheses(builtin, xnnpack):
    """How the n-best lists of two runs differ: `differing` sources (any token); of those,
    `near_ties`: the sources whose lists differ only where the builtin run's ranking
    scores are within NEAR_TIE of each other (the same search, rounding otherwise); and
    `largest_score_difference`: over the hypotheses both runs found, how far apart their
    scores are (a miscomputation shows here)."""
    if any(h.ranking_score is None for hypotheses in builtin for h in hypotheses):
        # The greedy graph gives tokens only.
        differing = sum([h.tokens for h in a] != [h.tokens for h in b]
                        for a, b in zip(builtin, xnnpack))
        return {"identical": differing == 0, "differing": differing}
    differing = ties = 0
    largest = 0.0
    for ours, theirs in zip(builtin, xnnpack):
        scores = {tuple(h.tokens): h.ranking_score for h in ours}
        for h in theirs:
            if tuple(h.tokens) in scores:
                largest = max(largest, abs(scores[tuple(h.tokens)] - h.ranking_score))
        if [h.tokens for h in ours] == [h.tokens for h in theirs]:
            continue
        differing += 1
        # Near tie: every place the lists differ, the builtin run's hypothesis there is
        # within NEAR_TIE of a neighbour's ranking score (the order is a rounding choice),
        # or the other run's hypothesis there scores within NEAR_TIE of it.
        ranks = [h.ranking_score for h in ours]
        tie = True
        for j, (a, b) in enumerate(zip(ours, theirs)):
            if a.tokens == b.tokens:
                continue
            neighbours = [abs(ranks[j] - ranks[i]) for i in (j - 1, j + 1) if 0 <= i < len(ranks)]
            if not (min(neighbours, default=np.inf) <= NEAR_TIE
                    or abs(a.ranking_score - b.ranking_score) <= NEAR_TIE):
                tie = False
        ties += tie
    return {"identical": differing == 0, "differing": differing, "near_ties": ties,
            "largest_score_difference": float(f"{largest:.3g}")}


def markdown(result):
    lines = ["# LiteRT's loop graphs on XNNPACK", "",
             f"Machine: {result['machine']}; load average {result['load_average']['start']} "
             f"at the start, {result['load_average']['end']} at the end. LiteRT "
             f"{result['litert']}. Produced by `benchmarks/xnnpack_loops.py`.", ""]
    if result.get("agreement"):
        lines += [f"## Agreement with the builtin kernels ({result['threads']} threads)", "",
                  f"Random batches on tiny untrained models; an output differing by more than "
                  f"{TOLERANCE} counts as wrong. Long-lived: one interpreter, every call; "
                  "fresh: a new interpreter's first call.", "",
                  "Greedy rows ending: the share of 16 random sources whose greedy "
                  "decoding ends before the length limit.", "",
                  "| variant | greedy rows ending | graph | long-lived wrong | fresh wrong |",
                  "|---|---:|---|---:|---:|"]
        for row in result["agreement"]:
            for role in LOOP_GRAPHS:
                r = row[role]
                lines.append(f"| {row['variant']} | {row['greedy_rows_ending']:.2f} | {role} | "
                             f"{r['long_lived_wrong']} of {r['calls']} | {r['fresh_wrong']} of "
                             f"{r['fresh']} |")
        lines.append("")
    if result.get("speed"):
        lines += [f"## Speed: bundle `{result['bundle']}`, whole loop, text in and text out",
                  "", f"Sentences per second, the median of {result['rounds']} alternating "
                  "rounds; the runtime's default threads.", "",
                  f"Outputs: the sources whose n-best lists differ; of those, near ties "
                  f"(the lists differ only where ranking scores are within {NEAR_TIE} of "
                  "each other); and the largest difference between the two runs' scores "
                  "of the same hypothesis.", "",
                  "| batch | beam | builtin kernels (shipped) | XNNPACK | XNNPACK / builtin "
                  "| sources differing | of which near ties | largest score difference |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in result["speed"]:
            lines.append(f"| {r['batch']} | {r['beam']} | {r['builtin']:,.1f} | "
                         f"{r['xnnpack']:,.1f} | {r['xnnpack'] / r['builtin']:.2f}x | "
                         f"{r['differing']} of "
                         f"{r['sentences']} | {r.get('near_ties', '-')} | "
                         f"{r.get('largest_score_difference', '-')} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=8, help="architectures (0: none)")
    parser.add_argument("--calls", type=int, default=300,
                        help="calls of a long-lived interpreter per graph")
    parser.add_argument("--fresh", type=int, default=30, help="fresh interpreters per graph")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bundle", help="also time this bundle's loop graphs both ways")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--name", default=NAME)
    args = parser.parse_args()
    from importlib.metadata import version

    load_at_start = os.getloadavg()[0]
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                         f"Python {platform.python_version()}",
              "litert": version("ai-edge-litert"), "threads": args.threads,
              "agreement": agreement(args) if args.variants else [],
              "bundle": args.bundle and os.path.relpath(os.path.abspath(args.bundle), ROOT),
              "rounds": args.rounds, "speed": speed(args) if args.bundle else []}
    result["load_average"] = {"start": round(load_at_start, 2),
                              "end": round(os.getloadavg()[0], 2)}
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
