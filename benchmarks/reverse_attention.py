"""Attention versus none on the built-in reverse task, by source length.

Trains one model per attention type with the same budget and seed (bidirectional GRU
encoder of 64 units, at most `--epochs`, keeping the epoch with the best dev loss),
evaluates greedy exact match on the held-out test split, and writes
`benchmarks/results/reverse_attention.json` and `.md`.

    .venv/bin/python benchmarks/reverse_attention.py [--epochs 5]
"""

import argparse
import json
import os
import platform
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.evaluation import evaluate  # noqa: E402
from keras_s2s.tasks import get_task, task_splits  # noqa: E402
from keras_s2s.training import train_task  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--attention", nargs="+",
                        default=["none", "dot", "general", "concat", "bahdanau"])
    args = parser.parse_args()
    task = get_task("reverse", num_symbols=16, min_length=1, max_length=16)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for attention in args.attention:
            config = {"units": 64, "embedding_dim": 32, "attention": attention,
                      "bidirectional": True}
            if attention == "bahdanau":
                config["attention_placement"] = "bahdanau"
            trained = train_task(task, os.path.join(tmp, attention), config,
                                 epochs=args.epochs, patience=2, plateau_decay=None,
                                 learning_rate=3e-3,
                                 seed=args.seed,
                                 verbose=0, tensorboard=False, log=lambda message: None)
            result = evaluate(trained, task_splits(trained.meta["data"])[2])
            rows.append({"attention": attention, "config": config,
                         "train_seconds": trained.meta["training"]["train_seconds_this_run"], **result})
            print(attention, result["exact_match"], flush=True)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.python_version()}",
        "task": task.get_config(),
        "train_size": 10000, "test_size": 1000, "epochs": args.epochs, "seed": args.seed,
        "train_seconds": "wall-clock seconds in training batches (validation excluded)",
        "results": rows,
    }
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, "reverse_attention.json"), report)
    buckets = list(rows[0]["by_source_length"])
    lines = [
        "| attention | exact match | " + " | ".join(f"len {b}" for b in buckets) + " | train s |",
        "|---" * (len(buckets) + 3) + "|",
    ]
    for row in rows:
        cells = [f"{row['by_source_length'][b]['exact_match']:.3f}" for b in buckets]
        lines.append(f"| {row['attention']} | {row['exact_match']:.3f} | "
                     + " | ".join(cells) + f" | {row['train_seconds']:.0f} |")
    write_text(os.path.join(RESULTS, "reverse_attention.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
