"""Reading the source backwards, with and without attention: the seed's last claim.

Sutskever et al. (2014) found that a plain encoder-decoder (no attention) learns better
when it reads the source in reverse: the first target words then sit close to the first
source words. This trains the same unidirectional LSTM with and without
`reverse_source`, with no attention and with Bahdanau attention, on built-in tasks (copy,
where the target keeps the source's order; reverse, where it runs the other way; dates)
or, with `--corpus spa-eng`, on real data for a fixed number of epochs (`--epochs`, so that
the result does not depend on what else the machine runs) or a time budget (`--minutes`),
and scores greedy search on the held-out test split by source length. It writes
`benchmarks/results/reverse_source.json` and `.md` (`--name` for another name) after
every model, so a stopped run keeps what it measured; with `--models-dir` a corpus run
keeps its models there, and running it again reuses the finished ones and resumes the
others from their last checkpoint.

    .venv/bin/python benchmarks/reverse_source.py                # copy, reverse and dates
    .venv/bin/python benchmarks/reverse_source.py --corpus spa-eng --epochs 5 \\
        --models-dir runs/reverse_source_spa_eng --name reverse_source_spa_eng

Tasks train with the CLI's defaults (to convergence: early stopping with patience 3, the
learning rate halved after an epoch without a better dev loss, at most 50 epochs).
"""

import argparse
import os
import platform
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_s2s.evaluation import evaluate  # noqa: E402
from keras_s2s.tasks import get_task, task_splits  # noqa: E402
from keras_s2s.model_files import META_FILE, MODEL_FILE  # noqa: E402
from keras_s2s.training import train, train_task  # noqa: E402
from keras_s2s.utils.atomic import write_json, write_text  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
TASKS = {"copy": {"num_symbols": 16, "min_length": 1, "max_length": 16},
         "reverse": {"num_symbols": 16, "min_length": 1, "max_length": 16}, "dates": {}}
CONVERGENCE = {"epochs": 50, "patience": 3, "plateau_decay": 0.5, "learning_rate": 3e-3}


def _config(attention, reverse_source, units):
    config = {"cell": "lstm", "units": units, "embedding_dim": units // 2,
              "attention": attention, "reverse_source": reverse_source, "bridge": "copy"}
    if attention == "bahdanau":
        config["attention_placement"] = "bahdanau"
    return config


def _run_task(name, config, seed, out):
    task = get_task(name, **TASKS[name])
    trained = train_task(task, out, config, seed=seed, verbose=0, tensorboard=False,
                         log=lambda message: None, **CONVERGENCE)
    return trained, task_splits(trained.meta["data"])[2]


def _run_corpus(corpus, config, seed, out, epochs, minutes):
    from keras_s2s.data.recorded import recorded_split
    from keras_s2s.trained_model import TrainedModel

    description = {"corpus": corpus}
    if os.path.exists(os.path.join(out, MODEL_FILE)):  # trained to the end by an earlier run
        return TrainedModel.load(out), recorded_split(description, "test")
    resume = os.path.exists(os.path.join(out, META_FILE))
    trained = train(recorded_split(description, "train"), recorded_split(description, "dev"),
                    out, config, resume=resume, overwrite=not resume,
                    source_vocab_size=5000, target_vocab_size=5000,
                    epochs=epochs or 1000, batch_size=64, learning_rate=1e-3, patience=3,
                    plateau_decay=0.5, max_minutes=None if epochs else minutes, seed=seed,
                    data_description=description, verbose=0, tensorboard=False,
                    log=lambda message: None)
    return trained, recorded_split(description, "test")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--corpus", help="a named corpus instead of the tasks (spa-eng)")
    parser.add_argument("--epochs", type=int,
                        help="with --corpus: train each model for this many epochs (the best "
                             "dev loss is kept; no time budget)")
    parser.add_argument("--minutes", type=float, default=15.0,
                        help="with --corpus and no --epochs: training time per model")
    parser.add_argument("--units", type=int, help="default 64 (tasks), 256 (corpus)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--attention", nargs="+", default=["none", "bahdanau"])
    parser.add_argument("--name", default="reverse_source")
    parser.add_argument("--models-dir",
                        help="with --corpus: keep the trained models here (default: a "
                             "temporary directory); a later run with the same directory "
                             "reuses the models trained to the end and resumes the others "
                             "from their last checkpoint")
    args = parser.parse_args()
    units = args.units or (256 if args.corpus else 64)
    datasets = [args.corpus] if args.corpus else args.tasks
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        models = args.models_dir if args.corpus and args.models_dir else tmp
        for data in datasets:
            for attention in args.attention:
                for reverse_source in (False, True):
                    for seed in args.seeds:
                        config = _config(attention, reverse_source, units)
                        out = os.path.join(models, f"{data}-{attention}-{reverse_source}-{seed}")
                        if args.corpus:
                            trained, test = _run_corpus(data, config, seed, out, args.epochs,
                                                       args.minutes)
                        else:
                            trained, test = _run_task(data, config, seed, out)
                        result = evaluate(trained, test)
                        training = trained.meta["training"]
                        rows.append({"data": data, "attention": attention,
                                     "reverse_source": reverse_source, "seed": seed,
                                     "config": config,
                                     "epochs": training["epochs_completed"],
                                     "train_seconds": training["train_seconds_this_run"],
                                     **{k: result[k] for k in ("exact_match", "bleu", "n",
                                                               "by_source_length")}})
                        print(data, attention, reverse_source, seed, result["exact_match"],
                              result["bleu"], flush=True)
                        # After every model, so a long run that is stopped keeps its rows.
                        write_report(args, rows)
    print(markdown(rows))


def write_report(args, rows):
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
                         f"{platform.python_version()}",
              "load_average_at_end": os.getloadavg(), "training": CONVERGENCE
              if not args.corpus else ({"epochs": args.epochs} if args.epochs
                                       else {"minutes": args.minutes}), "results": rows}
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, f"{args.name}.json"), report)
    write_text(os.path.join(RESULTS, f"{args.name}.md"), markdown(rows))


def markdown(rows):
    """One table per dataset: exact match (BLEU for a corpus) overall and by source
    length, a row per attention and reading direction (the mean over seeds)."""
    from keras_s2s.evaluation import sorted_buckets

    lines = []
    for data in dict.fromkeys(row["data"] for row in rows):
        mine = [row for row in rows if row["data"] == data]
        metric = "exact_match" if data in TASKS else "bleu"
        buckets = [b for b, _ in sorted_buckets(mine[0]["by_source_length"])]
        lines += [f"**{data}**: {metric.replace('_', ' ')} by source length (tokens), greedy, "
                  f"mean of {len({r['seed'] for r in mine})} seed(s)", "",
                  "| attention | source read | overall | " + " | ".join(buckets)
                  + " | epochs |", "|---|---|---:|" + "---:|" * len(buckets) + "---:|"]
        for attention in dict.fromkeys(row["attention"] for row in mine):
            for reverse_source in (False, True):
                group = [r for r in mine
                         if r["attention"] == attention and r["reverse_source"] == reverse_source]
                if not group:
                    continue

                def mean(values):
                    return sum(values) / len(values)

                digits = 3 if metric == "exact_match" else 1
                cells = [f"{mean([r['by_source_length'][b][metric] for r in group]):.{digits}f}"
                         for b in buckets]
                lines.append(
                    f"| {attention} | {'backwards' if reverse_source else 'forwards'} | "
                    f"{mean([r[metric] for r in group]):.{digits}f} | " + " | ".join(cells)
                    + f" | {mean([r['epochs'] for r in group]):.0f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
