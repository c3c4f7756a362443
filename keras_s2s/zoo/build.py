"""Builds the zoo's trained models: train, evaluate, write the model card, export.

    keras-s2s zoo build                   # every model of keras_s2s.zoo.trained.TRAINED
    keras-s2s zoo build dates_bahdanau    # one

Each model is trained from its recipe on its built-in task (a fixed seed, so a rebuild
on the same machine reproduces it), evaluated with greedy search on the task's
held-out test split, and written as `saved_models/<name>/` (the model without its
optimizer state, vocabularies, `s2s.json`, `history.json` and the card) and
`export/<name>/` (the bundle, checked against Keras before it is published).
"""

import datetime
import json
import os
import platform
import shutil
import tempfile

from keras_s2s.trained_model import HISTORY_FILE, MODEL_FILE
from keras_s2s.utils.atomic import atomic_directory, write_json, write_text
from keras_s2s.zoo.trained import (
    CARD_FILE,
    CARD_MARKDOWN,
    TRAINED,
    build_root,
    bundle_dir,
    list_trained,
    model_dir,
)

def _machine():
    import keras
    import tensorflow as tf

    return {"machine": platform.machine(), "cpus": os.cpu_count(), "system": platform.system(),
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__}


def _bundle_summary(report):
    from keras_s2s.runtime import Bundle

    bundle = Bundle(report["bundle"], verify=False)
    sizes = bundle.format_bytes()
    checks = sorted(report["checks"].items())
    return {"kib": {fmt: round(size / 1024, 1) for fmt, size in sorted(sizes.items())},
            "beam_size": bundle.meta.get("beam_size"),
            "token_agreement": {key: round(check["token_agreement"], 4)
                                for key, check in checks if "token_agreement" in check},
            "beam_nbest_agreement": {key: round(check["nbest_agreement"], 4)
                                     for key, check in checks if "nbest_agreement" in check}}


def card_markdown(card):
    """The short human-readable card (`README.md` of the model directory)."""
    from keras_s2s.evaluation import sorted_buckets

    metrics, data = card["metrics"], card["data"]
    lines = [
        f"# {card['name']}", "", card["description"], "",
        f"- **Task**: built-in `{data['task']['name']}` ({data['train_size']:,} training, "
        f"{data['dev_size']:,} dev and {data['test_size']:,} held-out test pairs generated "
        f"with seed {data['seed']}; task settings `{json.dumps(data['task'])}`).",
        f"- **Architecture**: `{json.dumps(card['config'], sort_keys=True)}`.",
        f"- **Training**: {card['training']['epochs_completed']} epochs (best dev loss at "
        f"epoch {card['training']['best_epoch']}), {card['training']['train_seconds']} s of "
        f"wall-clock training on {card['machine']['cpus']} CPU cores "
        f"({card['machine']['machine']}), {card['built']}; the time depends on what else "
        "the machine was running.",
        "",
        f"## Held-out test ({metrics['n']:,} pairs, greedy search)", "",
        "| exact match | BLEU | chrF |", "|---:|---:|---:|",
        f"| {metrics['exact_match']:.4f} | {metrics['bleu']:.2f} | {metrics['chrf']:.2f} |", "",
        "By source length (tokens):", "",
        "| length | n | exact match |", "|---|---:|---:|",
    ]
    for bucket, scores in sorted_buckets(metrics["by_source_length"]):
        lines.append(f"| {bucket} | {scores['n']} | {scores['exact_match']:.4f} |")
    if "dates" in metrics:
        lines += _dates_lines(metrics["dates"], data["task"])
    if "bundle" in card:
        kib = card["bundle"]["kib"]
        lines += ["", f"## Bundle `export/{card['name']}`", "",
                  "Sizes (KiB): " + ", ".join(f"{k} {v:,.0f}" for k, v in kib.items()) + ".",
                  "Token agreement with Keras on held-out sources: " + ", ".join(
                      f"{k} {v:.4f}" for k, v in card["bundle"]["token_agreement"].items()) + "."]
        if card["bundle"].get("beam_nbest_agreement"):
            lines.append(
                f"Whole-loop beam graph (beam {card['bundle']['beam_size']}): n-best "
                "lists equal to beam search over the step graph on held-out sources: "
                + ", ".join(f"{k.split('/')[0]} {v:.4f}"
                            for k, v in card["bundle"]["beam_nbest_agreement"].items()) + ".")
    lines += ["", "## Use", "", "```bash",
              f"keras-s2s translate {card['name']} \"{card['example']}\"",
              f"keras-s2s translate {card['name']} --backend onnx \"{card['example']}\"",
              f"keras-s2s evaluate {card['name']}        # reproduces the table above",
              "```", "", f"Rebuild: `keras-s2s zoo build {card['name']}`."]
    return "\n".join(lines) + "\n"


