"""Where a decoder step's time goes, per op, on ONNX Runtime and LiteRT, beside numpy.

For one trained model (default: the zoo's `spa_eng`, a bi-GRU 256 with Bahdanau
attention and 5,000-word vocabularies: the tutorial size) this exports the float32
encoder and decoder-step graphs, records real step inputs (greedy decoding of test
sentences, at batch 1 and at batch 64) and replays them:

- **ONNX Runtime** with its profiler (`SessionOptions.enable_profiling`): the kernel
  time of every node, summed per op type and divided by the steps run, and the time of
  a whole `run()` call (on a second session, without the profiler's own cost); what the kernels do not account for is the session's own
  overhead (input binding, allocation, output copies).
- **LiteRT**: the graph's ops by kind (the interpreter's op list), which of them the
  XNNPACK delegate takes (each `DELEGATE` node replaces a connected part of the graph:
  the ops between its inputs and its outputs), and the step's time with XNNPACK and
  with LiteRT's builtin kernels only. LiteRT's Python API has no per-op profiler.
- **numpy**: the step's own matrix products (`decode_speed.decoder_step_matrices`), one
  by one, at the same batch sizes: the arithmetic floor of a step.

Both runtimes run with one thread and with their default thread count. Times are the
median over the recorded steps (each replayed `--repeats` times). Writes
`benchmarks/results/profile_step.json` and `.md`; record the machine's load (it is in
the report) and run it on a quiet machine.

    .venv/bin/python benchmarks/profile_step.py [--model saved_models/spa_eng] \\
        [--bundle runs/profile-spa_eng] [--sentences 512] [--repeats 3]
"""

import argparse
import collections
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_speed import decoder_step_matrices, spread, test_sources  # noqa: E402

from keras_s2s import decoding, runtime  # noqa: E402
from keras_s2s.decoding import step as contract  # noqa: E402
from keras_s2s.text.vocabulary import END_ID, START_ID  # noqa: E402
from keras_s2s.trained_model import read_meta  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "profile_step"
BATCHES = (1, 64)
THREADS = (1, None)  # None: the runtime's own default


def median_ms(seconds):
    return round(1000 * statistics.median(seconds), 4)


# === Inputs ===

def record_steps(translator, sources, batch_size, max_length):
    """`(encoder inputs, step inputs)` of greedy decoding of `sources` in batches of
    `batch_size`: the arrays each graph is called with, in order. The sources are batched
    by length, as `Translator.decode` batches them (little padding). Only the steps of
    whole batches are kept (finished rows leave a batch as decoding goes on), so every
    recorded step has `batch_size` rows, the last batch's excepted."""
    encoder_calls, step_calls = [], []

    def recording_step(token_ids, state, memory):
        if len(token_ids) == len(source_ids):
            step_calls.append(
                contract.step_inputs(np.asarray(token_ids, np.int32), state, memory))
        return translator.backend.step(token_ids, state, memory)

    ids = sorted(translator.tokenize_sources(sources), key=len)
    for start in range(0, len(ids), batch_size):
        rows = [row for row in ids[start:start + batch_size] if row]
        width = max(len(row) for row in rows)
        source_ids = np.array([row + [0] * (width - len(row)) for row in rows], np.int32)
        encoder_calls.append({contract.SOURCE_IDS: source_ids})
        state, memory = translator.backend.encode(source_ids)
        decoding.greedy_search(recording_step, state, memory, start_id=START_ID,
                               end_id=END_ID, max_length=max_length)
    return encoder_calls, step_calls


# === ONNX Runtime ===

