"""The `keras-s2s` command line: train, evaluate, translate, export, zoo and quickstart.

    keras-s2s train --task dates --out runs/dates
    keras-s2s train --train spa-eng/train.tsv --dev spa-eng/dev.tsv --out runs/spa-eng
    keras-s2s evaluate runs/spa-eng --json
    echo "¿Dónde está la estación?" | keras-s2s translate runs/spa-eng --beam 4
    keras-s2s export runs/spa-eng --out export/spa-eng
    keras-s2s translate export/spa-eng --backend onnx "¿Dónde está la estación?"
"""

import argparse
import json
import os
import sys
import warnings

from keras_s2s.choices import ATTENTIONS, BRIDGES, CELLS, PLACEMENTS, QUANTIZATIONS
from keras_s2s.config import ARCHITECTURE_DEFAULTS, TrainingConfig
from keras_s2s.data.corpora import split_lines  # pure Python, no TensorFlow
from keras_s2s.data.recorded import file_split, recorded_split

# Before TensorFlow is first imported: keep its C++ start-up chatter off the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TASKS = ("reverse", "copy", "dates")
LEVELS = ("char", "word", "subword")



# The defaults of `keras-s2s train` are the Python API's (keras_s2s.config): training
# runs to convergence, with early stopping and a learning rate lowered on plateaus.
TRAINING_DEFAULTS = TrainingConfig()

def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _rate(text):
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _ratio(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _decay(text):
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] (1: no decay), got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _temperature(text):
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(
            f"must be > 0, got {text} (for the most likely tokens, leave out --sample)")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


# === Data options, shared by train and evaluate ===

def _add_data_arguments(parser, training):
    data = parser.add_argument_group(
        "data",
        "a built-in task, a TSV file with source and target columns, or line-aligned "
        "source and target files" + ("" if training else
                                     " (default: the test data the model was trained with)"),
    )
    data.add_argument("--task", choices=TASKS, help="built-in task")
    data.add_argument("--source-column", type=_non_negative_int, default=1,
                      help="TSV column of the source, from 0 (default 1: the manythings "
                           "format is English<TAB>Spanish, Spanish the usual source)")
    data.add_argument("--target-column", type=_non_negative_int, default=0,
                      help="TSV column of the target (default 0)")
    if training:
        from keras_s2s.data.named import CORPORA, DATA_ENV

        data.add_argument("--corpus", choices=sorted(CORPORA),
                          help=f"a real corpus by name, read from ${DATA_ENV} (default "
                               "../shared/data beside the checkout) with its own split")
        data.add_argument("--train", metavar="TSV", help="training pairs, tab-separated")
        data.add_argument("--dev", metavar="TSV", help="dev pairs (default: held out from --train)")
        data.add_argument("--test", metavar="TSV", help="test pairs, recorded for `evaluate`")
        data.add_argument("--train-source", metavar="FILE")
        data.add_argument("--train-target", metavar="FILE")
        data.add_argument("--dev-source", metavar="FILE")
        data.add_argument("--dev-target", metavar="FILE")
        data.add_argument("--test-source", metavar="FILE")
        data.add_argument("--test-target", metavar="FILE")
        data.add_argument("--limit", type=_positive_int,
                          help="use only the first N training pairs")
        data.add_argument("--train-size", type=_positive_int, default=10000,
                          help="task: generated training pairs (default 10000)")
        data.add_argument("--dev-size", type=_positive_int, default=500,
                          help="task: dev pairs; files without --dev: pairs held out from "
                               "--train (default 500)")
        data.add_argument("--test-size", type=_positive_int, default=1000,
                          help="task: test pairs (default 1000)")
        data.add_argument("--num-symbols", type=_positive_int, default=16,
                          help="reverse/copy: alphabet size")
        data.add_argument("--min-length", type=_positive_int, default=1,
                          help="reverse/copy: shortest sequence")
        data.add_argument("--max-length", type=_positive_int, default=16,
                          help="reverse/copy: longest sequence")
    else:
        data.add_argument("--test", metavar="TSV", help="test pairs, tab-separated")
        data.add_argument("--test-source", metavar="FILE")
        data.add_argument("--test-target", metavar="FILE")
        data.add_argument("--limit", type=_positive_int, help="evaluate the first N pairs only")


