"""Before and after: the same bundle decoded by two checkouts of keras_s2s.

A change to the decoding code must keep every token and should be faster. This runs
each checkout's `keras_s2s.runtime` (in a subprocess, so each imports its own package)
on the same bundle, sentences, batch sizes and threads, and reports the speed of each
and whether the outputs are identical:

    git worktree add /tmp/before COMMIT
    .venv/bin/python benchmarks/compare_checkouts.py --before /tmp/before \\
        [--bundle runs/spa_eng-full] [--model saved_models/spa_eng] [--threads 1]

Each setting is timed over its sentences after a short warm-up (text in, text out), in
`--rounds` rounds that alternate the checkouts (before, after, before, ...), so that a
slow spell of a shared machine hits both; the report gives the median round. Writes `benchmarks/results/compare_checkouts.{json,md}`; run it on a quiet machine
(the report records the load average).

`--whole-loop` times the bundles' whole-loop graphs (one call per batch) instead of
the step-by-step loop. A change to the export (a faster graph for the same model) is
measured the same way with `--before-bundle`: the before checkout decodes that bundle, the after checkout
`--bundle` (export both from the same Keras model, one with each checkout). The report
then counts the sentences whose output differs instead of failing on them, since
another graph may round differently.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
NAME = "compare_checkouts"
BACKENDS = ("tflite", "onnx")
# (name, batch size, beam size, sentences): batch 1 on the first 100 sentences.
SETTINGS = (("batch 1, greedy", 1, 1, 100), ("batch 1, beam 4", 1, 4, 100),
            ("batch 64, greedy", 64, 1, None), ("batch 64, beam 4", 64, 4, None))

# Run by each checkout's Python process: decode, time, print one JSON line.
WORKER = """
import json, os, sys, time
checkout, bundle, sources, threads = sys.argv[1:5]
sys.path.insert(0, checkout)
import keras_s2s
from keras_s2s import runtime
assert os.path.dirname(keras_s2s.__file__) == os.path.join(checkout, "keras_s2s")
sources = json.load(open(sources))
settings = json.loads(sys.argv[5])
whole_loop = sys.argv[7] == "whole_loop"
result = {}
for backend in json.loads(sys.argv[6]):
    translator = runtime.load(bundle, backend=backend, num_threads=int(threads))
    for name, batch, beam, count in settings:
        texts = sources[:count] if count else sources
        options = {"beam_size": beam, "batch_size": batch, "whole_loop": whole_loop}
        translator.translate(texts[:8], **options)
        began = time.perf_counter()
        outputs = translator.translate(texts, **options)
        seconds = time.perf_counter() - began
        result[backend + "|" + name] = {"seconds": seconds, "sentences": len(texts),
                                        "outputs": outputs}
print(json.dumps(result))
"""


def run_checkout(checkout, bundle, sources_file, threads, whole_loop=False):
    command = [sys.executable, "-c", WORKER, checkout, bundle, sources_file, str(threads),
               json.dumps(SETTINGS), json.dumps(BACKENDS), "whole_loop" if whole_loop else "step"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=checkout)
    if done.returncode:
        sys.exit(f"{checkout} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(result):
    lines = [
        "# Before and after: the same bundle on two checkouts", "",
        f"Bundle `{result['bundle']}`{bundles_text(result)}; {result['sentences']} spa-eng test sentences at batch 64, "
        f"the first 100 at batch 1; text in and text out through `keras_s2s.runtime`, "
        f"{result.get('decoding', 'step by step')}, "
        f"{result['threads']} thread(s); the median of {result['rounds']} rounds that "
        f"alternate the checkouts, each after a short warm-up. Before: "
        f"`{result['before']}` (commit {result['before_commit']}); after: commit "
        f"{result['after_commit']}. Machine: {result['machine']}; load average "
        f"{result['load_before']} at the start, {result['load_after']} at the end. Produced "
        "by `benchmarks/compare_checkouts.py`.", "",
        "| runtime | setting | before (sentences/s) | after (sentences/s) | speed-up | "
        "outputs |", "|---|---|---:|---:|---:|---|",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['backend']} | {row['setting']} | {row['before']:,.1f} | "
                     f"{row['after']:,.1f} | {row['speedup']:.2f}x | "
                     f"{outputs_text(row)} |")
    return "\n".join(lines)


def outputs_text(row):
    """`identical`, or how many sentences' outputs differ."""
    if row["identical"]:
        return "identical"
    return f"{row['differing']} differ"


