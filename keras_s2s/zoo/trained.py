"""The zoo's trained models: recipes, where they live, and names in place of paths.

Each trained model is a model directory `saved_models/<name>/` (with its model card,
`card.json` and `README.md`) and a bundle `export/<name>/`, both committed to the
repository and rebuilt by `keras-s2s zoo build` (`keras_s2s.zoo.build`). Commands that
take a MODEL take a zoo name too: `keras-s2s translate dates_bahdanau "Nov. 23rd, 2026"`.
This module imports no TensorFlow.
"""

import difflib
import functools
import json
import os

from keras_s2s.model_files import META_FILE
from keras_s2s.runtime.bundle import BUNDLE_FILE

# The repository this package sits in, when it runs from a checkout (or an editable
# install): its saved_models/ and export/ hold the whole zoo.
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where an installed package keeps the zoo's cards and device files (setup.py).
SHARE = "share/keras_s2s"


@functools.lru_cache(maxsize=None)
def _installed_root():
    """`<prefix>/share/keras_s2s` of the installed distribution, or None (read from its
    RECORD once per process)."""
    from importlib import metadata

    try:
        distribution = metadata.distribution("keras_s2s")
    except metadata.PackageNotFoundError:
        return None
    for path in distribution.files or []:  # relative to site-packages: ../../../share/...
        parts = path.parts
        for i in range(len(parts) - 1):
            if parts[i:i + 2] == ("share", "keras_s2s"):
                return os.path.normpath(distribution.locate_file(os.path.join(*parts[:i + 2])))
    return None


def zoo_roots():
    """The directories searched for zoo models, first match wins: `$KERAS_S2S_ZOO`
    (a list like PATH), the checkout, and the installed package's data."""
    roots = [root for root in os.environ.get("KERAS_S2S_ZOO", "").split(os.pathsep) if root]
    roots.append(CHECKOUT)
    installed = _installed_root()
    if installed:
        roots.append(installed)
    return roots


def build_root():
    """Where `keras-s2s zoo build` writes: the first of `zoo_roots()`."""
    return zoo_roots()[0]


def _find(folder, name, marker=None):
    """The first `<root>/<folder>/<name>` that exists (and holds the file `marker`, if
    given), else the one in the first root."""
    candidates = [os.path.join(root, folder, name) for root in zoo_roots()]
    return next((path for path in candidates if os.path.exists(
        os.path.join(path, marker) if marker else path)), candidates[0])


CARD_FILE = "card.json"
CARD_MARKDOWN = "README.md"

_DATES = {"task": "dates", "task_options": {}, "epochs": 20,
          "base": {"cell": "gru", "bidirectional": True, "units": 64, "embedding_dim": 32,
                   "bridge": "dense"}}
_REVERSE = {"task": "reverse", "task_options": {"num_symbols": 16, "max_length": 16},
            "epochs": 8,
            "base": {"cell": "gru", "bidirectional": True, "units": 64, "embedding_dim": 32,
                     "bridge": "dense"}}


# The device formats with the whole-loop graphs; the Keras model is in saved_models/
# and `keras-s2s export NAME` writes the SavedModel.
_DEVICE_FORMATS = {"formats": ["tflite", "onnx"]}
# The step graphs only: the repository holds the whole zoo within 100 MB, and the
# whole-loop graphs of the small models are shown by dates_bahdanau and reverse_bahdanau.
_STEP_FORMATS = {"formats": ["tflite", "onnx"], "whole_loop": False}


def _recipe(base, attention, description, export=None):
    placement = "bahdanau" if attention == "bahdanau" else "luong"
    config = {**base["base"], "attention": attention}
    if attention != "none":
        config["attention_placement"] = placement
    return {"task": base["task"], "task_options": base["task_options"],
            "train": {"epochs": base["epochs"], "patience": 2, "plateau_decay": None},
            "config": config,
            "description": description, "export": export or _DEVICE_FORMATS,
            # The baseline each model is read against: the same task without attention.
            "anchor": {"model": f"{base['task']}_none"} if attention != "none" else None}