def _training_data(args):
    """`(train, dev, description)` from the train options."""
    files = [args.train, args.train_source, args.train_target]
    if sum(bool(x) for x in (args.task, args.corpus, any(files))) > 1:
        raise ValueError("Give one of --task, --corpus or training files.")
    if args.corpus:
        description = {"corpus": args.corpus}
        train = recorded_split(description, "train")
        train = train[: args.limit] if args.limit else train
        return train, recorded_split(description, "dev"), description
    if args.task:
        from keras_s2s.tasks import get_task, task_description, task_splits

        options = {}
        if args.task in ("reverse", "copy"):
            options = {"num_symbols": args.num_symbols, "min_length": args.min_length,
                       "max_length": args.max_length}
        task = get_task(args.task, **options)
        description = task_description(task, args.train_size, args.dev_size, args.test_size,
                                       args.seed)
        train, dev, _ = task_splits(description)
        return train, dev, description
    if not any(files):
        raise ValueError(
            "No training data: give --task, --corpus, --train FILE.tsv, or --train-source and "
            "--train-target."
        )
    description = {"source_column": args.source_column, "target_column": args.target_column}
    for split in ("train", "dev", "test"):
        for suffix in ("", "_source", "_target"):
            value = getattr(args, split + suffix)
            if value:
                description[split + suffix] = os.path.abspath(value)
    train = file_split(description, "train")
    if args.limit:
        train = train[: args.limit]
    dev = file_split(description, "dev")
    if dev is None:
        import numpy as np

        if len(train) < 2 * args.dev_size:
            raise ValueError(
                f"--train has {len(train)} pairs, too few to hold out --dev-size "
                f"{args.dev_size} for dev: give --dev or a smaller --dev-size."
            )
        held = set(np.random.default_rng(args.seed).permutation(len(train))[: args.dev_size])
        dev = [pair for i, pair in enumerate(train) if i in held]
        train = [pair for i, pair in enumerate(train) if i not in held]
        description["dev_held_out_from_train"] = args.dev_size
    return train, dev, description


def _test_data(args, meta):
    """The evaluation pairs: from the options, else what the model was trained with."""
    description = {"source_column": args.source_column, "target_column": args.target_column}
    for key in ("test", "test_source", "test_target"):
        if getattr(args, key):
            description[key] = getattr(args, key)
    if args.task:
        raise ValueError("evaluate --task is not supported: a model is evaluated on the "
                         "test split of the task it was trained on (the default).")
    pairs = file_split(description, "test")
    if pairs is None:
        pairs = recorded_split(meta.get("data", {}), "test")
        if pairs is None:
            raise ValueError(
                "The model was trained without test data: give --test FILE.tsv or "
                "--test-source and --test-target."
            )
    return pairs[: args.limit] if args.limit else pairs


# === train ===

