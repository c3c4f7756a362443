"""Teacher forcing versus scheduled sampling (exposure bias), measured.

Trains the same model with several `teacher_forcing` ratios (1.0: always the gold
previous token; below 1: sometimes the decoder's own prediction), the same data, seed
and budget, and scores greedy decoding on the held-out split. Writes
`benchmarks/results/teacher_forcing.json` and `.md`.

    .venv/bin/python benchmarks/teacher_forcing.py [--task dates] [--train-size 3000]
    .venv/bin/python benchmarks/teacher_forcing.py --task spa-eng --train-size 20000

`--task spa-eng` trains on a seeded random sample of ../shared/data/spa-eng/train.tsv
(Spanish -> English, word tokens) and scores the first 500 test pairs.
"""

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.data.corpora import read_tsv  # noqa: E402
from keras_s2s.evaluation import evaluate  # noqa: E402
from keras_s2s.tasks import task_splits  # noqa: E402
from keras_s2s.training import train, train_task  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SPA_ENG = Path(__file__).resolve().parents[2] / "shared" / "data" / "spa-eng"


def _train_and_score(args, config, out, seed):
    quiet = {"verbose": 0, "tensorboard": False, "log": lambda message: None}
    if args.task != "spa-eng":
        trained = train_task(args.task, out, config, train_size=args.train_size,
                             epochs=args.epochs, patience=0, plateau_decay=None, seed=seed,
                             **quiet)
        return trained, evaluate(trained, task_splits(trained.meta["data"])[2])
    pairs = read_tsv(SPA_ENG / "train.tsv")
    sample = np.random.default_rng(seed).permutation(len(pairs))[: args.train_size]
    trained = train([pairs[i] for i in sample], read_tsv(SPA_ENG / "dev.tsv")[:500], out,
                    config, source_vocab_size=4000, target_vocab_size=4000,
                    epochs=args.epochs, patience=0, plateau_decay=None, seed=seed, **quiet)
    return trained, evaluate(trained, read_tsv(SPA_ENG / "test.tsv")[:500])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="dates", help="dates, reverse, copy or spa-eng")
    parser.add_argument("--ratios", type=float, nargs="+", default=[1.0, 0.9, 0.75, 0.5])
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--embedding-dim", type=int, default=32)
    args = parser.parse_args()
    config = {"units": args.units, "embedding_dim": args.embedding_dim, "attention": "general"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ratio in args.ratios:
            for seed in args.seeds:
                trained, result = _train_and_score(
                    args, {**config, "teacher_forcing": ratio},
                    os.path.join(tmp, f"{ratio}-{seed}"), seed)
                history = trained.meta["training"]
                rows.append({"teacher_forcing": ratio, "seed": seed,
                             "exact_match": result["exact_match"], "bleu": result["bleu"],
                             "chrf": result["chrf"],
                             "train_seconds": history["train_seconds_this_run"]})
                print(rows[-1], flush=True)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "task": args.task, "train_size": args.train_size, "epochs": args.epochs,
        "model": config, "results": rows,
    }
    os.makedirs(RESULTS, exist_ok=True)
    name = f"teacher_forcing_{args.task.replace('-', '_')}"
    write_json(os.path.join(RESULTS, f"{name}.json"), report)
    lines = ["| teacher forcing | seed | exact match | BLEU | chrF | train s |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['teacher_forcing']} | {r['seed']} | {r['exact_match']:.4f} | "
              f"{r['bleu']:.2f} | {r['chrf']:.2f} | {r['train_seconds']:.0f} |" for r in rows]
    write_text(os.path.join(RESULTS, f"{name}.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