def onnx_profile(path, calls, threads, repeats):
    """Per op type, the mean kernel milliseconds per call; the median `run()` time (and
    the profiler's mean of it); the graph's node count by op type."""
    import onnx
    import onnxruntime as ort

    def session(profiling):
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        if profiling:
            options.enable_profiling = True
            options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "profile")
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    # `run()` is timed without the profiler, which adds its own time to every node it
    # records (and inside a Loop, to every node of every iteration).
    timed = session(profiling=False)
    names = [output.name for output in timed.get_outputs()]
    timed.run(names, calls[0])  # warm-up (first-shape allocations)
    seconds = []
    for _ in range(repeats):
        for inputs in calls:
            began = time.perf_counter()
            timed.run(names, inputs)
            seconds.append(time.perf_counter() - began)
    profiled = session(profiling=True)
    profiled.run(names, calls[0])
    for _ in range(repeats):
        for inputs in calls:
            profiled.run(names, inputs)
    trace_path = profiled.end_profiling()
    with open(trace_path, encoding="utf-8") as f:
        events = json.load(f)
    runs = len(calls) * repeats + 1
    kernel_us = collections.Counter()
    run_us = []
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            kernel_us[event["args"]["op_name"]] += event["dur"]
        elif event.get("cat") == "Session" and event["name"] == "model_run":
            run_us.append(event["dur"])
    nodes = collections.Counter(node.op_type for node in onnx.load(path).graph.node)
    by_op = {op: round(us / runs / 1000, 4) for op, us in kernel_us.most_common()}
    # The profiler's figures are means over every call (the warm-up included), so the
    # kernels are compared with the mean of its `model_run` events.
    return {"ms_per_call": median_ms(seconds),
            "session_run_mean_ms": round(statistics.mean(run_us) / 1000, 4) if run_us else None,
            "kernels_ms": round(sum(by_op.values()), 4), "kernel_ms_by_op": by_op,
            "nodes": sum(nodes.values()), "nodes_by_op": dict(nodes.most_common())}


# === LiteRT ===

def _interpreter(path, threads, xnnpack):
    from ai_edge_litert import interpreter as litert

    options = {} if xnnpack else {
        "experimental_op_resolver_type": litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    interpreter = litert.Interpreter(model_path=path, num_threads=threads, **options)
    interpreter.allocate_tensors()
    return interpreter


def delegated_ops(interpreter):
    """`(ops, inside)`: the graph's ops (not the DELEGATE nodes) and the indices of those
    a DELEGATE node replaced (the ops between its inputs and outputs)."""
    details = interpreter._get_ops_details()
    ops = [op for op in details if op["op_name"] != "DELEGATE"]
    producers = {int(t): op for op in ops for t in op["outputs"]}
    inside = set()
    for delegate in (op for op in details if op["op_name"] == "DELEGATE"):
        stop = {int(t) for t in delegate["inputs"]}
        stack = [int(t) for t in delegate["outputs"]]
        while stack:
            tensor = stack.pop()
            if tensor in stop or tensor not in producers:
                continue
            op = producers[tensor]
            if op["index"] not in inside:
                inside.add(op["index"])
                stack.extend(int(t) for t in op["inputs"] if t >= 0)
    return ops, inside


def litert_profile(path, signature, calls, threads, repeats):
    """The step's median time with XNNPACK and with the builtin kernels only, and the
    ops by kind, delegated or not."""
    result = {}
    for xnnpack in (True, False):
        interpreter = _interpreter(path, threads, xnnpack)
        runner = interpreter.get_signature_runner(signature)
        runner(**calls[0])
        seconds = []
        for _ in range(repeats):
            for inputs in calls:
                began = time.perf_counter()
                runner(**inputs)
                seconds.append(time.perf_counter() - began)
        result["xnnpack_ms" if xnnpack else "builtin_ms"] = median_ms(seconds)
        if xnnpack:
            ops, inside = delegated_ops(interpreter)
            partitions = sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())
            kinds = collections.Counter(op["op_name"] for op in ops)
            outside = collections.Counter(op["op_name"] for op in ops if op["index"] not in inside)
            result.update(ops=len(ops), ops_by_kind=dict(kinds.most_common()),
                          xnnpack_partitions=partitions, ops_outside_xnnpack=sum(outside.values()),
                          outside_by_kind=dict(outside.most_common()))
    return result


def batch_one_rows(calls):
    """For a bundle whose LiteRT encoder takes one source per call (exported before the
    batched TFLite encoder): the rows of each batch, each at its own length."""
    rows = []
    for inputs in calls:
        for row in inputs[contract.SOURCE_IDS]:
            n = int((row != 0).sum())
            rows.append({contract.SOURCE_IDS: row[None, :n]})
    return rows