def _add_train_parser(commands):
    p = commands.add_parser(
        "train", help="train a model",
        description="Train a Seq2Seq model and write a model directory.",
    )
    p.add_argument("--out", required=True, help="model directory to write")
    _add_data_arguments(p, training=True)
    tok = p.add_argument_group("tokenization (tensorflow-text)")
    tok.add_argument("--level", choices=LEVELS,
                     help="tokens for both sides (default: the task's level, else word)")
    tok.add_argument("--source-level", choices=LEVELS, help="override --level for the source")
    tok.add_argument("--target-level", choices=LEVELS, help="override --level for the target")
    tok.add_argument("--vocab-size", type=_positive_int, default=TRAINING_DEFAULTS.source_vocab_size,
                     help="largest vocabulary per side, special tokens included (default "
                          f"{TRAINING_DEFAULTS.source_vocab_size})")
    tok.add_argument("--lowercase", action="store_true", help="lower-case both sides")
    tok.add_argument("--source-lowercase", action="store_true",
                     help="lower-case the source only (e.g. words -> phonemes)")
    tok.add_argument("--max-source-length", type=_positive_int,
                     default=TRAINING_DEFAULTS.max_source_length,
                     help="drop training pairs with longer sources, in tokens (default "
                          f"{TRAINING_DEFAULTS.max_source_length})")
    tok.add_argument("--max-target-length", type=_positive_int,
                     default=TRAINING_DEFAULTS.max_target_length,
                     help="drop training pairs with longer targets, in tokens (default "
                          f"{TRAINING_DEFAULTS.max_target_length})")
    arch = p.add_argument_group(
        "architecture", "defaults: a preset's values with --preset, else the values shown")
    arch.add_argument("--preset", metavar="NAME",
                      help="start from a zoo architecture (`keras-s2s zoo list`); the "
                           "options below override it")
    default = ARCHITECTURE_DEFAULTS
    arch.add_argument("--attention", choices=ATTENTIONS, help=f"default {default['attention']}")
    arch.add_argument("--attention-placement", choices=PLACEMENTS,
                      help=f"default {default['attention_placement']}")
    arch.add_argument("--input-feeding", action="store_true", default=None,
                      help="Luong input feeding (needs attention and luong placement)")
    arch.add_argument("--cell", choices=CELLS, help=f"default {default['cell']}")
    arch.add_argument("--bidirectional", action="store_true", default=None,
                      help="bidirectional encoder")
    arch.add_argument("--layers", type=_positive_int,
                      help=f"encoder and decoder layers (default {default['encoder_layers']})")
    arch.add_argument("--units", type=_positive_int,
                      help=f"encoder units per direction (default {default['units']})")
    arch.add_argument("--decoder-units", type=_positive_int,
                      help="decoder units (default: the encoder output size)")
    arch.add_argument("--embedding-dim", type=_positive_int,
                      help=f"default {default['embedding_dim']}")
    arch.add_argument("--bridge", choices=BRIDGES, help=f"default {default['bridge']}")
    arch.add_argument("--dropout", type=_rate, help=f"default {default['dropout']:g}")
    arch.add_argument("--reverse-source", action="store_true", default=None,
                      help="read the source backwards (Sutskever et al.)")
    fit = p.add_argument_group("training")
    training = TRAINING_DEFAULTS
    fit.add_argument("--epochs", type=_positive_int, default=training.epochs,
                     help=f"the most epochs (default {training.epochs}; with --patience, "
                          "training usually stops well before)")
    fit.add_argument("--batch-size", type=_positive_int, default=training.batch_size)
    fit.add_argument("--learning-rate", type=_positive_float, default=training.learning_rate)
    fit.add_argument("--patience", type=_non_negative_int, default=training.patience,
                     help="early stopping: stop after this many epochs without a better dev "
                          f"loss and keep the best epoch (default {training.patience}; 0: off)")
    fit.add_argument("--plateau-decay", type=_decay, default=training.plateau_decay,
                     help="multiply the learning rate by this after an epoch without a "
                          f"better dev loss (default {training.plateau_decay}; 1: constant)")
    fit.add_argument("--dtype", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                     help="Keras dtype policy (default float32); mixed_bfloat16 computes in "
                          "bfloat16 with float32 weights, softmax and loss (exports stay "
                          "float32)")
    fit.add_argument("--teacher-forcing", type=_ratio, default=1.0,
                     help="share of steps fed the gold token; below 1: scheduled sampling")
    fit.add_argument("--max-minutes", type=_positive_float,
                     help="stop training after this much wall-clock time")
    fit.add_argument("--seed", type=int, default=training.seed,
                     help="seeds data, weights and batches")
    fit.add_argument("--resume", action="store_true",
                     help="continue the training in --out from its last checkpoint")
    fit.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    fit.add_argument("--strategy", choices=("none", "mirrored", "multiworker"), default="none",
                     help="tf.distribute: mirrored over the local GPUs, or multiworker over "
                          "the cluster in TF_CONFIG; --batch-size is the global batch")
    fit.add_argument("--quiet", action="store_true",
                     help="one line per epoch, also on a terminal (progress bars are drawn "
                          "only on a terminal)")
    fit.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard logs")
    p.set_defaults(run=_train)


def _train(args):
    from keras_s2s.trained_model import read_meta
    from keras_s2s.training import train

    config = _architecture(args)  # first: a bad --preset fails before the data is read
    given = [args.task, args.corpus, args.train, args.train_source, args.train_target]
    if args.resume and not any(given):
        meta = read_meta(args.out)
        description = meta["data"]
        if "task" in description:
            from keras_s2s.tasks import task_splits

            train_pairs, dev_pairs, _ = task_splits(description)
        else:
            train_pairs, dev_pairs = _resumed_file_data(description)
    else:
        train_pairs, dev_pairs, description = _training_data(args)
    default_level = "word"
    if args.task:
        from keras_s2s.tasks import get_task

        default_level = get_task(args.task).level
    level = args.level or default_level
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    training_config = TrainingConfig(
        source_level=args.source_level or level, target_level=args.target_level or level,
        lowercase=args.lowercase, source_lowercase=args.lowercase or args.source_lowercase,
        source_vocab_size=args.vocab_size, target_vocab_size=args.vocab_size,
        max_source_length=args.max_source_length, max_target_length=args.max_target_length,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        patience=args.patience,
        plateau_decay=None if args.plateau_decay == 1 else args.plateau_decay,
        seed=args.seed, max_minutes=args.max_minutes, tensorboard=not args.no_tensorboard,
        strategy=args.strategy, verbose=_verbosity(args),
    )
    trained = train(train_pairs, dev_pairs, args.out, config, training_config,
                    resume=args.resume, overwrite=args.overwrite,
                    data_description=description, log=log)
    training = trained.meta["training"]
    log(f"Saved {args.out}: {training['epochs_completed']} epoch(s), "
        f"{training['train_seconds_this_run']} s of training in this run, "
        f"{format_rate(training['target_tokens_per_second'])} target tokens/s.")


