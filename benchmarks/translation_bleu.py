"""Test BLEU on a real corpus after a fixed training time budget (spa-eng or Multi30k).

- `--corpus spa-eng` (default): Spanish -> English on `../shared/data/spa-eng`, the
  TensorFlow NMT tutorial's data and size: bidirectional GRU encoder of 256 units, a
  256-unit GRU decoder attending after its RNN (the tutorial's layout; here with the
  additive score), word-level tokens, a 5,000-token vocabulary per side, batch 64.
- `--corpus multi30k`: German -> English on `../shared/data/multi30k`, scored on
  test_2016_flickr: bidirectional GRU of 256 units with Bahdanau attention (additive
  score, attention before the decoder RNN), word-level tokens, 8,000-token
  vocabularies, batch 64.

Trains for `--minutes` of wall-clock time (the data read and vocabulary learning are not
counted), keeps the epoch with the best dev loss, then scores the test set with
sacreBLEU (cased), greedy and with beam search. Writes `benchmarks/results/NAME.json`
and `.md` (`--name`; default `spa_eng_bleu` or `multi30k_bleu`).

    .venv/bin/python benchmarks/translation_bleu.py --minutes 25
    .venv/bin/python benchmarks/translation_bleu.py --corpus multi30k --minutes 10
    # the earlier spa-eng configuration: 512-unit decoder, attention before the RNN
    .venv/bin/python benchmarks/translation_bleu.py --minutes 25 --decoder-units 0 \\
        --placement bahdanau --name spa_eng_bleu_bahdanau_placement
"""

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.data.recorded import file_split  # noqa: E402
from keras_s2s.evaluation import evaluate  # noqa: E402
from keras_s2s.training import train  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"


def _spa_eng(directory):
    return {"train": str(directory / "train.tsv"), "dev": str(directory / "dev.tsv"),
            "test": str(directory / "test.tsv"), "source_column": 1, "target_column": 0}


def _multi30k(directory):
    return {f"{split}_{side}": str(directory / f"{stem}.{lang}")
            for split, stem in (("train", "train"), ("dev", "val"), ("test", "test_2016_flickr"))
            for side, lang in (("source", "de"), ("target", "en"))}


# Per corpus: its directory, its data record and the defaults of the options.
CORPORA = {
    "spa-eng": {"description": _spa_eng, "defaults": {
        "vocab_size": 5000, "placement": "luong", "decoder_units": 256, "name": "spa_eng_bleu"}},
    "multi30k": {"description": _multi30k, "defaults": {
        "vocab_size": 8000, "placement": "bahdanau", "decoder_units": 256,
        "name": "multi30k_bleu"}},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="spa-eng")
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--out", help="model directory (default runs/<corpus>-bleu)")
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=256)
    parser.add_argument("--vocab-size", type=int)
    parser.add_argument("--level", default="word")
    parser.add_argument("--attention", default="bahdanau")
    parser.add_argument("--placement", choices=("luong", "bahdanau"))
    parser.add_argument("--decoder-units", type=int,
                        help="0: twice --units (the bidirectional encoder's output size)")
    parser.add_argument("--name", help="results file name")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--encoder-layers", type=int, default=1)
    parser.add_argument("--patience", type=int, default=3,
                        help="epochs without a better dev loss before stopping")
    parser.add_argument("--plateau-decay", type=float,
                        help="multiply the learning rate by this after an epoch without a "
                             "better dev loss (default: keep it)")
    args = parser.parse_args()
    corpus = CORPORA[args.corpus]
    for key, value in corpus["defaults"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    directory = SHARED / args.corpus
    if not directory.is_dir():
        raise SystemExit(f"The {args.corpus} corpus is not at {directory}.")
    description = corpus["description"](directory)
    out = args.out or str(ROOT / "runs" / f"{args.corpus}-bleu")
    config = {"units": args.units, "embedding_dim": args.embedding_dim, "cell": "gru",
              "bidirectional": True, "encoder_layers": args.encoder_layers,
              "attention": args.attention,
              "attention_placement": args.placement, "dropout": args.dropout,
              "decoder_units": args.decoder_units or None}
    started = time.perf_counter()
    trained = train(
        file_split(description, "train"), file_split(description, "dev"), out, config,
        source_level=args.level, target_level=args.level,
        source_vocab_size=args.vocab_size, target_vocab_size=args.vocab_size,
        epochs=1000, batch_size=args.batch_size, learning_rate=args.learning_rate,
        patience=args.patience, plateau_decay=args.plateau_decay, max_minutes=args.minutes, overwrite=True, tensorboard=False, verbose=2,
        data_description=description,
    )
    wall = time.perf_counter() - started
    test = file_split(description, "test")
    greedy = evaluate(trained, test)
    beam = evaluate(trained, test, beam_size=args.beam)
    training = trained.meta["training"]
    report = {
        "corpus": args.corpus,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "budget_minutes": args.minutes, "wall_seconds_including_setup": round(wall, 1),
        "model": config, "tokenizer": trained.meta["tokenizer"],
        "vocab_sizes": [len(trained.source_vocab), len(trained.target_vocab)],
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "patience": args.patience, "plateau_decay": args.plateau_decay,
        "load_average_at_end": os.getloadavg(),
        "training": training, "greedy": greedy, f"beam{args.beam}": beam,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / f"{args.name}.json", report)
    lines = [
        "| decoding | BLEU (cased) | chrF | exact match | epochs | train tokens/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in (("greedy", greedy), (f"beam {args.beam}", beam)):
        lines.append(f"| {name} | {result['bleu']:.1f} | {result['chrf']:.1f} | "
                     f"{result['exact_match']:.3f} | {training['epochs_completed']} | "
                     f"{training['target_tokens_per_second']:.0f} |")
    lines.append(f"\n{greedy['bleu_signature']}")
    write_text(RESULTS / f"{args.name}.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
