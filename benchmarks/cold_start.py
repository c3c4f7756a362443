"""Cold start (process start to first translation) and peak memory of three ways to serve a bundle.

Each way translates one sentence in a fresh Python process (`sys.executable -c PROGRAM`):

- `runtime/tflite`: `import keras_s2s.runtime`, `runtime.load(bundle, backend="tflite")`
  (which verifies the sha256 of every file of the bundle), `translate([sentence])`;
- `runtime/onnx`: the same with `backend="onnx"`;
- `tensorflow`: `import tensorflow`, `import tensorflow_text`,
  `tf.saved_model.load(bundle/saved_model)`, its `translate` signature on the sentence.

The cold start is timed by this (parent) process from just before it starts the child to
the moment the child's translation line arrives on the pipe: interpreter start, imports,
loading and the first translation. The child also times its own phases (imports, load,
translate; the rest is interpreter start; the runtime imports LiteRT or ONNX Runtime
when it creates the backend, so their import counts as load) and reports its peak
resident memory (`VmHWM` of `/proc/self/status`, read after the translation; Linux
only). Every way runs once
untimed first (so every file is in the OS page cache), then `--runs` times, the ways
interleaved; the medians are reported. Writes `benchmarks/results/NAME.json` and `.md`
(`--name`, default `cold_start`).

    .venv/bin/python benchmarks/cold_start.py [--bundle export/dates_bahdanau] [--runs 5] \\
        [--sentence "Nov. 23rd, 2026"] [--name cold_start]
    # the tutorial-size model that benchmarks/translation_bleu.py trains, once exported:
    .venv/bin/python benchmarks/cold_start.py --bundle runs/spa-eng-bleu-bundle \\
        --sentence "¿Dónde está la estación?" --name cold_start_spa_eng
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

from keras_s2s.runtime.bundle import Bundle, BundleError
from keras_s2s.utils.atomic import write_json, write_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "cold_start"
TARGET_SECONDS = 0.5
TARGET_MIB = 120

# Every child program gets the bundle path and the sentence as argv[1:3], sets `imported`,
# `loaded` and `translated` (perf_counter readings) and `translation`; the epilogue
# prints the translation, then one JSON line with its phases and peak memory.
_PROLOGUE = "import time\nstarted = time.perf_counter()\nimport sys\n"
_EPILOGUE = """
print(translation, flush=True)
import json
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"import": imported - started, "load": loaded - imported,
                  "translate": translated - loaded, "peak_kib": peak_kib}), flush=True)