def _dates_lines(found, task):
    from keras_s2s.tasks.dates import DAY_FIRST_TAG

    lines = ["", f"Outputs that are valid calendar dates: {found['valid_dates']:.4f}.", ""]
    if "by_family" in found:
        lines += ["By how the source writes the date (`FAMILIES` and `DAY_FIRST_FAMILIES` of "
                  "`keras_s2s.tasks.dates`):", "",
                  "| family | n | exact match | valid dates |", "|---|---:|---:|---:|"]
        lines += [f"| {family} | {s['n']} | {s['exact_match']:.4f} | {s['valid_dates']:.4f} |"
                  for family, s in found["by_family"].items()]
    lines += ["", "## Known limits", ""]
    if task.get("day_first"):
        lines.append(
            "Numeric slash and dash dates read month first (US) unless the first field is "
            "more than 12; a date written day first whose day and month could be swapped "
            f"(`5/11/2026`) needs the tag `{DAY_FIRST_TAG.strip()}` in front "
            f"(`keras-s2s translate NAME --day-first \"5/11/2026\"`). Dotted dates are day "
            f"first. Trained on years {task['min_year']}-{task['max_year']}: other years, "
            "times and dates in other languages are not handled.")
    else:
        lines.append(
            "Trained before day-first slash and dash dates were part of the task: "
            "`20/11/1950` comes out as an impossible date. Numeric slash and dash dates "
            "are read month first; dotted dates day first.")
    return lines


def _write_card(directory, card):
    write_json(os.path.join(directory, CARD_FILE), card)
    write_text(os.path.join(directory, CARD_MARKDOWN), card_markdown(card))


def build(name, root=None, verbose=2, log=print):
    """Trains, evaluates, documents and exports one zoo model; returns its card."""
    from keras_s2s.evaluation import evaluate
    from keras_s2s.export import export_bundle
    from keras_s2s.tasks import get_task, task_splits
    from keras_s2s.training import train_task

    if name not in TRAINED:
        raise ValueError(f"Unknown zoo model {name!r}: choose from {', '.join(list_trained())}.")
    root = root or build_root()  # never into an installed package's copy
    recipe = TRAINED[name]
    task = get_task(recipe["task"], **recipe["task_options"])
    with tempfile.TemporaryDirectory() as work:
        log(f"== {name}: training ({recipe['epochs']} epochs at most)")
        trained = train_task(task, os.path.join(work, "model"), recipe["config"],
                             epochs=recipe["epochs"], patience=2, tensorboard=False,
                             verbose=verbose, log=log)
        _, _, test_pairs = task_splits(trained.meta["data"])
        log(f"== {name}: evaluating on {len(test_pairs):,} held-out pairs")
        metrics = evaluate(trained, test_pairs)
        training = trained.meta["training"]
        card = {
            "name": name,
            "description": recipe["description"],
            "data": trained.meta["data"],
            "config": recipe["config"],
            "model": trained.meta["model"],
            "tokenizer": trained.meta["tokenizer"],
            "training": {"epochs_completed": training["epochs_completed"],
                         "best_epoch": training["best_epoch"],
                         "train_seconds": training["train_seconds_this_run"],
                         "batch_size": training["batch_size"],
                         "learning_rate": training["learning_rate"]},
            "metrics": {key: metrics[key] for key in
                        ("exact_match", "bleu", "chrf", "n", "decoding", "by_source_length",
                         "bleu_signature", "dates") if key in metrics},
            "example": test_pairs[0][0],
            "machine": _machine(),
            "built": datetime.date.today().isoformat(),
        }
        with atomic_directory(model_dir(name, root)) as tmp:
            # The weights without the optimizer state: a third of the size.
            model = type(trained.model).from_config(trained.model.get_config())
            model.set_weights(trained.model.get_weights())
            model.save(os.path.join(tmp, MODEL_FILE))
            trained.save_files(tmp)
            shutil.copy(os.path.join(work, "model", HISTORY_FILE), os.path.join(tmp, HISTORY_FILE))
            _write_card(tmp, card)
    card = export(name, root, log)
    log(f"== {name}: exact match {metrics['exact_match']:.4f}, BLEU {metrics['bleu']:.2f}")
    return card