# === numpy ===

def numpy_floor(arch, batch_size, repeats=50):
    """Milliseconds of each of the step's matrix products at `batch_size` rows (best of
    `repeats`), and their sum: the arithmetic a step cannot avoid."""
    rng = np.random.default_rng(0)
    products = {}
    for name, rows, cols in decoder_step_matrices(arch):
        w = rng.standard_normal((rows, cols), dtype=np.float32)
        x = rng.standard_normal((batch_size, rows), dtype=np.float32)
        x @ w
        best = float("inf")
        for _ in range(repeats):
            began = time.perf_counter()
            x @ w
            best = min(best, time.perf_counter() - began)
        products[name] = round(1000 * best, 4)
    return {"total_ms": round(sum(products.values()), 4), "ms_by_product": products}


# === Report ===

def markdown(result):
    lines = [
        "# Where a decoder step's time goes",
        "",
        f"Model `{result['model']}` ({result['architecture_summary']}); step inputs recorded "
        f"from greedy decoding of {result['sentences']} spa-eng test sentences, batched by "
        f"length as the runtime batches them (the first 20 at batch 1; "
        f"{result['steps'][1]} steps at batch 1, {result['steps'][64]} at batch 64), each "
        f"replayed {result['repeats']} times. Machine: {result['machine']}; load average "
        f"{result['load_average']['start']} at the start, {result['load_average']['end']} at "
        f"the end. Threads: 1, and each runtime's default (`default`). Produced by "
        "`benchmarks/profile_step.py`.",
        "",
        "## The step, per call (median ms)",
        "",
        "| batch | threads | numpy matrices (floor) | ONNX Runtime run(), unprofiled | "
        "ONNX run() mean, profiled | ONNX kernels (mean) | LiteRT XNNPACK | LiteRT builtin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["step"]:
        lines.append(
            f"| {row['batch']} | {row['threads'] or 'default'} | {row['numpy']['total_ms']} | "
            f"{row['onnx']['ms_per_call']} | {row['onnx']['session_run_mean_ms']} | "
            f"{row['onnx']['kernels_ms']} | {row['tflite']['xnnpack_ms']} | "
            f"{row['tflite']['builtin_ms']} |")
    per_row = " (per row)" if result.get("litert_encoder_row_by_row", True) else ""
    lines += ["", "## The encoder, per call (median ms)", "",
              "| batch | threads | ONNX Runtime run(), unprofiled | ONNX run() mean, "
              f"profiled | ONNX kernels (mean) | LiteRT XNNPACK{per_row} | "
              f"LiteRT builtin{per_row} |",
              "|---|---|---|---|---|---|---|"]
    for row in result["encoder"]:
        lines.append(
            f"| {row['batch']} | {row['threads'] or 'default'} | {row['onnx']['ms_per_call']} | "
            f"{row['onnx']['session_run_mean_ms']} | {row['onnx']['kernels_ms']} | "
            f"{row['tflite']['xnnpack_ms']} | {row['tflite']['builtin_ms']} |")
    for graph in ("step", "encoder"):
        first = result[graph][0]
        lines += ["", f"## ONNX Runtime {graph}: kernel time by op type (ms per call)", "",
                  "| op type | nodes | " + " | ".join(
                      f"batch {r['batch']}, threads {r['threads'] or 'default'}"
                      for r in result[graph]) + " |",
                  "|---|---|" + "---|" * len(result[graph])]
        for op, count in first["onnx"]["nodes_by_op"].items():
            lines.append(f"| {op} | {count} | " + " | ".join(
                str(r["onnx"]["kernel_ms_by_op"].get(op, 0)) for r in result[graph]) + " |")
        tflite = first["tflite"]
        lines += ["", f"## LiteRT {graph}: ops by kind ({tflite['ops']} ops; XNNPACK takes "
                  f"{tflite['ops'] - tflite['ops_outside_xnnpack']} in "
                  f"{tflite['xnnpack_partitions']} partitions)", "",
                  "| op kind | ops | outside XNNPACK |", "|---|---|---|"]
        for kind, count in tflite["ops_by_kind"].items():
            lines.append(f"| {kind} | {count} | {tflite['outside_by_kind'].get(kind, 0)} |")
    lines += ["", "## numpy: the step's matrix products (ms, best of 50)", "",
              "| product | " + " | ".join(f"batch {b}" for b in BATCHES) + " |",
              "|---|" + "---|" * len(BATCHES)]
    floors = {row["batch"]: row["numpy"] for row in result["step"] if row["threads"] == 1}
    for name in floors[1]["ms_by_product"]:
        lines.append(f"| {name} | " + " | ".join(
            str(floors[b]["ms_by_product"][name]) for b in BATCHES) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "saved_models", "spa_eng"))
    parser.add_argument("--bundle", default=os.path.join(ROOT, "runs", "profile-spa_eng"),
                        help="float32 TFLite and ONNX step graphs of the model (exported "
                             "there if missing)")
    parser.add_argument("--sentences", type=int, default=512,
                        help="test sentences decoded (batch 1: the first 20 of them)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--name", default=NAME)
    args = parser.parse_args()
    model_dir = os.path.abspath(args.model)
    meta = read_meta(model_dir)
    arch = meta["model"]
    if not os.path.exists(args.bundle):
        from keras_s2s.export import export_bundle

        print(f"== exporting {model_dir} to {args.bundle} (float32, step graphs)")
        export_bundle(model_dir, args.bundle, formats=["tflite", "onnx"], whole_loop=False,
                      check_size=20)
    bundle = runtime.Bundle(args.bundle)
    # Bundles exported before the batched TFLite encoder encode one source per call.
    row_by_row = bundle.meta["formats"]["tflite"].get("encoder_batch_size", 1) == 1
    load_at_start = os.getloadavg()[0]
    sources = spread(test_sources(meta, model_dir), args.sentences)
    translator = runtime.load(args.bundle, backend="onnx")
    recorded = {batch: record_steps(translator, sources[:20] if batch == 1 else sources, batch,
                                    bundle.max_decode_length) for batch in BATCHES}
    del translator

    step, encoder = [], []
    for batch in BATCHES:
        encoder_calls, step_calls = recorded[batch]
        for threads in THREADS:
            print(f"== batch {batch}, threads {threads or 'default'}")
            step.append({
                "batch": batch, "threads": threads, "calls": len(step_calls),
                "numpy": numpy_floor(arch, batch),
                "onnx": onnx_profile(bundle.file("onnx", "decoder_step"), step_calls, threads,
                                     args.repeats),
                "tflite": litert_profile(bundle.file("tflite", "decoder_step"), "decode_step",
                                         step_calls, threads, args.repeats),
            })
            encoder.append({
                "batch": batch, "threads": threads, "calls": len(encoder_calls),
                "onnx": onnx_profile(bundle.file("onnx", "encoder"), encoder_calls, threads,
                                     args.repeats),
                "tflite": litert_profile(bundle.file("tflite", "encoder"), "encode",
                                         batch_one_rows(encoder_calls) if row_by_row
                                         else encoder_calls, threads, args.repeats),
            })
            print(f"   step: ONNX {step[-1]['onnx']['ms_per_call']} ms, LiteRT "
                  f"{step[-1]['tflite']['xnnpack_ms']} ms, numpy floor "
                  f"{step[-1]['numpy']['total_ms']} ms")
    summary = (f"{arch['cell']} {arch['units']}, {'bi' if arch['bidirectional'] else 'uni'}"
               f"directional, {arch['attention']} attention, vocabularies "
               f"{arch['source_vocab_size']}/{arch['target_vocab_size']}")
    result = {
        "model": os.path.relpath(model_dir, ROOT), "architecture_summary": summary,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "load_average": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "sentences": len(sources), "repeats": args.repeats,
        "steps": {batch: len(recorded[batch][1]) for batch in BATCHES},
        "litert_encoder_row_by_row": row_by_row,
        "step": step, "encoder": encoder,
    }
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), markdown(result))
    print(f"Wrote benchmarks/results/{args.name}.md")


if __name__ == "__main__":
    main()
