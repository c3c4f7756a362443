"""`keras-s2s quickstart`: the whole pipeline on the built-in dates task, in minutes.

Trains the default model (the `bahdanau_bigru` preset: bidirectional GRU encoder,
Bahdanau attention) to turn dates written every which way into ISO 8601, evaluates it
on held-out dates, draws the attention of an example, exports every format, decodes
examples on every backend, and ends with a table: exact match, size and time per
sentence of each backend. Everything goes under one directory:

    OUT/model/          the trained model directory (keras-s2s train)
    OUT/bundle/         the exported bundle (keras-s2s export)
    OUT/attention.png   the attention of the first example
    OUT/summary.json    the numbers of the final table (also OUT/summary.md)
"""

import os
import statistics
import time

from keras_s2s.cli import command_name, format_rate
from keras_s2s.utils.atomic import write_json, write_text

EXAMPLES = ("Nov. 23rd, 2026", "the 4th of July, 1976", "12/25/99", "MONDAY 3 FEBRUARY 2031")
PRESET = "bahdanau_bigru"
BACKENDS = ("keras", "savedmodel", "tflite", "onnx")


class _Progress:
    """Numbered stage headers with the time since the start."""

    def __init__(self, stages, log):
        self.stages, self.log = stages, log
        self.number, self.started = 0, time.perf_counter()

    def __call__(self, title):
        self.number += 1
        elapsed = time.perf_counter() - self.started
        self.log(f"\n== [{self.number}/{self.stages}] {title}  (at {elapsed:.0f} s)")


def _median_ms(translator, sources):
    """Median milliseconds to decode one sentence alone (greedy), after a warm-up."""
    translator.decode(sources[:3], batch_size=1)
    times = []
    for text in sources:
        start = time.perf_counter()
        translator.decode([text], batch_size=1)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def _table(rows):
    lines = ["| backend | exact match | size (KiB) | ms / sentence |",
             "|---|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['backend']} | {row['exact_match']:.3f} | "
                     f"{row['kib']:,.0f} | {row['ms_per_sentence']:.2f} |")
    return "\n".join(lines)


def run(out="runs/quickstart", epochs=8, sentences=200, overwrite=True, verbose=1, log=print):
    """Runs the quickstart into `out` and returns the summary (also written there).

    Args:
        out: the directory for the model, the bundle, the plot and the summary.
        epochs: training epochs (8 reach exact match 1.0 on this task).
        sentences: held-out dates each backend translates for the table.
        overwrite: replace an earlier quickstart in `out`.
        verbose: Keras progress bars (1) or one line per epoch (2).
    """
    from keras_s2s import runtime
    from keras_s2s.evaluation import evaluate, score
    from keras_s2s.export import export_bundle
    from keras_s2s.plotting import plot_hypothesis
    from keras_s2s.tasks import task_splits
    from keras_s2s.training import train_task
    from keras_s2s.zoo import preset_config

    model_dir, bundle_dir = os.path.join(out, "model"), os.path.join(out, "bundle")
    if os.path.exists(model_dir) and not overwrite:
        raise ValueError(f"{out} holds an earlier quickstart: remove it or allow overwriting.")
    os.makedirs(out, exist_ok=True)
    progress = _Progress(6, log)

    progress(f"Training the {PRESET} preset on the built-in dates task ({epochs} epochs)")
    trained = train_task("dates", model_dir, preset_config(PRESET), epochs=epochs, patience=2,
                         plateau_decay=None, overwrite=True, verbose=verbose, log=log)
    training = trained.meta["training"]
    log(f"Trained in {training['train_seconds_this_run']} s "
        f"({format_rate(training['target_tokens_per_second'])} target tokens/s).")

    progress("Evaluating on 1,000 held-out dates (greedy search)")
    _, _, test_pairs = task_splits(trained.meta["data"])
    result = evaluate(trained, test_pairs)
    log(f"Exact match {result['exact_match']:.4f}, BLEU {result['bleu']:.2f}, "
        f"chrF {result['chrf']:.2f} on n={result['n']}.")

    progress("Translating examples with beam search (4), with an attention plot")
    hypotheses = trained.decode(list(EXAMPLES), beam_size=4)
    for text, output in zip(EXAMPLES, trained.detokenize([h[0].tokens for h in hypotheses])):
        log(f"  {text!r:28} -> {output}")
    plot_path = os.path.join(out, "attention.png")
    source_ids = trained.tokenize_sources([EXAMPLES[0]])[0]
    plot_hypothesis(trained, EXAMPLES[0], source_ids, hypotheses[0][0], plot_path)
    log(f"Wrote {plot_path}")

    progress("Exporting SavedModel, TFLite and ONNX (each checked against Keras)")
    report = export_bundle(model_dir, bundle_dir, log=log)
    log(f"Wrote {bundle_dir} in {report['seconds']} s.")

    progress(f"Decoding {sentences} held-out dates on every backend")
    sample = test_pairs[:sentences]
    sources, references = [s for s, _ in sample], [t for _, t in sample]
    rows, sizes = [], runtime.Bundle(bundle_dir).format_bytes()
    for backend in BACKENDS:
        translator = runtime.load(bundle_dir, backend=backend)
        outputs = translator.translate(sources)
        examples = translator.translate(list(EXAMPLES[:2]))
        rows.append({
            "backend": backend,
            "exact_match": score(outputs, references)["exact_match"],
            "kib": sizes[backend] / 1024,
            "ms_per_sentence": _median_ms(translator, sources[:50]),
        })
        log(f"  {backend:10} {examples[0]}  {examples[1]}")

    progress("Summary")
    table = _table(rows)
    summary = {"model": model_dir, "bundle": bundle_dir, "attention_plot": plot_path,
               "evaluation": {k: result[k] for k in ("exact_match", "bleu", "chrf", "n")},
               "training": training, "backends": rows,
               "notes": ("exact match on the first held-out dates; size of the files the "
                         "backend needs; median time to decode one sentence alone (greedy, "
                         "step by step) on this machine")}
    write_json(os.path.join(out, "summary.json"), summary)
    write_text(os.path.join(out, "summary.md"), table + "\n")
    log(table)
    log(f"\nNext: {command_name()} translate {bundle_dir} --backend onnx \"Nov. 23rd, 2026\"")
    return summary
