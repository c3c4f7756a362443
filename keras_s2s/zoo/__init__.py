"""The model zoo: named architectures (presets), keras-hub style.

    from keras_s2s.zoo import from_preset, list_presets
    list_presets()                                      # ['bahdanau_bigru', ...]
    model = from_preset("luong_general_lstm", source_vocab_size=60, target_vocab_size=15)
    keras-s2s zoo list / keras-s2s zoo show NAME / keras-s2s train --preset NAME ...
"""

import copy
import difflib

from keras_s2s.zoo.presets import PRESETS


def list_presets():
    """The preset names, sorted."""
    return sorted(PRESETS)


def _entry(name):
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name), PRESETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown preset {name!r}.{hint} Presets: {', '.join(list_presets())}.")
    return PRESETS[name]


def preset_config(name):
    """A copy of the `Seq2Seq` arguments of a preset (vocabulary sizes excluded)."""
    return copy.deepcopy(_entry(name)["config"])


def preset_description(name):
    """One sentence on what the preset is."""
    return _entry(name)["description"]


def from_preset(name, source_vocab_size, target_vocab_size, **overrides):
    """A new, untrained `Seq2Seq` with a preset's architecture.

    Args:
        name: a preset name (`list_presets()`).
        source_vocab_size, target_vocab_size: vocabulary sizes, special tokens included.
        **overrides: `Seq2Seq` arguments that replace the preset's (e.g. `units=256`).
    """
    from keras_s2s.models import Seq2Seq

    config = {**preset_config(name), **overrides}
    return Seq2Seq(source_vocab_size=source_vocab_size, target_vocab_size=target_vocab_size,
                   **config)


__all__ = ["PRESETS", "from_preset", "list_presets", "preset_config", "preset_description"]