def _architecture(args):
    """The `Seq2Seq` config: the API's defaults (`ARCHITECTURE_DEFAULTS`), then the
    preset, then the options given."""
    config = dict(ARCHITECTURE_DEFAULTS)
    if args.preset:
        from keras_s2s.zoo import preset_config

        config.update(preset_config(args.preset))
    given = {name: getattr(args, name) for name in (
        "attention", "attention_placement", "input_feeding", "cell", "bidirectional", "units",
        "decoder_units", "embedding_dim", "bridge", "dropout", "reverse_source")}
    if args.layers is not None:
        given["encoder_layers"] = given["decoder_layers"] = args.layers
    config.update({name: value for name, value in given.items() if value is not None})
    config["teacher_forcing"] = args.teacher_forcing
    if getattr(args, "dtype", None) and args.dtype != "float32":
        config["dtype"] = args.dtype
    return config


def _resumed_file_data(description):
    train_pairs = recorded_split(description, "train")
    dev_pairs = recorded_split(description, "dev")
    if dev_pairs is None:
        raise ValueError("Give the training data again to resume (the dev set was held out "
                         "from --train): repeat the original train command with --resume.")
    return train_pairs, dev_pairs


# === evaluate ===

def _add_evaluate_parser(commands):
    p = commands.add_parser(
        "evaluate", help="score a model on held-out data",
        description="Translate held-out pairs and score them (sacreBLEU BLEU and chrF, "
                    "exact match), overall and by source length.",
    )
    p.add_argument("model", help="model directory, exported bundle or zoo model name")
    _add_backend_argument(p)
    _add_data_arguments(p, training=False)
    p.add_argument("--beam", type=_positive_int, default=1,
                   help="beam size (default 1: greedy search)")
    p.add_argument("--length-penalty", type=_non_negative_float, default=0.0)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    _add_shortlist_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on one line")
    p.add_argument("--examples", type=_non_negative_int, default=0, metavar="N",
                   help="also print N translated examples to stderr")
    p.set_defaults(run=_evaluate)


def _evaluate(args):
    from keras_s2s.evaluation import evaluate, sorted_buckets

    trained = _load_translator(args.model, args.backend, args.threads)
    pairs = _test_data(args, trained.meta)
    options = {"shortlist": True} if args.shortlist else {}
    result = evaluate(trained, pairs, beam_size=args.beam, length_penalty=args.length_penalty,
                      batch_size=args.batch_size, **options)
    if args.examples:
        sample = pairs[: args.examples]
        outputs = trained.translate([s for s, _ in sample], beam_size=args.beam, **options)
        for (source, target), output in zip(sample, outputs):
            print(f"{source}\n  -> {output}\n  ref {target}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, separators=(",", ":")))
        return
    print(f"BLEU {result['bleu']:.2f}  chrF {result['chrf']:.2f}  exact match "
          f"{result['exact_match']:.4f}  n={result['n']}  ({result['decoding']})")
    for bucket, scores in sorted_buckets(result["by_source_length"]):
        print(f"  source length {bucket:>7}: BLEU {scores['bleu']:6.2f}  exact match "
              f"{scores['exact_match']:.4f}  n={scores['n']}")
    if "wer" in result:
        print(f"  words {result['n']:,}: WER {result['wer']:.2%}  PER {result['per']:.2%}; "
              f"without stress WER {result['wer_no_stress']:.2%}  PER "
              f"{result['per_no_stress']:.2%}")
    if "dates" in result:
        print(f"  valid calendar dates {result['dates']['valid_dates']:.4f}")
        for family, scores in result["dates"].get("by_family", {}).items():
            print(f"  {family:>24}: exact match {scores['exact_match']:.4f}  valid dates "
                  f"{scores['valid_dates']:.4f}  n={scores['n']}")
    print(f"  {result['bleu_signature']}")


def _add_shortlist_argument(p):
    p.add_argument("--shortlist", action="store_true",
                   help="compute each step's output layer only over the target words the "
                        "bundle's vocabulary shortlist allows each source (a bundle "
                        "exported with --shortlist; tflite or onnx)")


# === translate ===

def _add_translate_parser(commands):
    p = commands.add_parser(
        "translate", help="translate text with a model",
        description="Translate each TEXT (or each line of stdin) and print one output per line.",
    )
    p.add_argument("model", help="model directory, exported bundle or zoo model name")
    _add_backend_argument(p)
    p.add_argument("text", nargs="*", help="texts to translate (default: lines of stdin)")
    p.add_argument("--beam", type=_positive_int,
                   help="beam size (default 1, greedy search; with --n-best N: N)")
    p.add_argument("--n-best", "--nbest", dest="nbest", type=_positive_int, default=1,
                   metavar="N",
                   help="print the N best translations of each input as "
                        "INPUT_INDEX<TAB>SCORE<TAB>TEXT, best first (beam search, beam N "
                        "unless --beam is larger)")
    p.add_argument("--length-penalty", type=_non_negative_float, default=0.0)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--day-first", action="store_true",
                   help="dates models: the texts write numeric dates day first (20/11/1950, "
                        "5/11/2026 = 5 November); without it, 5/11/2026 reads month first")
    p.add_argument("--whole-loop", action="store_true",
                   help="decode with one call of the bundle's whole-loop graph per batch "
                        "(TFLite: per sentence): greedy, or beam search with --beam at the "
                        "beam size the bundle was exported with")
    p.add_argument("--max-length", type=_positive_int, metavar="N",
                   help="most tokens generated per input (default: the model's limit)")
    _add_shortlist_argument(p)
    sampling = p.add_argument_group("sampling (instead of greedy or beam search)")
    sampling.add_argument("--sample", action="store_true",
                          help="draw each token from the model's distribution")
    sampling.add_argument("--temperature", type=_temperature, default=1.0,
                          help="> 0; below 1 sharpens, above 1 flattens (default 1)")
    sampling.add_argument("--top-k", type=_non_negative_int, default=0,
                          help="sample among the K most likely tokens (default 0: all)")
    sampling.add_argument("--seed", type=int, help="seed, for reproducible samples")
    p.add_argument("--attention-plot", metavar="FILE.png",
                   help="write an attention heatmap per input (FILE-2.png, ... for more inputs)")
    p.set_defaults(run=_translate)


