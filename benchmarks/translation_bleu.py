"""Spanish -> English BLEU on ../shared/data/spa-eng after a fixed training time budget.

The TensorFlow NMT tutorial's data and size by default: bidirectional GRU encoder of
256 units, word-level tokens, a 5,000-token vocabulary per side, batch 64. Trains for
`--minutes` of wall-clock time (the data read and vocabulary learning are not counted),
keeps the epoch with the best dev loss, then scores the 2,000-pair test set with
sacreBLEU (cased). Writes `benchmarks/results/spa_eng_bleu.json` and `.md`.

    .venv/bin/python benchmarks/spa_eng_bleu.py --minutes 25
"""

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.data.corpora import read_tsv  # noqa: E402
from keras_s2s.evaluation import evaluate  # noqa: E402
from keras_s2s.training import train  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "spa-eng"
RESULTS = ROOT / "benchmarks" / "results"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--out", default=str(ROOT / "runs" / "spa-eng-bleu"))
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=256)
    parser.add_argument("--vocab-size", type=int, default=5000)
    parser.add_argument("--level", default="word")
    parser.add_argument("--attention", default="bahdanau")
    parser.add_argument("--placement", default="bahdanau")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--beam", type=int, default=4)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"The spa-eng corpus is not at {DATA}.")
    config = {"units": args.units, "embedding_dim": args.embedding_dim, "cell": "gru",
              "bidirectional": True, "attention": args.attention,
              "attention_placement": args.placement, "dropout": args.dropout}
    started = time.perf_counter()
    trained = train(
        read_tsv(DATA / "train.tsv"), read_tsv(DATA / "dev.tsv"), args.out, config,
        source_level=args.level, target_level=args.level,
        source_vocab_size=args.vocab_size, target_vocab_size=args.vocab_size,
        epochs=1000, batch_size=args.batch_size, learning_rate=args.learning_rate,
        patience=3, max_minutes=args.minutes, overwrite=True, tensorboard=False, verbose=2,
        data_description={"train": str(DATA / "train.tsv"), "dev": str(DATA / "dev.tsv"),
                          "test": str(DATA / "test.tsv"), "source_column": 1,
                          "target_column": 0},
    )
    wall = time.perf_counter() - started
    test = read_tsv(DATA / "test.tsv")
    greedy = evaluate(trained, test)
    beam = evaluate(trained, test, beam_size=args.beam)
    training = trained.meta["training"]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "budget_minutes": args.minutes, "wall_seconds_including_setup": round(wall, 1),
        "model": config, "tokenizer": trained.meta["tokenizer"],
        "vocab_sizes": [len(trained.source_vocab), len(trained.target_vocab)],
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "training": training, "greedy": greedy, f"beam{args.beam}": beam,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "spa_eng_bleu.json", report)
    lines = [
        "| decoding | BLEU (cased) | chrF | exact match | epochs | train tokens/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in (("greedy", greedy), (f"beam {args.beam}", beam)):
        lines.append(f"| {name} | {result['bleu']:.1f} | {result['chrf']:.1f} | "
                     f"{result['exact_match']:.3f} | {training['epochs_completed']} | "
                     f"{training['target_tokens_per_second']:.0f} |")
    lines.append(f"\n{greedy['bleu_signature']}")
    write_text(RESULTS / "spa_eng_bleu.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
