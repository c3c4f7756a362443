"""How often a `keras-s2s` command dies of a native crash, per checkout.

A native crash (a signal: SIGSEGV, SIGABRT from glibc's heap checks, ...) in
TensorFlow's kernels is rare per run and depends on timing, so one run proves nothing:
this runs the same command many times, alternating the checkouts, and counts the runs
each one lost to a signal. Its default command is the scheduled-sampling training of
`tests/training/test_determinism.py`, which found that TensorFlow 2.21's oneDNN batch
matmul corrupts the heap when training differentiates through one attention step's
batched products (see `keras_s2s.layers.Attention.call`):

    git worktree add /tmp/before COMMIT
    .venv/bin/python benchmarks/native_crashes.py --before /tmp/before --runs 40

Writes `benchmarks/results/native_crashes.{json,md}` with each checkout's count, the
signals, and the last lines of each crashed run's stderr (the CLI prints every thread's
Python stack on a fatal signal).
"""

import argparse
import collections
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile

from compare_checkouts import commit_of  # (benchmarks/ is on sys.path)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "native_crashes"
TRAIN = ["train", "--task", "reverse", "--train-size", "800", "--dev-size", "50",
         "--test-size", "100", "--units", "8", "--embedding-dim", "8", "--epochs", "2",
         "--dropout", "0.2", "--teacher-forcing", "0.8", "--quiet", "--no-tensorboard",
         "--seed", "7"]


def run_once(checkout, work):
    """One run of the command with `checkout`'s package: `(returncode, stderr)`."""
    out = os.path.join(work, "model")
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": checkout}
    result = subprocess.run([sys.executable, "-m", "keras_s2s.cli", *TRAIN, "--out", out],
                            cwd=checkout, env=env, capture_output=True, text=True,
                            check=False)
    return result.returncode, result.stderr


def signal_name(returncode):
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the other checkout's directory")
    parser.add_argument("--runs", type=int, default=40, help="runs per checkout")
    args = parser.parse_args(argv)
    checkouts = {"before": os.path.abspath(args.before), "after": ROOT}
    counts = {name: collections.Counter() for name in checkouts}
    crashes = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory() as work:
        for index in range(args.runs):
            for name, checkout in checkouts.items():
                returncode, stderr = run_once(checkout, work)
                if returncode == 0:
                    counts[name]["ok"] += 1
                elif returncode < 0:
                    counts[name][signal_name(returncode)] += 1
                    crashes[name].append(stderr[-2500:])
                else:  # a Python error is a bug of the command, not a crash: stop
                    raise SystemExit(f"{name} run {index + 1} failed:\n{stderr[-3000:]}")
            print(f"run {index + 1}/{args.runs}: "
                  + ", ".join(f"{name} {dict(counts[name])}" for name in checkouts),
                  flush=True)
    report = {
        "command": "keras-s2s " + " ".join(TRAIN),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "load_average": os.getloadavg(),
        "checkouts": {name: commit_of(path) for name, path in checkouts.items()},
        "runs": args.runs,
        "outcomes": {name: dict(counts[name]) for name in checkouts},
        "crashed_stderr_tails": crashes,
    }
    os.makedirs(RESULTS, exist_ok=True)
    for extension, text in (("json", json.dumps(report, indent=1) + "\n"),
                            ("md", markdown(report))):
        path = os.path.join(RESULTS, f"{NAME}.{extension}")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    print(markdown(report))


def markdown(report):
    lines = [f"# Native crashes of `{report['command']}`", "",
             f"{report['runs']} runs per checkout, alternating; {report['machine']}; load "
             f"average at the end {', '.join(f'{x:.2f}' for x in report['load_average'])}.",
             "", "| checkout | commit | runs ended normally | killed by a signal |",
             "|---|---|---|---|"]
    for name, outcomes in report["outcomes"].items():
        signals = ", ".join(f"{count} {sig}" for sig, count in outcomes.items() if sig != "ok")
        lines.append(f"| {name} | {report['checkouts'][name]} | {outcomes.get('ok', 0)} | "
                     f"{signals or 'none'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