def _read_stdin_lines():
    """The lines of stdin (`split_lines`); bytes that are not UTF-8 become U+FFFD, with
    a warning."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", errors="replace")
        _warn(f"stdin is not valid UTF-8 ({e.reason} at byte {e.start}); such bytes were "
              "replaced by U+FFFD.")
    return split_lines(text)


def _verbosity(args):
    """Keras `fit` verbosity: progress bars (1) on a terminal, else one line per epoch
    (2: a log file gets no bars and no terminal control codes); `--quiet` forces 2."""
    return 1 if not args.quiet and sys.stdout.isatty() else 2


# The packages of the `full` extra (import names): without them, a runtime-only install.
FULL_INSTALL_MODULES = ("tensorflow", "keras", "tensorflow_text", "tf2onnx", "onnx",
                        "sacrebleu", "matplotlib", "tensorboard")


def has_tensorflow():
    """Whether TensorFlow is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


def _missing_full_install(error):
    """The message for a command that needs the `full` extra in a runtime-only install,
    or None if `error` is about something else."""
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    if error.name.split(".")[0] not in FULL_INSTALL_MODULES:
        return None
    return (f"this needs {error.name.split('.')[0]}, which is not installed: this looks like "
            "a runtime-only install (`keras_s2s[runtime]`), which translates with bundles on "
            "--backend tflite or onnx. Install the whole stack to train, evaluate and "
            "export: pip install 'keras_s2s[full]'.")


def command_name():
    """How to call this `keras-s2s` from a new shell: the bare name when it is on PATH,
    else the script's path (e.g. `.venv/bin/keras-s2s` when `.venv` is not active)."""
    import shutil

    script = os.path.join(os.path.dirname(sys.executable), "keras-s2s")
    on_path = shutil.which("keras-s2s")
    if not os.path.isfile(script) or (
            on_path and os.path.realpath(on_path) == os.path.realpath(script)):
        return "keras-s2s"
    relative = os.path.relpath(script)
    return relative if not relative.startswith("..") else script


def format_rate(value):
    """A rate as the CLI prints it everywhere: `18,398` (no decimals; `-` if unknown)."""
    return "-" if value is None else f"{value:,.0f}"


def _warn(message):
    print(f"keras-s2s: warning: {message}", file=sys.stderr)


def _tag_day_first(meta, texts):
    from keras_s2s.tasks.dates import tag_day_first

    task = (meta.get("data") or {}).get("task") or {}
    if task.get("name") != "dates" or not task.get("day_first"):
        raise ValueError(
            "--day-first is for models trained on the dates task with day-first dates "
            "(dates_* of the zoo, or `keras-s2s train --task dates`); this model was not.")
    return [tag_day_first(text) for text in texts]


