"""Real corpora known by name, read from a data folder outside the repository.

    keras-s2s train --corpus spa-eng --preset nmt_tutorial

A model trained on a named corpus records `{"corpus": "spa-eng"}`, not file paths, so
its test split is found again on another machine (`keras-s2s evaluate`). The data folder
is `$KERAS_S2S_DATA`, else `../shared/data` beside the checkout; nothing is downloaded.
"""

import os

# The checkout this package runs from (`<root>/keras_s2s/data/named.py`).
_CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_ENV = "KERAS_S2S_DATA"


def _tsv(source_column, target_column):
    return {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv",
            "source_column": source_column, "target_column": target_column}


CORPORA = {
    "spa-eng": {
        "title": "Tatoeba Spanish-English (the TensorFlow NMT tutorial's data), Spanish -> "
                 "English, a fixed 114,964 / 2,000 / 2,000 split",
        "license": "CC-BY 2.0 (France); attribution: www.manythings.org/anki and tatoeba.org",
        "files": _tsv(1, 0),
    },
    "multi30k": {
        "title": "Multi30k German -> English (image descriptions), test split test_2016_flickr",
        "license": "research and non-commercial use only (the Flickr30k terms)",
        "files": {f"{split}_{side}": f"{stem}.{lang}"
                  for split, stem in (("train", "train"), ("dev", "val"),
                                      ("test", "test_2016_flickr"))
                  for side, lang in (("source", "de"), ("target", "en"))},
    },
    "cmudict": {
        "title": "CMU Pronouncing Dictionary, English word -> ARPAbet phonemes, split by word",
        "license": "BSD-style (Copyright 1993-2015 Carnegie Mellon University)",
        "files": _tsv(0, 1),
    },
}


def data_root():
    """The folder that holds the corpora (one sub-folder per name)."""
    return os.environ.get(DATA_ENV) or os.path.join(os.path.dirname(_CHECKOUT), "shared", "data")


def corpus_dir(name):
    """The folder of a named corpus; a clear error when it is unknown or absent."""
    if name not in CORPORA:
        raise ValueError(f"Unknown corpus {name!r}: choose from {', '.join(sorted(CORPORA))}.")
    path = os.path.join(data_root(), name)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"The {name} corpus is not at {path}: set {DATA_ENV} to the folder that holds "
            f"{name}/ (this project never downloads data).")
    return path


def corpus_files(name):
    """The file description (`keras_s2s.data.recorded.file_split`) of a named corpus."""
    directory = corpus_dir(name)
    return {key: (os.path.join(directory, value) if isinstance(value, str) else value)
            for key, value in CORPORA[name]["files"].items()}