# A recipe is either a built-in `task` (with `task_options`) or a named `corpus`
# (`keras_s2s.data.named`); `train` holds the arguments of `keras_s2s.training.train`,
# `export` those of `keras_s2s.export.export_bundle` (default: every format), `anchor`
# what the card compares the model with.
TRAINED = {
    "dates_none": _recipe(_DATES, "none", "Dates to ISO 8601 without attention: the "
                          "bottleneck baseline.", export=_STEP_FORMATS),
    "dates_dot": _recipe(_DATES, "dot", "Dates to ISO 8601 with Luong dot attention.",
                         export=_STEP_FORMATS),
    "dates_general": _recipe(_DATES, "general", "Dates to ISO 8601 with Luong general "
                             "(bilinear) attention.", export=_STEP_FORMATS),
    "dates_concat": _recipe(_DATES, "concat", "Dates to ISO 8601 with Luong concat attention.",
                            export=_STEP_FORMATS),
    # The reference bundle of the tests, the demo and the docs: every format.
    "dates_bahdanau": _recipe(_DATES, "bahdanau", "Dates to ISO 8601 with Bahdanau (additive) "
                              "attention: the quickstart's model.",
                              export={"formats": ["keras", "savedmodel", "tflite", "onnx"]}),
    "reverse_none": _recipe(_REVERSE, "none", "Reverse a sequence of up to 16 symbols without "
                            "attention: fails on long sequences.", export=_STEP_FORMATS),
    "reverse_bahdanau": _recipe(_REVERSE, "bahdanau", "Reverse a sequence of up to 16 symbols "
                                "with Bahdanau attention."),
    "spa_eng": {
        "corpus": "spa-eng",
        "description": "Spanish -> English translation of everyday sentences (Tatoeba): "
                       "the TensorFlow NMT tutorial's size, a bidirectional GRU encoder of "
                       "256 units and a 256-unit GRU decoder with additive attention after "
                       "its RNN, 5,000-word vocabularies, dropout 0.2.",
        "config": {"cell": "gru", "units": 256, "embedding_dim": 256, "bidirectional": True,
                   "attention": "bahdanau", "attention_placement": "luong",
                   "decoder_units": 256, "dropout": 0.2},
        "train": {"source_level": "word", "target_level": "word", "source_vocab_size": 5000,
                  "target_vocab_size": 5000, "epochs": 60, "batch_size": 64,
                  "learning_rate": 1e-3, "patience": 3, "plateau_decay": 0.5,
                  "max_minutes": 85},
        # 5.5 M parameters: the Keras model in float32; the device files with float16
        # weights and float32 arithmetic (99.85% of the greedy tokens of 500 test
        # sentences as Keras, on the card; 8-bit weights agreed on 99.2% with ONNX
        # Runtime and 99.5% with LiteRT on 300) and only the step graphs (the
        # whole-loop graphs would each repeat the weights).
        "export": {"formats": ["tflite", "onnx"], "quantize": "float16", "whole_loop": False,
                   "check_size": 500},
        "beam_size": 4,
        "anchor": {"text": "the same architecture after 25 minutes of training "
                           "(`benchmarks/translation_bleu.py`, this machine): BLEU 41.4 "
                           "greedy, 43.3 beam 4",
                   "bleu": {"greedy": 41.4, "beam4": 43.3}},
    },
    "cmudict_g2p": {
        "corpus": "cmudict",
        "description": "English grapheme-to-phoneme: a word's letters in, its ARPAbet "
                       "pronunciation with stress out (CMU Pronouncing Dictionary); "
                       "two bidirectional GRU layers of 256 units over characters, a "
                       "256-unit GRU decoder with additive attention after its RNN, "
                       "dropout 0.3.",
        "config": {"cell": "gru", "units": 256, "embedding_dim": 64, "bidirectional": True,
                   "encoder_layers": 2, "attention": "bahdanau",
                   "attention_placement": "luong", "decoder_units": 256, "dropout": 0.3},
        "train": {"source_level": "char", "target_level": "word", "source_lowercase": True,
                  "target_lowercase": False, "source_vocab_size": 100,
                  "target_vocab_size": 100, "epochs": 60, "batch_size": 64,
                  "learning_rate": 1e-3, "patience": 3, "plateau_decay": 0.5,
                  "max_minutes": 85},
        "export": {"formats": ["tflite", "onnx"], "quantize": "float16", "whole_loop": False,
                   "check_size": 500},
        "beam_size": 4,
        "anchor": {"text": "on a random split of the same dictionary (other words, so a "
                           "ratio rather than equal footing), Phonetisaurus 33.9% and a "
                           "2-layer Transformer about 31% word error rate without stress, as "
                           "the data's README reports from cmusphinx g2p-seq2seq (not "
                           "measured here)",
                   "wer_no_stress": {"Phonetisaurus": 0.339, "Transformer": 0.31}},
    },
}