def bundles_text(result):
    before = result.get("before_bundle", result["bundle"])
    return "" if before == result["bundle"] else f" (before: `{before}`)"


def commit_of(checkout):
    """The checkout's commit, marked when its tracked files have changes on top."""
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=checkout).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no")
                     else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="another checkout of keras_s2s")
    parser.add_argument("--bundle", default=os.path.join(ROOT, "runs", "spa_eng-full"))
    parser.add_argument("--before-bundle", default=None,
                        help="the bundle the before checkout decodes (default: --bundle)")
    parser.add_argument("--model", default=os.path.join(ROOT, "saved_models", "spa_eng"),
                        help="the model whose recorded test split gives the sentences")
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--whole-loop", action="store_true",
                        help="decode with the bundles' whole-loop graphs (greedy and beam "
                             "in one call per batch) instead of step by step")
    parser.add_argument("--name", default=NAME)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from decode_speed import spread, test_sources
    from keras_s2s.trained_model import read_meta
    from keras_s2s.utils.atomic import write_json, write_text

    before = os.path.abspath(args.before)
    if not os.path.isdir(os.path.join(before, "keras_s2s")):
        sys.exit(f"{before} is not a checkout of keras_s2s (no keras_s2s/ in it): make one "
                 "with `git worktree add DIR COMMIT`.")
    sources = spread(test_sources(read_meta(args.model), args.model), args.sentences)
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(sources, f)
    runs = {"before": [], "after": []}
    before_bundle = args.before_bundle or args.bundle
    try:
        for _ in range(args.rounds):
            for side, checkout, bundle in (("before", before, before_bundle),
                                           ("after", ROOT, args.bundle)):
                runs[side].append(
                    run_checkout(checkout, os.path.abspath(bundle), f.name, args.threads,
                                 args.whole_loop))
    finally:
        os.unlink(f.name)

    def rate(side, key):
        return statistics.median(r[key]["sentences"] / r[key]["seconds"] for r in runs[side])

    old = runs["before"][0]
    rows = []
    for key in old:
        backend, setting = key.split("|")
        rate_before, rate_after = rate("before", key), rate("after", key)
        differing = max(sum(a != b for a, b in zip(r[key]["outputs"], old[key]["outputs"]))
                        for r in runs["before"] + runs["after"])
        rows.append({"backend": backend, "setting": setting,
                     "before": round(rate_before, 1), "after": round(rate_after, 1),
                     "speedup": round(rate_after / rate_before, 2),
                     "identical": differing == 0, "differing": differing})
        print(f"{backend:6} {setting:17} {rate_before:8.1f} -> {rate_after:8.1f} sentences/s "
              f"({rows[-1]['speedup']:.2f}x), outputs {outputs_text(rows[-1])}", flush=True)
    result = {
        "bundle": os.path.relpath(os.path.abspath(args.bundle), ROOT), "before": args.before,
        "before_bundle": os.path.relpath(os.path.abspath(before_bundle), ROOT),
        "before_commit": commit_of(before), "after_commit": commit_of(ROOT),
        "sentences": len(sources), "threads": args.threads, "rounds": args.rounds,
        "decoding": "whole loop" if args.whole_loop else "step by step",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "load_before": load_before, "load_after": round(os.getloadavg()[0], 2), "rows": rows,
    }
    write_json(os.path.join(RESULTS, f"{args.name}.json"), result)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), markdown(result) + "\n")
    print(f"Wrote {os.path.join(RESULTS, args.name)}.md")
    if args.before_bundle is None and not all(row["identical"] for row in rows):
        sys.exit("The outputs differ between the checkouts.")


if __name__ == "__main__":
    main()
