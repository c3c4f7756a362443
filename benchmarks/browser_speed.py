"""Decoding speed in a browser (ONNX Runtime Web, WebAssembly) beside the Python runtime.

The same zoo bundle and the same held-out sources, text in and text out: in headless
Chromium through `web/src` (`Translator.translate`, `web/test/bench.js`) at 1 and 2
WebAssembly threads, and in Python through `keras_s2s.runtime` on ONNX Runtime (1 and 2
intra-op threads) and LiteRT (its default). Settings: batch 1 and batch 64; greedy and
beam 4; step by step (the decoder loop in JavaScript or Python over the `decoder_step`
graph) and whole loop (one call of the bundle's `translate` or `beam` graph per batch;
LiteRT runs those per sentence). Batch 1 reports the median milliseconds per sentence,
batch 64 the sentences per second over all sources; the same pass runs once untimed
first (warm-up), then `--repeats` timed passes, of which the fastest counts.

Run it on a quiet machine (nothing else running); the load average is recorded.
Writes `benchmarks/results/browser_speed.json` and `.md`.

    .venv/bin/python benchmarks/browser_speed.py [--model dates_bahdanau] \\
        [--sentences 100] [--batch-sentences 512] [--repeats 3]
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

from keras_s2s import runtime  # noqa: E402
from keras_s2s.tasks import task_splits  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402
from keras_s2s.zoo.trained import bundle_dir, read_card  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
RUNNER = os.path.join(ROOT, "web", "test", "run_browser.mjs")
NAME = "browser_speed"
THREADS = (1, 2)
# (setting, batch size, beam size, whole loop): the names web/test/bench.js uses.
SETTINGS = (
    ("batch1/greedy/step", 1, 1, False), ("batch1/greedy/whole_loop", 1, 1, True),
    ("batch1/beam4/step", 1, 4, False), ("batch1/beam4/whole_loop", 1, 4, True),
    ("batch64/greedy/step", 64, 1, False), ("batch64/greedy/whole_loop", 64, 1, True),
    ("batch64/beam4/step", 64, 4, False), ("batch64/beam4/whole_loop", 64, 4, True),
)


def spread(items, count):
    """`count` items spread evenly over `items`, in order."""
    step = max(1, len(items) // count)
    return items[::step][:count]


def time_python(translator, sources, batch_size, beam_size, whole_loop, repeats):
    """The fastest of `repeats` timed passes, after an untimed one (as web/test/bench.js)."""
    options = {"batch_size": batch_size, "beam_size": beam_size, "whole_loop": whole_loop}
    for start in range(0, len(sources), batch_size):  # warm-up: the same pass, untimed
        translator.translate(sources[start:start + batch_size], **options)
    passes = [_timed_pass(translator, sources, batch_size, options) for _ in range(repeats)]
    return max(passes, key=lambda found: found["sentencesPerSecond"])


def _timed_pass(translator, sources, batch_size, options):
    per_sentence = []
    started = time.perf_counter()
    for start in range(0, len(sources), batch_size):
        batch = sources[start:start + batch_size]
        t0 = time.perf_counter()
        translator.translate(batch, **options)
        per_sentence.append((time.perf_counter() - t0) / len(batch))
    seconds = time.perf_counter() - started
    return {"msPerSentence": statistics.median(per_sentence) * 1000,
            "sentencesPerSecond": len(sources) / seconds, "sentences": len(sources)}


def run_browser(bundle_url, batch1, batch64, repeats):
    with tempfile.TemporaryDirectory() as fixtures:
        with open(os.path.join(fixtures, "plan.json"), "w", encoding="utf-8") as f:
            json.dump({"bench": {"bundle": bundle_url, "batch1": batch1, "batch64": batch64,
                                 "threads": list(THREADS), "repeats": repeats}}, f)
        done = subprocess.run(["node", RUNNER, "bench", "--fixtures", fixtures, "--timeout", "1800"],
                              capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"The browser run failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    for run in report["runs"]:
        if "fatal" in run:
            sys.exit(f"The bench page failed: {run['fatal']}")
    return report


def markdown(result):
    decoders = list(result["decoders"])
    lines = [
        f"# Decoding speed in the browser: `{result['model']}`",
        "",
        f"Bundle `export/{result['model']}` (ONNX graphs, float32). Sources: {result['sentences']} "
        f"(batch 1) and {result['batch_sentences']} (batch 64) held-out sentences spread over "
        f"the test split. Text in, text out (tokenize, encode, decode, detokenize); one untimed "
        f"pass, then the fastest of {result['repeats']} timed passes.",
        "",
        f"Machine: {result['machine']['machine']}, {result['machine']['cpus']} CPUs, "
        f"{result['machine']['system']}, Python {result['machine']['python']}; browser: headless "
        f"Chromium {result['browser']} (onnxruntime-web {result['onnxruntime_web']}, WebAssembly "
        f"SIMD); 1-minute load average {result['load_average']['start']} at the start, "
        f"{result['load_average']['end']} at the end.",
        "",
        "Decoders: `browser-wasm-tN` is `web/src` in Chromium on ONNX Runtime Web with N "
        "WebAssembly threads (the page is cross-origin isolated); `python-onnx-tN` is "
        "`keras_s2s.runtime` on ONNX Runtime with N intra-op threads; `python-tflite` is LiteRT "
        "with its default threads. `step`: the decoder loop in JavaScript or Python over the "
        "`decoder_step` graph; `whole_loop`: one call of the `translate` (greedy) or `beam` "
        "graph per batch.",
        "",
        "Batch 1: median ms per sentence (lower is better).",
        "",
        "| setting | " + " | ".join(decoders) + " |",
        "|---|" + "---:|" * len(decoders),
    ]
    settings = [name for name, *_ in SETTINGS]
    for setting in settings:
        if setting.startswith("batch1/"):
            lines.append(f"| {setting[7:]} | " + " | ".join(
                f"{result['decoders'][d][setting]['msPerSentence']:.2f}" for d in decoders) + " |")
    lines += ["", "Batch 64: sentences per second (higher is better).", "",
              "| setting | " + " | ".join(decoders) + " |", "|---|" + "---:|" * len(decoders)]
    for setting in settings:
        if setting.startswith("batch64/"):
            lines.append(f"| {setting[8:]} | " + " | ".join(
                f"{result['decoders'][d][setting]['sentencesPerSecond']:,.0f}" for d in decoders) + " |")
    lines += ["", "Rerun: `.venv/bin/python benchmarks/browser_speed.py` (needs `bash scripts/setup.sh`: "
              "web/'s npm packages and Debian's chromium).", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="dates_bahdanau")
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--batch-sentences", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    load_at_start = os.getloadavg()[0]
    card = read_card(args.model)
    test = [source for source, _ in task_splits(card["data"])[2]]
    batch1, batch64 = spread(test, args.sentences), spread(test, args.batch_sentences)
    decoders = {}
    browser = run_browser(f"/export/{args.model}/", batch1, batch64, args.repeats)
    for run in browser["runs"]:
        decoders[f"browser-wasm-t{run['environment']['numThreads']}"] = run["results"]
    python = [(f"python-onnx-t{n}", runtime.load(bundle_dir(args.model), backend="onnx", num_threads=n))
              for n in THREADS]
    python.append(("python-tflite", runtime.load(bundle_dir(args.model), backend="tflite")))
    for name, translator in python:
        decoders[name] = {setting: time_python(translator, batch1 if batch == 1 else batch64,
                                               batch, beam, whole_loop, args.repeats)
                          for setting, batch, beam, whole_loop in SETTINGS}
    with open(os.path.join(ROOT, "web", "node_modules", "onnxruntime-web", "package.json"),
              encoding="utf-8") as f:
        ort_web = json.load(f)["version"]
    result = {
        "model": args.model, "sentences": len(batch1), "batch_sentences": len(batch64),
        "repeats": args.repeats,
        "browser": browser["browserVersion"], "onnxruntime_web": ort_web,
        "machine": {"machine": platform.machine(), "cpus": os.cpu_count(),
                    "system": platform.system(), "python": platform.python_version()},
        "load_average": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "decoders": decoders,
    }
    write_json(os.path.join(RESULTS, f"{NAME}.json"), result)
    write_text(os.path.join(RESULTS, f"{NAME}.md"), markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
