"""Fuzzing the runtime: seeded junk text through every backend of a bundle.

Generates `--inputs` seeded junk strings with `keras_s2s.fuzz.junk_texts` (empty,
whitespace only, random Unicode, NUL and control characters, dates with junk around
them, plain dates, and strings of 10k-1M characters, one per 2500 inputs). Each backend
translates them greedily, step by step (the Python loop over `decoder_step`) and with
the whole-loop graph (`whole_loop=True`), in chunks of `--chunk` inputs; a chunk that
raises is translated again one input at a time, to name the inputs that fail.

Recorded per backend and mode: inputs that raised (the first few with their input),
outputs that are not a `str`, blank inputs (no source token) whose output is not empty,
the longest output, wall time; and how many outputs agree exactly between the backends
and between the two modes. Over-long sources are cut to the bundle's
`max_source_length` with a warning, which is ignored here. Writes
`benchmarks/results/NAME.json` and `.md` (`--name`, default `fuzz_runtime`).

    .venv/bin/python benchmarks/fuzz_runtime.py [--bundle export/dates_bahdanau] \\
        [--inputs 10000] [--backends tflite,onnx] [--seed 0]
"""

import argparse
import collections
import os
import platform
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s import runtime  # noqa: E402
from keras_s2s.fuzz import junk_texts  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MODES = {"step": False, "whole_loop": True}
KEPT_ERRORS = 5  # failing inputs recorded per backend and mode
def _translate(translator, texts, whole_loop, batch_size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # over-long sources are cut with a warning
        return translator.translate(texts, batch_size=batch_size, whole_loop=whole_loop)


def run(translator, texts, whole_loop, chunk, batch_size):
    """Translates every text; `(outputs, errors, seconds)`, `None` for a failed input."""
    outputs, errors = [], []
    start = time.perf_counter()
    for first in range(0, len(texts), chunk):
        part = texts[first:first + chunk]
        try:
            outputs += _translate(translator, part, whole_loop, batch_size)
            continue
        except Exception:  # noqa: BLE001 (find which inputs fail, one at a time)
            pass
        for offset, text in enumerate(part):
            try:
                outputs += _translate(translator, [text], whole_loop, batch_size)
            except Exception as e:  # noqa: BLE001
                outputs.append(None)
                errors.append({"index": first + offset, "input": repr(text)[:300],
                               "error": f"{type(e).__name__}: {e}"[:500]})
    return outputs, errors, time.perf_counter() - start


def _agreement(a, b):
    return sum(x is not None and x == y for x, y in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="export/dates_bahdanau", help="bundle directory")
    parser.add_argument("--inputs", type=int, default=10000, help="random strings")
    parser.add_argument("--backends", default="tflite,onnx",
                        help="comma-separated: tflite, onnx, keras, savedmodel")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator")
    parser.add_argument("--chunk", type=int, default=256, help="inputs per translate() call")
    parser.add_argument("--batch-size", type=int, default=64, help="translate(batch_size=...)")
    parser.add_argument("--name", default="fuzz_runtime", help="results file name")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    started = time.perf_counter()
    texts, kinds = junk_texts(args.inputs, args.seed)
    generation = time.perf_counter() - started
    print(f"{len(texts)} inputs generated in {generation:.1f} s "
          f"(longest {max(map(len, texts))} characters)")
    result = {
        "bundle": args.bundle, "seed": args.seed, "inputs": len(texts),
        "kinds": dict(collections.Counter(kinds)),
        "longest_input": max(map(len, texts)),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "runs": {}, "agreement": {},
    }
    outputs = {}
    blank = None
    for backend in backends:
        translator = runtime.load(args.bundle, backend=backend)
        if blank is None:  # texts without any source token translate to ""
            blank = [not translator.source_tokenizer.tokenize(text) for text in texts]
            result["blank_inputs"] = sum(blank)
        for mode, whole_loop in MODES.items():
            found, errors, seconds = run(translator, texts, whole_loop, args.chunk,
                                         args.batch_size)
            outputs[backend, mode] = found
            strings = [out for out in found if isinstance(out, str)]
            record = {
                "exceptions": len(errors),
                "first_exceptions": errors[:KEPT_ERRORS],
                "not_str": sum(out is not None and not isinstance(out, str) for out in found),
                "blank_input_nonempty_output": sum(
                    b and out != "" for b, out in zip(blank, found) if out is not None),
                "max_output_length": max(map(len, strings), default=0),
                "seconds": round(seconds, 2),
            }
            result["runs"][f"{backend}/{mode}"] = record
            print(f"{backend:10s} {mode:10s} {seconds:8.1f} s, {len(errors)} exceptions, "
                  f"{record['not_str']} not str, longest output {record['max_output_length']}")
    for mode in MODES:
        runs = [outputs[b, mode] for b in backends]
        result["agreement"][f"all backends/{mode}"] = sum(
            None not in row and len(set(row)) == 1 for row in zip(*runs))
        for i, a in enumerate(backends):
            for b in backends[i + 1:]:
                result["agreement"][f"{a}={b}/{mode}"] = _agreement(outputs[a, mode],
                                                                   outputs[b, mode])
    for backend in backends:
        result["agreement"][f"{backend}/step=whole_loop"] = _agreement(
            outputs[backend, "step"], outputs[backend, "whole_loop"])
    result["seconds"] = round(time.perf_counter() - started, 1)

    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    kinds_text = ", ".join(f"{count} {kind}" for kind, count in sorted(result["kinds"].items()))
    lines = [
        f"Bundle: `{args.bundle}`; {len(texts)} inputs (seed {args.seed}: {kinds_text}; "
        f"{result['blank_inputs']} without any source token; the longest "
        f"{result['longest_input']} characters); {result['machine']}.",
        "",
        "| backend | mode | exceptions | outputs not str | blank input, output not empty "
        "| longest output | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, record in result["runs"].items():
        backend, mode = name.split("/")
        lines.append(f"| {backend} | {mode} | {record['exceptions']} | {record['not_str']} | "
                     f"{record['blank_input_nonempty_output']} | {record['max_output_length']} | "
                     f"{record['seconds']:.1f} |")
    lines += ["", "| outputs identical | of inputs |", "|---|---:|"]
    lines += [f"| {name} | {count} / {len(texts)} |" for name, count in result["agreement"].items()]
    failures = [(name, e) for name, r in result["runs"].items() for e in r["first_exceptions"]]
    if failures:
        lines += ["", "First exceptions:", ""]
        lines += [f"- {name}, input #{e['index']} `{e['input'][:80]}`: {e['error'][:200]}"
                  for name, e in failures]
    write_text(os.path.join(RESULTS, f"{args.name}.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