def data_name(recipe):
    """The task or corpus name of a recipe (`dates`, `spa-eng`)."""
    return recipe.get("corpus") or recipe["task"]


def headline(card):
    """A card's main score in a few words (`exact match 0.9980`, `BLEU 44.10, beam 4
    46.20`)."""
    metrics = card["metrics"]
    if "task" in card["data"]:
        return f"exact match {metrics['exact_match']:.4f}"
    if "wer" in metrics:
        text = f"WER {metrics['wer_no_stress']:.2%} without stress"
        if "beam" in metrics:
            text += f", beam {metrics['beam']['wer_no_stress']:.2%}"
        return text
    text = f"BLEU {metrics['bleu']:.2f}"
    if "beam" in metrics:
        text += f", {metrics['beam']['decoding'].replace('beam', 'beam ')} {metrics['beam']['bleu']:.2f}"
    return text


def held_out_pairs(card):
    """The held-out `(source, target)` pairs a card's metrics were measured on."""
    from keras_s2s.data.recorded import recorded_split

    return recorded_split(card["data"], "test")


def list_trained():
    """Names of the zoo's trained models, sorted."""
    return sorted(TRAINED)


def model_dir(name, root=None, marker=None):
    """`saved_models/<name>` of a zoo model (in `root`, else the first that `zoo_roots`
    has, holding `marker` if given: an installed package has only the cards there)."""
    if root:
        return os.path.join(root, "saved_models", name)
    return _find("saved_models", name, marker)


def bundle_dir(name, root=None):
    """`export/<name>` of a zoo model (in `root`, else where `zoo_roots` finds it)."""
    return os.path.join(root, "export", name) if root else _find("export", name, BUNDLE_FILE)


def read_card(name, root=None):
    """The model card (`card.json`) of a trained zoo model."""
    path = os.path.join(model_dir(name, root, CARD_FILE), CARD_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: build it with `keras-s2s zoo build {name}`.")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def resolve(model, backend=None):
    """The path a MODEL argument stands for: itself if it exists, else the zoo model of
    that name (its model directory for Keras, its bundle for the other backends)."""
    if os.path.exists(model) or model not in TRAINED:
        if not os.path.exists(model) and os.sep not in model:
            close = difflib.get_close_matches(model, TRAINED, n=1)
            if close:
                raise FileNotFoundError(f"{model} is neither a path nor a zoo model: did you "
                                        f"mean {close[0]!r}? (keras-s2s zoo list)")
        return model
    if backend in (None, "keras"):
        path = model_dir(model, marker=META_FILE)
        if not os.path.isfile(os.path.join(path, META_FILE)) and os.path.isfile(
                os.path.join(bundle_dir(model), BUNDLE_FILE)):
            raise FileNotFoundError(
                f"The zoo model {model} has no Keras model in this install (an installed "
                "package carries its TFLite and ONNX files): use --backend tflite or "
                "--backend onnx, or run from a clone of the repository.")
    else:
        path = bundle_dir(model)
    if not os.path.exists(path):
        raise FileNotFoundError(f"The zoo model {model} is not built at {path}: run "
                                f"`keras-s2s zoo build {model}`.")
    return path
