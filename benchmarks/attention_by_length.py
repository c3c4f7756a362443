"""Quality by source length, attention versus none: the seed's claim, as a plot.

Reads what other scripts measured: `benchmarks/results/reverse_attention.json` (one
model per attention score on the reverse task, `benchmarks/reverse_attention.py`) and
the model cards of the zoo's dates models (`keras-s2s zoo build`). Draws exact match by
source length for each attention score, one panel per task, into
`docs/attention-by-length.png`, and writes `benchmarks/results/attention_by_length.json`
and `.md`.

    .venv/bin/python benchmarks/attention_by_length.py
"""

import json
import os

from keras_s2s.plotting import save_figure
from keras_s2s.utils.atomic import write_json, write_text
from keras_s2s.zoo.trained import TRAINED, list_trained, read_card

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
PLOT = os.path.join(ROOT, "docs", "attention-by-length.png")
ORDER = ("none", "dot", "general", "concat", "bahdanau")


def _bucket_start(bucket):
    return int(bucket.split("-")[0])


def _series(by_attention):
    """`{attention: [(bucket, exact match, n), ...]}` sorted by bucket."""
    return {
        attention: sorted(((b, s["exact_match"], s["n"]) for b, s in buckets.items()),
                          key=lambda row: _bucket_start(row[0]))
        for attention, buckets in by_attention.items()
    }


def collect():
    with open(os.path.join(RESULTS, "reverse_attention.json"), encoding="utf-8") as f:
        reverse = json.load(f)
    panels = {"reverse (up to 16 symbols)": _series(
        {r["attention"]: r["by_source_length"] for r in reverse["results"]})}
    dates = {TRAINED[name]["config"]["attention"]: read_card(name)["metrics"]["by_source_length"]
             for name in list_trained() if TRAINED[name].get("task") == "dates"}
    panels["dates (zoo models)"] = _series(dates)
    return panels


def plot(panels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), sharey=True)
    for axis, (title, series) in zip(axes, panels.items()):
        for attention in [a for a in ORDER if a in series]:
            rows = series[attention]
            axis.plot([r[0] for r in rows], [r[1] for r in rows], marker="o",
                      linestyle="--" if attention == "none" else "-", label=attention)
        axis.set_title(title)
        axis.set_xlabel("source length (tokens), equal-count buckets")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("exact match (held-out test)")
    axes[0].legend(title="attention")
    figure.tight_layout()
    save_figure(figure, path)


def main():
    panels = collect()
    plot(panels, PLOT)
    write_json(os.path.join(RESULTS, "attention_by_length.json"), panels)
    lines = []
    for title, series in panels.items():
        buckets = [row[0] for row in next(iter(series.values()))]
        lines += [f"**{title}**: exact match by source length", "",
                  "| attention | " + " | ".join(buckets) + " |",
                  "|---|" + "---:|" * len(buckets)]
        for attention in [a for a in ORDER if a in series]:
            lines.append(f"| {attention} | " + " | ".join(
                f"{row[1]:.3f}" for row in series[attention]) + " |")
        lines.append("")
    write_text(os.path.join(RESULTS, "attention_by_length.md"), "\n".join(lines))
    print("\n".join(lines))
    print(f"Wrote {PLOT}")


if __name__ == "__main__":
    main()