def _translate(args):
    if args.beam is None:
        args.beam = 1 if args.sample else args.nbest
    if args.nbest > args.beam:
        raise ValueError(f"--n-best {args.nbest} needs --beam {args.nbest} or more.")
    if args.sample and args.beam > 1:
        raise ValueError("--sample draws one translation per input: it takes no --beam.")
    texts = args.text or _read_stdin_lines()
    trained = _load_translator(args.model, args.backend, args.threads)
    if args.day_first:
        texts = _tag_day_first(trained.meta, texts)
    results = trained.decode(texts, beam_size=args.beam, length_penalty=args.length_penalty,
                             n_best=args.nbest, batch_size=args.batch_size,
                             whole_loop=args.whole_loop,
                             max_length=args.max_length, sample=args.sample,
                             temperature=args.temperature, top_k=args.top_k, seed=args.seed,
                             **({"shortlist": True} if args.shortlist else {}))
    for index, unknown in enumerate(trained.unknown_tokens(texts)):
        if unknown:
            shown = ", ".join(repr(token) for token in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            print(f"Note: input {index + 1} has {len(unknown)} token(s) outside the model's "
                  f"vocabulary, read as unknown: {shown}{more}.", file=sys.stderr)
    for index, hypotheses in enumerate(results):
        outputs = trained.detokenize([h.tokens for h in hypotheses])
        if args.nbest == 1:
            print(outputs[0])
        else:
            for hypothesis, output in zip(hypotheses, outputs):
                print(f"{index}\t{hypothesis.ranking_score:.4f}\t{output}")
    if args.attention_plot:
        from keras_s2s.plotting import plot_hypothesis

        if not any(h[0].attention is not None for h in results) and any(texts):
            raise ValueError("--attention-plot needs a model with attention.")
        stem, ext = os.path.splitext(args.attention_plot)
        source_ids = trained.tokenize_sources(texts)
        for index, hypotheses in enumerate(results):
            path = args.attention_plot if index == 0 else f"{stem}-{index + 1}{ext or '.png'}"
            if plot_hypothesis(trained, texts[index], source_ids[index], hypotheses[0], path):
                print(f"Wrote {path}", file=sys.stderr)
            else:  # an empty input: nothing was attended
                print(f"No attention plot for input {index + 1}: it has no tokens.",
                      file=sys.stderr)


# === export ===

def _add_export_parser(commands):
    from keras_s2s.runtime.bundle import FORMATS

    p = commands.add_parser(
        "export", help="write a deployable bundle (SavedModel, TFLite, ONNX)",
        description="Export a trained model directory as a bundle: the .keras model, a "
                    "SavedModel, TFLite and ONNX graphs, vocabularies and bundle.json. "
                    "Each export is decoded on held-out data and compared with Keras.",
    )
    p.add_argument("model", help="model directory written by `keras-s2s train`, or a zoo name")
    p.add_argument("--out", required=True, help="bundle directory to write")
    p.add_argument("--formats", default=",".join(FORMATS),
                   help=f"comma-separated formats (default: all of {','.join(FORMATS)})")
    p.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                   help="TFLite quantization (int8 calibrates on training sources); with "
                        "dynamic or int8, ONNX gets int8 weights too")
    p.add_argument("--no-whole-loop", dest="whole_loop", action="store_false",
                   help="TFLite and ONNX: only the step graphs (encoder, decoder_step), not "
                        "the whole-loop greedy and beam graphs; about half the size")
    p.add_argument("--beam-size", type=_positive_int, default=4, metavar="K",
                   help="beam size of the whole-loop beam graph (default 4; its length "
                        "penalty is an input)")
    p.add_argument("--shortlist", nargs="?", const="1000,50", metavar="FREQUENT,PER_WORD",
                   help="also write a vocabulary shortlist built from the training data: "
                        "the FREQUENT most common target words and, per source word, the "
                        "PER_WORD target words seen most often with it (default 1000,50), "
                        "with the step graph without its output layer; decode with "
                        "`translate --shortlist`")
    p.add_argument("--check", type=_non_negative_int, default=100, metavar="N",
                   help="held-out sources decoded on every backend after export (default 100; 0: none)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--json", action="store_true", help="print the report as one JSON line")
    p.set_defaults(run=_export)