"""
_RUNTIME = """
import keras_s2s.runtime as runtime
imported = time.perf_counter()
translator = runtime.load(sys.argv[1], backend="{backend}")
loaded = time.perf_counter()
translation = translator.translate([sys.argv[2]])[0]
translated = time.perf_counter()
"""
_TENSORFLOW = """
import os
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the ops of the translate signature)
imported = time.perf_counter()
translate = tf.saved_model.load(os.path.join(sys.argv[1], "saved_model")).signatures["translate"]
loaded = time.perf_counter()
translation = translate(texts=tf.constant([sys.argv[2]]))["translations"][0].numpy().decode("utf-8")
translated = time.perf_counter()
"""
WAYS = {
    "runtime/tflite": _PROLOGUE + _RUNTIME.format(backend="tflite") + _EPILOGUE,
    "runtime/onnx": _PROLOGUE + _RUNTIME.format(backend="onnx") + _EPILOGUE,
    "tensorflow": _PROLOGUE + _TENSORFLOW + _EPILOGUE,
}


def run_once(program, bundle, sentence):
    """Starts a child; returns its translation, the seconds until it printed it, and the
    phases and peak memory it reported."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    # stderr goes to a file: a pipe nobody reads could fill up and stall the child.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", program, bundle, sentence], cwd=ROOT,
                                 env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        translation = child.stdout.readline()
        seconds = time.perf_counter() - started
        rest, _ = child.communicate()
        if child.returncode != 0 or not rest.strip():
            stderr.seek(0)
            raise RuntimeError(f"The child process failed (exit code {child.returncode}):\n"
                               f"{stderr.read()[-3000:]}")
    report = json.loads(rest.strip().splitlines()[-1])
    return translation.rstrip("\n"), seconds, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=NAME, help="results file name")
    parser.add_argument("--bundle", default=os.path.join(ROOT, "export", "dates_bahdanau"),
                        help="an exported bundle with tflite, onnx and savedmodel formats")
    parser.add_argument("--runs", type=int, default=5, help="timed processes per way")
    parser.add_argument("--sentence", default="Nov. 23rd, 2026", help="the sentence translated")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1.")
    if not os.path.exists("/proc/self/status"):
        sys.exit("The peak memory is read from /proc/self/status: run this on Linux.")
    try:
        bundle = Bundle(args.bundle)
    except BundleError as e:
        sys.exit(f"{e} (the default bundle is made by `bash scripts/main.sh`).")
    missing = [f for f in ("tflite", "onnx", "savedmodel") if not bundle.has_format(f)]
    if missing:
        sys.exit(f"{args.bundle} has no {', '.join(missing)} export; export it with every format.")

    load_at_start = os.getloadavg()[0]
    runs = {way: [] for way in WAYS}
    translations = {}
    for way, program in WAYS.items():
        print(f"== warm-up: {way}")
        translations[way] = run_once(program, bundle.path, args.sentence)[0]
    for i in range(args.runs):
        for way, program in WAYS.items():
            _, seconds, report = run_once(program, bundle.path, args.sentence)
            report["seconds"] = seconds
            runs[way].append(report)
            print(f"   run {i + 1} {way:15s} {seconds:6.3f} s  {report['peak_kib'] / 1024:6.1f} MiB")

    summary = {}
    for way, reports in runs.items():
        median = {key: statistics.median(r[key] for r in reports)
                  for key in ("seconds", "import", "load", "translate", "peak_kib")}
        summary[way] = {
            "seconds": round(median["seconds"], 3),
            "interpreter_start": round(statistics.median(
                r["seconds"] - r["import"] - r["load"] - r["translate"] for r in reports), 3),
            "import": round(median["import"], 3), "load": round(median["load"], 3),
            "translate": round(median["translate"], 3),
            "peak_mib": round(median["peak_kib"] / 1024, 1),
            "runs_seconds": [round(r["seconds"], 3) for r in reports],
            "translation": translations[way],
        }
    targets = []
    for way in ("runtime/tflite", "runtime/onnx"):
        s = summary[way]
        targets.append({"target": f"cold start <= {TARGET_SECONDS} s", "way": way,
                        "measured": f"{s['seconds']:.3f} s", "met": s["seconds"] <= TARGET_SECONDS,
                        "by": f"{abs(TARGET_SECONDS - s['seconds']):.3f} s "
                              f"{'under' if s['seconds'] <= TARGET_SECONDS else 'over'}"})
        targets.append({"target": f"peak memory <= {TARGET_MIB} MiB", "way": way,
                        "measured": f"{s['peak_mib']:.1f} MiB", "met": s["peak_mib"] <= TARGET_MIB,
                        "by": f"{abs(TARGET_MIB - s['peak_mib']):.1f} MiB "
                              f"{'under' if s['peak_mib'] <= TARGET_MIB else 'over'}"})

    result = {
        "bundle": os.path.relpath(bundle.path, ROOT), "sentence": args.sentence, "runs": args.runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "load_average": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
        "ways": summary, "targets": targets,
    }
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    lines = [
        f"Bundle: `{result['bundle']}`; one sentence (\"{args.sentence}\") translated in a fresh "
        f"process; medians of {args.runs} runs after one untimed run each (warm OS file cache); "
        f"{result['machine']}; 1-minute load average {result['load_average']['start']} at the "
        f"start, {result['load_average']['end']} at the end.",
        "",
        "Cold start is measured by the parent, from just before starting the process to the "
        "translation arriving; the phases are the child's own clock (interpreter start is the "
        "rest; the runtime's load includes importing LiteRT or ONNX Runtime, which its backends "
        "import when created). Peak memory is the child's VmHWM after the translation.",
        "",
        "| way | cold start (s) | interpreter start | imports | load | first translation "
        "| peak memory (MiB) | translation |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for way, s in summary.items():
        lines.append(f"| {way} | {s['seconds']:.3f} | {s['interpreter_start']:.3f} | {s['import']:.3f} | "
                     f"{s['load']:.3f} | {s['translate']:.3f} | {s['peak_mib']:.1f} | {s['translation']} |")
    lines += ["", "### Targets (the runtime)", "", "| target | way | measured | met | by how much |",
              "|---|---|---:|---|---|"]
    for t in targets:
        lines.append(f"| {t['target']} | {t['way']} | {t['measured']} | "
                     f"{'met' if t['met'] else 'missed'} | {t['by']} |")
    text = "\n".join(lines) + "\n"
    write_text(os.path.join(RESULTS, f"{args.name}.md"), text)
    print(text)


if __name__ == "__main__":
    main()
