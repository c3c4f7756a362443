"""The `keras-s2s` command line: train and evaluate models on built-in tasks."""

import argparse
import json
import os
import sys

# Before TensorFlow is first imported: keep its C++ start-up chatter off the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.layers.attention import SCORES
from keras_s2s.layers.bridge import BRIDGES
from keras_s2s.layers.decoder import PLACEMENTS
from keras_s2s.layers.encoder import CELLS

ATTENTION_CHOICES = ("none",) + SCORES


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _rate(text):
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _add_train_parser(commands):
    p = commands.add_parser(
        "train",
        help="train a model on a built-in task",
        description="Train a Seq2Seq model on a built-in task and write a model directory.",
    )
    p.add_argument("--task", choices=("reverse", "copy"), default="reverse",
                   help="built-in task (default: reverse)")
    p.add_argument("--out", required=True, help="model directory to write")
    data = p.add_argument_group("task data")
    data.add_argument("--num-symbols", type=_positive_int, default=16)
    data.add_argument("--min-length", type=_positive_int, default=1)
    data.add_argument("--max-length", type=_positive_int, default=16)
    data.add_argument("--train-size", type=_positive_int, default=10000)
    data.add_argument("--dev-size", type=_positive_int, default=500)
    data.add_argument("--test-size", type=_positive_int, default=1000)
    arch = p.add_argument_group("architecture")
    arch.add_argument("--attention", choices=ATTENTION_CHOICES, default="general")
    arch.add_argument("--attention-placement", choices=PLACEMENTS, default="luong")
    arch.add_argument("--input-feeding", action="store_true",
                      help="Luong input feeding (needs attention and luong placement)")
    arch.add_argument("--cell", choices=CELLS, default="gru")
    arch.add_argument("--bidirectional", action="store_true", help="bidirectional encoder")
    arch.add_argument("--layers", type=_positive_int, default=1,
                      help="encoder and decoder layers (default 1)")
    arch.add_argument("--units", type=_positive_int, default=64,
                      help="encoder units per direction (default 64)")
    arch.add_argument("--decoder-units", type=_positive_int, default=None,
                      help="decoder units (default: the encoder output size)")
    arch.add_argument("--embedding-dim", type=_positive_int, default=32)
    arch.add_argument("--bridge", choices=BRIDGES, default="dense")
    arch.add_argument("--dropout", type=_rate, default=0.0)
    arch.add_argument("--reverse-source", action="store_true",
                      help="read the source backwards (Sutskever et al.)")
    fit = p.add_argument_group("training")
    fit.add_argument("--epochs", type=_positive_int, default=10)
    fit.add_argument("--batch-size", type=_positive_int, default=64)
    fit.add_argument("--learning-rate", type=float, default=3e-3)
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_train)


def _add_evaluate_parser(commands):
    p = commands.add_parser(
        "evaluate",
        help="evaluate a model directory on held-out data",
        description="Decode the held-out test split of the model's task and score it.",
    )
    p.add_argument("model", help="model directory written by `keras-s2s train`")
    p.add_argument("--beam", type=_positive_int, default=1,
                   help="beam size (1: greedy search, the default)")
    p.add_argument("--length-penalty", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="print one JSON object on one line")
    p.add_argument("--examples", type=int, default=0, metavar="N",
                   help="also print N decoded examples")
    p.set_defaults(run=_evaluate)


def _train(args):
    from keras_s2s.experiment import train_on_task
    from keras_s2s.tasks import get_task

    task = get_task(args.task, num_symbols=args.num_symbols, min_length=args.min_length,
                    max_length=args.max_length)
    config = {
        "embedding_dim": args.embedding_dim,
        "units": args.units,
        "cell": args.cell,
        "bidirectional": args.bidirectional,
        "encoder_layers": args.layers,
        "decoder_layers": args.layers,
        "decoder_units": args.decoder_units,
        "attention": args.attention,
        "attention_placement": args.attention_placement,
        "input_feeding": args.input_feeding,
        "bridge": args.bridge,
        "dropout": args.dropout,
        "reverse_source": args.reverse_source,
    }
    trained = train_on_task(
        task, args.out, config,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        train_size=args.train_size, dev_size=args.dev_size, test_size=args.test_size,
        seed=args.seed, verbose=0 if args.quiet else 2,
    )
    training = trained.meta["training"]
    print(f"Saved {args.out} (trained {training['seconds']} s, "
          f"{training['target_tokens_per_second']:.0f} target tokens/s)", file=sys.stderr)


def _evaluate(args):
    from keras_s2s.experiment import TrainedModel, evaluate

    trained = TrainedModel.load(args.model)
    result = evaluate(trained, beam_size=args.beam, length_penalty=args.length_penalty)
    if args.examples:
        from keras_s2s.experiment import build_task

        data = trained.meta["data"]
        _, _, pairs = build_task(trained.meta["task"]).splits(
            0, data["dev_size"], data["test_size"], seed=data["seed"])
        pairs = pairs[: args.examples]
        outputs = trained.translate([s for s, _ in pairs], beam_size=args.beam)
        for (source, target), output in zip(pairs, outputs):
            mark = "ok " if output == target else "BAD"
            print(f"{mark} {' '.join(source)} -> {' '.join(output)}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        print(f"exact match {result['exact_match']:.4f}, token accuracy "
              f"{result['token_accuracy']:.4f} on n={result['n']} ({result['decoding']})")
        for bucket, scores in result["by_source_length"].items():
            print(f"  source length {bucket:>7}: exact match {scores['exact_match']:.4f} "
                  f"(n={scores['n']})")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-s2s", description="Sequence-to-sequence RNNs with attention for Keras."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_parser(commands)
    _add_evaluate_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"keras-s2s {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
