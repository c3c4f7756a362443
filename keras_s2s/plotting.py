"""Attention heatmaps (matplotlib, no display needed)."""

import os

import numpy as np

from keras_s2s.utils.atomic import atomic_file


def plot_attention(weights, source_tokens, output_tokens, path, title=None):
    """Writes a heatmap of `(len(output_tokens), len(source_tokens))` attention weights.

    Rows are output tokens, columns source tokens; the PNG is written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not output_tokens:  # an empty output still gets a (blank) picture
        output_tokens, weights = ["(empty output)"], np.zeros((1, len(source_tokens)))
    rows, columns = len(output_tokens), len(source_tokens)
    figure, axes = plt.subplots(
        figsize=(max(3.0, 0.45 * columns + 1.5), max(2.5, 0.4 * rows + 1.5))
    )
    image = axes.imshow(weights[:rows, :columns], cmap="viridis", vmin=0.0, vmax=1.0,
                        aspect="auto")
    labels = [t if t.strip() else "\u2423" for t in source_tokens]  # ␣ for a space
    axes.set_xticks(range(columns), labels, rotation=90)
    axes.set_yticks(range(rows), [t if t.strip() else "\u2423" for t in output_tokens])
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    if title:
        axes.set_title(title if len(title) <= 60 else title[:57] + "...", fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    save_figure(figure, path, dpi=120)


def save_figure(figure, path, dpi=110):
    """Writes a matplotlib figure to `path` atomically (temporary name, then rename) and
    closes it."""
    import matplotlib.pyplot as plt

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        with atomic_file(path, suffix=".png") as tmp:
            figure.savefig(tmp, dpi=dpi)
    finally:
        plt.close(figure)


def plot_hypothesis(translator, text, source_ids, hypothesis, path):
    """Writes the attention of a decoded `hypothesis` of `text` (its source ids given)
    with the translator's token strings; returns False if there is nothing to plot."""
    if hypothesis.attention is None:
        return False
    plot_attention(
        hypothesis.attention[:, : len(source_ids)],
        [translator.source_tokenizer.vocab.tokens[i] for i in source_ids],
        [translator.target_tokenizer.vocab.tokens[i] for i in hypothesis.tokens],
        path,
        title=text,
    )
    return True