def _shortlist_sizes(text):
    """`--shortlist FREQUENT,PER_WORD` -> the sizes (`None` without the flag)."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        frequent, per_word = (int(part) for part in parts)
        if frequent < 0 or per_word < 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"--shortlist takes FREQUENT,PER_WORD, two non-negative ints such as "
                         f"300,20; got {text!r}.") from None
    return {"frequent": frequent, "per_word": per_word}


def _export(args):
    from keras_s2s.export import export_bundle

    if os.path.exists(args.out) and not args.overwrite:
        raise ValueError(f"{args.out} exists: give --overwrite to replace it.")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    from keras_s2s.zoo.trained import resolve

    report = export_bundle(resolve(args.model), args.out, formats=formats, quantize=args.quantize,
                           check_size=args.check, beam_size=args.beam_size,
                           whole_loop=args.whole_loop, shortlist=_shortlist_sizes(args.shortlist),
                           log=log)
    if args.json:
        print(json.dumps(report, separators=(",", ":")))
        return
    print(f"Wrote {report['bundle']} in {report['seconds']} s:")
    for name, size in sorted(report["sizes"].items()):
        print(f"  {size / 1024:10.1f} KiB  {name}")


def _add_backend_argument(parser):
    from keras_s2s.runtime import BACKENDS

    parser.add_argument("--backend", choices=list(BACKENDS),
                        help="for a bundle: the runtime to decode with (default tflite); "
                             "a model directory runs on keras")
    parser.add_argument("--threads", type=_positive_int, metavar="N",
                        help="CPU threads of the tflite or onnx runtime (default: the cores "
                             "this process may use, at most 4)")


# The runtimes whose thread count `--threads` sets.
_THREADED_BACKENDS = ("tflite", "onnx")


def _load_translator(path, backend, threads=None):
    """A `Translator` for a bundle (any backend), a model directory (keras) or a zoo name;
    `threads` for the tflite and onnx runtimes."""
    from keras_s2s.model_files import META_FILE
    from keras_s2s.runtime.bundle import BUNDLE_FILE
    from keras_s2s.zoo.trained import TRAINED, resolve

    if backend is None and path in TRAINED and not os.path.exists(path) and not has_tensorflow():
        backend = "tflite"  # a runtime-only install: the zoo model's bundle
    path = resolve(path, backend)
    if os.path.isfile(os.path.join(path, BUNDLE_FILE)):
        from keras_s2s import runtime

        backend = backend or "tflite"
        if threads is not None and backend not in _THREADED_BACKENDS:
            raise ValueError(f"--threads sets the threads of the tflite and onnx runtimes, "
                             f"not {backend}'s: leave it out, or pick --backend tflite or onnx.")
        options = {} if threads is None else {"num_threads": threads}
        return runtime.load(path, backend=backend, **options)
    what = ("a model directory (keras-s2s train --out DIR), a bundle (keras-s2s export "
            "--out DIR) or a zoo model name (keras-s2s zoo list)")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist: give {what}.")
    if not os.path.isfile(os.path.join(path, META_FILE)):
        kind = "a directory" if os.path.isdir(path) else "a file"
        raise ValueError(f"{path} is {kind}, but not a model: it has neither {META_FILE} "
                         f"(a model directory) nor {BUNDLE_FILE} (a bundle). Give {what}.")
    if backend not in (None, "keras"):
        raise ValueError(f"{path} is a model directory, which runs on keras only: export it "
                         f"with `keras-s2s export {path} --out BUNDLE` to use --backend {backend}.")
    if threads is not None:
        raise ValueError(f"--threads sets the threads of the tflite and onnx runtimes; {path} "
                         f"is a model directory, which runs on keras: export it with "
                         f"`keras-s2s export {path} --out BUNDLE` and decode that bundle.")
    from keras_s2s.trained_model import TrainedModel

    return TrainedModel.load(path).translator


# === zoo ===

def _add_zoo_parser(commands):
    p = commands.add_parser(
        "zoo", help="the zoo: named architectures and trained models",
        description="The zoo's presets (named architectures for `train --preset NAME` and "
                    "`keras_s2s.zoo.from_preset`) and its trained models (names any MODEL "
                    "argument takes: `keras-s2s translate dates_bahdanau TEXT`).",
    )
    actions = p.add_subparsers(dest="zoo_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="one line per preset and per trained model").set_defaults(
        run=_zoo_list)
    show = actions.add_parser("show", help="a preset's config or a trained model's card")
    show.add_argument("name")
    show.set_defaults(run=_zoo_show)
    build = actions.add_parser("build", help="train, evaluate, document and export trained "
                                             "models into saved_models/ and export/")
    build.add_argument("names", nargs="*", metavar="NAME", help="default: every trained model")
    build.add_argument("--quiet", action="store_true",
                       help="one line per epoch, also on a terminal")
    build.add_argument("--trained", metavar="DIR",
                       help="with one NAME: adopt this model directory, trained from NAME's "
                            "recipe (checked), instead of training again")
    build.set_defaults(run=_zoo_build)
    again = actions.add_parser("export", help="export built models again into export/ (same "
                                              "weights) and update their cards' bundle sizes")
    again.add_argument("names", nargs="*", metavar="NAME", help="default: every trained model")
    again.set_defaults(run=_zoo_export)
    card = actions.add_parser(
        "card", help="rewrite built models' cards from their committed bundles (no export): "
                     "formats their recipes no longer ship are removed, decode speed measured "
                     "again")
    card.add_argument("names", nargs="*", metavar="NAME", help="default: every trained model")
    card.set_defaults(run=_zoo_card)


def _zoo_list(args):
    from keras_s2s.zoo import list_presets, preset_description
    from keras_s2s.zoo.trained import TRAINED, headline, list_trained, read_card

    names = list_presets() + list_trained()
    width = max(len(name) for name in names)
    print("Presets (keras-s2s train --preset NAME):")
    for name in list_presets():
        print(f"  {name:{width}}  {preset_description(name)}")
    print("Trained models (any MODEL argument):")
    for name in list_trained():
        try:
            scores = headline(read_card(name))
        except FileNotFoundError:
            scores = "not built"
        print(f"  {name:{width}}  {scores:24}  {TRAINED[name]['description']}")


def _zoo_show(args):
    from keras_s2s.zoo import list_presets, preset_config, preset_description
    from keras_s2s.zoo.trained import CARD_MARKDOWN, TRAINED, model_dir, read_card

    if args.name in TRAINED:
        read_card(args.name)  # a clear error if it is not built
        with open(os.path.join(model_dir(args.name), CARD_MARKDOWN), encoding="utf-8") as f:
            print(f.read(), end="")
        return
    if args.name not in list_presets():
        import difflib

        known = list_presets() + sorted(TRAINED)
        close = difflib.get_close_matches(args.name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{args.name!r} is neither a preset nor a trained model.{hint} "
                         "`keras-s2s zoo list` shows them all.")
    config = preset_config(args.name)
    print(preset_description(args.name))
    print(json.dumps(config, indent=2, sort_keys=True))


def _zoo_build(args):
    from keras_s2s.zoo.build import build_all, headline

    if args.trained and len(args.names) != 1:
        raise ValueError("--trained adopts one model directory: give exactly one NAME.")
    cards = build_all(args.names or None, verbose=_verbosity(args),
                      log=lambda message: print(message, flush=True), trained_dir=args.trained)
    for card in cards:
        print(f"{card['name']:18} {headline(card)}")


def _zoo_export(args):
    from keras_s2s.zoo.build import export_all

    for card in export_all(args.names or None, log=lambda message: print(message, flush=True)):
        kib = card["bundle"]["kib"]
        print(f"{card['name']:18} " + "  ".join(f"{fmt} {size:,.0f} KiB" for fmt, size in kib.items()))


def _zoo_card(args):
    from keras_s2s.zoo.build import headline, refresh_all

    for card in refresh_all(args.names or None, log=lambda message: print(message, flush=True)):
        speed = card.get("decode_speed", {})
        print(f"{card['name']:18} {headline(card)}; batch 1 greedy: " + ", ".join(
            f"{backend} {speed[backend]:.2f} ms" for backend in ("tflite", "onnx")
            if backend in speed))


# === quickstart ===

def _add_quickstart_parser(commands):
    p = commands.add_parser(
        "quickstart", help="train, evaluate, export and decode the default model on dates",
        description="The whole pipeline in a few minutes on 2 CPU cores: train the default "
                    "model on the built-in dates task, evaluate it, plot its attention, export "
                    "every format, decode on every backend and print a summary table.",
    )
    p.add_argument("--out", default="runs/quickstart",
                   help="directory for the model, bundle, plot and summary (default %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=8)
    p.add_argument("--sentences", type=_positive_int, default=200,
                   help="held-out dates each backend decodes for the table")
    p.add_argument("--quiet", action="store_true",
                   help="one line per epoch, also on a terminal (progress bars are drawn "
                        "only on a terminal)")
    p.set_defaults(run=_quickstart)


def _quickstart(args):
    from keras_s2s.quickstart import run

    run(args.out, epochs=args.epochs, sentences=args.sentences, verbose=_verbosity(args),
        log=lambda message: print(message, flush=True))


def build_parser():
    from keras_s2s import __version__

    parser = argparse.ArgumentParser(
        prog="keras-s2s", description="Sequence-to-sequence RNNs with attention for Keras."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_parser(commands)
    _add_evaluate_parser(commands)
    _add_translate_parser(commands)
    _add_export_parser(commands)
    _add_zoo_parser(commands)
    _add_quickstart_parser(commands)
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "translate" and not any(e.startswith("-") for e in extra):
        args.text += extra  # texts after options: `translate BUNDLE --backend onnx "text"`
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from keras_s2s.errors import TrainingError  # without TensorFlow: tflite/onnx stay light
    from keras_s2s.runtime.translator import SourceTruncatedWarning

    show_warning = warnings.showwarning

    def show_our_warnings_plainly(message, category, *rest, **options):
        if issubclass(category, SourceTruncatedWarning):
            _warn(message)
        else:
            show_warning(message, category, *rest, **options)

    warnings.showwarning = show_our_warnings_plainly
    try:
        args.run(args)
    except (ValueError, OSError, ImportError, TrainingError) as e:
        print(f"keras-s2s {args.command}: error: {_missing_full_install(e) or e}",
              file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = show_warning
    return 0


def run():
    """The `keras-s2s` console command: `main()` with the native libraries' log chatter
    filtered out of stderr (`keras_s2s.utils.native_logs`), and the Python stack of
    every thread printed if a native library crashes the process (`faulthandler`)."""
    import faulthandler

    from keras_s2s.utils.native_logs import filtered_stderr

    faulthandler.enable(all_threads=True)
    with filtered_stderr():
        status = main()
    sys.exit(status)


if __name__ == "__main__":
    run()
