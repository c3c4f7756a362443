"""Threads for the work: greedy decoding time by thread count, batch size and usable cores.

For each runtime (LiteRT, ONNX Runtime), text in and text out through
`keras_s2s.runtime` (greedy, step by step), at batch 1 and 64: every thread count from 1
to the usable cores, the runtime's own default (`num_threads=0`: what it does when not
told) and keras_s2s's default (`num_threads=None`: `keras_s2s.runtime.threads`). Then the
same with the process pinned to one core (`os.sched_setaffinity`), as under `taskset -c 0`
or in a one-CPU container, where a runtime that sizes its pool by the machine's cores
starts more threads than it can run.

Writes `benchmarks/results/threads.{json,md}`. Run it on a quiet machine (the report
records the load average).

    .venv/bin/python benchmarks/threads.py [--model saved_models/spa_eng] \\
        [--bundle runs/profile-spa_eng] [--sentences 100] [--repeats 2]
"""

import argparse
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_speed import spread, test_sources, time_decoding  # noqa: E402

from keras_s2s import runtime  # noqa: E402
from keras_s2s.runtime.threads import default_threads, usable_cores  # noqa: E402
from keras_s2s.trained_model import read_meta  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "threads"
BACKENDS = ("tflite", "onnx")
BATCHES = (1, 64)
OWN, OURS = "runtime default", "keras_s2s default"


def thread_settings(backend, cores):
    """`(label, load options)` pairs: each thread count up to `cores`, the runtime's
    default, keras_s2s's; for ONNX Runtime, all cores with spinning threads too."""
    settings = [(str(n), {"num_threads": n}) for n in range(1, cores + 1)]
    if backend == "onnx" and cores > 1:
        settings.append((f"{cores}, spinning", {"num_threads": cores, "spinning": True}))
    return settings + [(OWN, {"num_threads": 0}), (OURS, {})]


def measure(bundle, sources, cores, repeats):
    """Rows of one affinity setting: the process may use the first `cores` cores."""
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, sorted(everything)[:cores])
    try:
        rows = []
        for backend in BACKENDS:
            for label, options in thread_settings(backend, cores):
                translator = runtime.load(bundle, backend=backend, **options)
                resolved = translator.backend.num_threads
                for batch in BATCHES:
                    batch_sources = sources[:100] if batch == 1 else sources
                    timed = time_decoding(translator, batch_sources, batch, 1, False, repeats)
                    rows.append({
                        "cores": cores, "backend": backend, "threads": label,
                        "num_threads": resolved, "batch": batch,
                        "ms_per_sentence": round(timed["ms_per_sentence"], 3),
                        "sentences_per_second": round(timed["sentences"] / timed["seconds"], 1),
                    })
                    print(f"   cores {cores} {backend:6} threads {label:17} batch {batch:2}: "
                          f"{rows[-1]['ms_per_sentence']:8.3f} ms/sentence, "
                          f"{rows[-1]['sentences_per_second']:8.1f} sentences/s", flush=True)
                del translator
        return rows
    finally:
        os.sched_setaffinity(0, everything)


def markdown(result):
    lines = [
        "# Threads for the work", "",
        f"Bundle `{result['bundle']}` (model `{result['model']}`); greedy decoding step by "
        f"step, text in and text out through `keras_s2s.runtime`, {result['sentences']} "
        f"spa-eng test sentences at batch 64 and the first 100 of them at batch 1, "
        f"{result['repeats']} timed passes after a warm-up. Machine: {result['machine']}; "
        f"{result['usable_cores']} usable cores; load average {result['load_before']} at the "
        f"start, {result['load_after']} at the end. keras_s2s's default: "
        f"`min(usable cores, 4)` threads. Produced by `benchmarks/threads.py`.", "",
    ]
    for cores in sorted({r["cores"] for r in result["rows"]}, reverse=True):
        lines += [f"## The process may use {cores} core{'s' if cores > 1 else ''}", "",
                  "| runtime | threads | batch 1: ms/sentence | batch 64: sentences/s |",
                  "|---|---|---:|---:|"]
        for backend in BACKENDS:
            rows = [r for r in result["rows"] if r["cores"] == cores and r["backend"] == backend]
            for label in dict.fromkeys(r["threads"] for r in rows):
                one = next(r for r in rows if r["threads"] == label and r["batch"] == 1)
                many = next(r for r in rows if r["threads"] == label and r["batch"] == 64)
                shown = f"{label} ({one['num_threads']})" if label == OURS else label
                lines.append(f"| {backend} | {shown} | {one['ms_per_sentence']:.3f} | "
                             f"{many['sentences_per_second']:,.0f} |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "saved_models", "spa_eng"))
    parser.add_argument("--bundle", default=os.path.join(ROOT, "runs", "profile-spa_eng"),
                        help="a float32 bundle of the model (benchmarks/profile_step.py "
                             "writes one)")
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--name", default=NAME)
    args = parser.parse_args()
    if not hasattr(os, "sched_setaffinity"):
        sys.exit("This benchmark pins the process to cores with os.sched_setaffinity "
                 "(Linux only).")
    if not os.path.isdir(args.bundle):
        sys.exit(f"{args.bundle} is not a bundle: run benchmarks/profile_step.py first, or "
                 f"give --bundle (keras-s2s export {args.model} --out DIR --quantize none).")
    meta = read_meta(args.model)
    sources = spread(test_sources(meta, args.model), args.sentences)
    load_before = round(os.getloadavg()[0], 2)
    rows = []
    for cores in sorted({usable_cores(), 1}, reverse=True):
        print(f"== {cores} usable core(s)", flush=True)
        rows += measure(args.bundle, sources, cores, args.repeats)
    result = {
        "model": os.path.relpath(args.model, ROOT), "bundle": os.path.relpath(args.bundle, ROOT),
        "sentences": len(sources), "repeats": args.repeats,
        "usable_cores": usable_cores(), "default_threads": default_threads(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "load_before": load_before, "load_after": round(os.getloadavg()[0], 2),
        "rows": rows,
    }
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), markdown(result) + "\n")
    print(f"Wrote {os.path.join(RESULTS, args.name)}.md")


if __name__ == "__main__":
    main()