def export(name, root=None, log=print):
    """Exports a built zoo model's committed Keras model again into its bundle (after a
    change to the export: same weights, new graphs) and updates the bundle section of its
    card; returns the card."""
    from keras_s2s.export import export_bundle
    from keras_s2s.zoo.trained import read_card

    if name not in TRAINED:
        raise ValueError(f"Unknown zoo model {name!r}: choose from {', '.join(list_trained())}.")
    root = root or build_root()
    card = read_card(name, root)
    log(f"== {name}: exporting to {bundle_dir(name, root)}")
    report = export_bundle(model_dir(name, root), bundle_dir(name, root), log=log)
    card["bundle"] = _bundle_summary(report)
    _write_card(model_dir(name, root), card)
    return card


def zoo_table(root=None):
    """A markdown table of the built zoo models, from their cards."""
    from keras_s2s.zoo.trained import read_card

    lines = ["| model | task | attention | exact match | BLEU | epochs | TFLite KiB | ONNX KiB |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for name in list_trained():
        try:
            card = read_card(name, root)
        except FileNotFoundError:
            continue
        kib = card.get("bundle", {}).get("kib", {})
        lines.append(
            f"| [{name}](saved_models/{name}/README.md) | {card['data']['task']['name']} | "
            f"{card['config']['attention']} | {card['metrics']['exact_match']:.4f} | "
            f"{card['metrics']['bleu']:.2f} | {card['training']['epochs_completed']} | "
            f"{kib.get('tflite', 0):,.0f} | {kib.get('onnx', 0):,.0f} |")
    return "\n".join(lines) + "\n"


def build_all(names=None, root=None, verbose=2, log=print):
    """`build()` for each name (default: every zoo model), then the index
    `saved_models/README.md`; returns the cards."""
    cards = [build(name, root, verbose, log) for name in (names or list_trained())]
    write_index(root)
    return cards


def export_all(names=None, root=None, log=print):
    """`export()` for each name (default: every zoo model), then the index."""
    cards = [export(name, root, log) for name in (names or list_trained())]
    write_index(root)
    return cards


WEB_INDEX = "zoo.json"


def write_index(root=None):
    """`saved_models/README.md`: the table of the built models; and `export/zoo.json`,
    the list the browser demo (`web/`) offers."""
    root = root or build_root()
    write_web_index(root)
    table = zoo_table(root).replace("](saved_models/", "](")
    write_text(os.path.join(os.path.dirname(model_dir(list_trained()[0], root)), "README.md"),
               "# The zoo's trained models\n\nHeld-out test set, greedy search; rebuilt by "
               "`keras-s2s zoo build`. Machine and date: each model's card.\n\n" + table)


def write_web_index(root=None):
    """`export/zoo.json`: for each built model with an ONNX export, its name, task,
    description, an example input and its bundle's directory (relative to the file)."""
    root = root or build_root()
    models = []
    for name in list_trained():
        path = bundle_dir(name, root)
        try:
            with open(os.path.join(path, "bundle.json"), encoding="utf-8") as f:
                formats = json.load(f)["formats"]
            with open(os.path.join(model_dir(name, root), CARD_FILE), encoding="utf-8") as f:
                card = json.load(f)
        except FileNotFoundError:
            continue  # not built here
        if "onnx" in formats:
            models.append({"name": name, "task": TRAINED[name]["task"],
                           "description": card["description"], "example": card["example"],
                           "bundle": f"{name}/"})
    write_json(os.path.join(os.path.dirname(bundle_dir(list_trained()[0], root)), WEB_INDEX),
               {"format": "keras_s2s.zoo_index", "format_version": 1, "models": models})
