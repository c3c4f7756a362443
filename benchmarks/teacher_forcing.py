"""Teacher forcing versus scheduled sampling (exposure bias), measured.

Trains the same model with several `teacher_forcing` ratios (1.0: always the gold
previous token; below 1: sometimes the decoder's own prediction), the same data, seed
and budget, and scores greedy decoding on the held-out split. Writes
`benchmarks/results/teacher_forcing.json` and `.md`.

    .venv/bin/python benchmarks/teacher_forcing.py [--task dates] [--train-size 3000]
"""

import argparse
import os
import platform
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.evaluation import evaluate  # noqa: E402
from keras_s2s.tasks import task_splits  # noqa: E402
from keras_s2s.training import train_task  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="dates")
    parser.add_argument("--ratios", type=float, nargs="+", default=[1.0, 0.9, 0.75, 0.5])
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    config = {"units": 64, "embedding_dim": 32, "attention": "general"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ratio in args.ratios:
            for seed in args.seeds:
                trained = train_task(
                    args.task, os.path.join(tmp, f"{ratio}-{seed}"),
                    {**config, "teacher_forcing": ratio}, train_size=args.train_size,
                    epochs=args.epochs, seed=seed, verbose=0, tensorboard=False,
                    log=lambda message: None,
                )
                result = evaluate(trained, task_splits(trained.meta["data"])[2])
                history = trained.meta["training"]
                rows.append({"teacher_forcing": ratio, "seed": seed,
                             "exact_match": result["exact_match"], "chrf": result["chrf"],
                             "train_seconds": history["train_seconds_this_run"]})
                print(rows[-1], flush=True)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "task": args.task, "train_size": args.train_size, "epochs": args.epochs,
        "model": config, "results": rows,
    }
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, "teacher_forcing.json"), report)
    lines = ["| teacher forcing | seed | exact match | chrF | train s |", "|---|---|---|---|---|"]
    lines += [f"| {r['teacher_forcing']} | {r['seed']} | {r['exact_match']:.4f} | "
              f"{r['chrf']:.2f} | {r['train_seconds']:.0f} |" for r in rows]
    write_text(os.path.join(RESULTS, "teacher_forcing.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
