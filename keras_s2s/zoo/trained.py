"""The zoo's trained models: recipes, where they live, and names in place of paths.

Each trained model is a model directory `saved_models/<name>/` (with its model card,
`card.json` and `README.md`) and a bundle `export/<name>/`, both committed to the
repository and rebuilt by `keras-s2s zoo build` (`keras_s2s.zoo.build`). Commands that
take a MODEL take a zoo name too: `keras-s2s translate dates_bahdanau "Nov. 23rd, 2026"`.
This module imports no TensorFlow.
"""

import difflib
import json
import os

# The repository holding saved_models/ and export/; KERAS_S2S_ZOO points elsewhere.
ZOO_ROOT = os.environ.get(
    "KERAS_S2S_ZOO",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
)
CARD_FILE = "card.json"
CARD_MARKDOWN = "README.md"

_DATES = {"task": "dates", "task_options": {}, "epochs": 8,
          "base": {"cell": "gru", "bidirectional": True, "units": 64, "embedding_dim": 32,
                   "bridge": "dense"}}
_REVERSE = {"task": "reverse", "task_options": {"num_symbols": 16, "max_length": 16},
            "epochs": 8,
            "base": {"cell": "gru", "bidirectional": True, "units": 64, "embedding_dim": 32,
                     "bridge": "dense"}}


def _recipe(base, attention, description):
    placement = "bahdanau" if attention == "bahdanau" else "luong"
    config = {**base["base"], "attention": attention}
    if attention != "none":
        config["attention_placement"] = placement
    return {"task": base["task"], "task_options": base["task_options"],
            "epochs": base["epochs"], "config": config, "description": description}


TRAINED = {
    "dates_none": _recipe(_DATES, "none", "Dates to ISO 8601 without attention: the "
                          "bottleneck baseline."),
    "dates_dot": _recipe(_DATES, "dot", "Dates to ISO 8601 with Luong dot attention."),
    "dates_general": _recipe(_DATES, "general", "Dates to ISO 8601 with Luong general "
                             "(bilinear) attention."),
    "dates_concat": _recipe(_DATES, "concat", "Dates to ISO 8601 with Luong concat attention."),
    "dates_bahdanau": _recipe(_DATES, "bahdanau", "Dates to ISO 8601 with Bahdanau (additive) "
                              "attention: the quickstart's model."),
    "reverse_none": _recipe(_REVERSE, "none", "Reverse a sequence of up to 16 symbols without "
                            "attention: fails on long sequences."),
    "reverse_bahdanau": _recipe(_REVERSE, "bahdanau", "Reverse a sequence of up to 16 symbols "
                                "with Bahdanau attention."),
}


def list_trained():
    """Names of the zoo's trained models, sorted."""
    return sorted(TRAINED)


def model_dir(name, root=None):
    """`saved_models/<name>` of a zoo model."""
    return os.path.join(root or ZOO_ROOT, "saved_models", name)


def bundle_dir(name, root=None):
    """`export/<name>` of a zoo model."""
    return os.path.join(root or ZOO_ROOT, "export", name)


def read_card(name, root=None):
    """The model card (`card.json`) of a trained zoo model."""
    path = os.path.join(model_dir(name, root), CARD_FILE)
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
    path = model_dir(model) if backend in (None, "keras") else bundle_dir(model)
    if not os.path.exists(path):
        raise FileNotFoundError(f"The zoo model {model} is not built at {path}: run "
                                f"`keras-s2s zoo build {model}`.")
    return path
