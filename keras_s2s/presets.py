"""Presets: a model shared as a folder, or named from the zoo.

A preset directory is a model directory (what `keras-s2s train --out DIR` writes): the
`Seq2Seq` with its config and weights (`model.keras`), the two vocabularies and
`s2s.json` (tokenizer settings, data provenance, decoding limits). A preset is named by:
- a path to such a directory;
- the name of a trained zoo model (`keras-s2s zoo list`), e.g. `"spa_eng"`;
- the name of a zoo architecture (`keras_s2s.zoo.list_presets()`), e.g.
  `"bahdanau_gru"`: an untrained model of that architecture, for which the vocabulary
  sizes must be given.

`Seq2Seq.from_preset()` and `TrainedModel.from_preset()` load one;
`save_to_preset()` on either writes one (atomically: a folder is replaced whole or not
at all).
"""

import difflib
import os

from keras_s2s.model_files import META_FILE, MODEL_FILE


def preset_directory(preset):
    """The model directory a preset (path or trained zoo name) stands for; raises with
    the choices when it is neither."""
    from keras_s2s.zoo import list_presets
    from keras_s2s.zoo.trained import TRAINED, resolve

    preset = os.fspath(preset)
    if os.path.isdir(preset):
        missing = [f for f in (META_FILE, MODEL_FILE) if not os.path.isfile(os.path.join(preset, f))]
        if missing:
            raise FileNotFoundError(
                f"{preset} is not a preset directory: it lacks {', '.join(missing)}. A preset "
                "is what save_to_preset() or `keras-s2s train --out DIR` writes.")
        return preset
    if preset in TRAINED:
        return resolve(preset, backend="keras")
    names = sorted(TRAINED) + list_presets()
    close = difflib.get_close_matches(preset, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise FileNotFoundError(
        f"{preset!r} is neither a preset directory nor a zoo name.{hint} Trained models: "
        f"{', '.join(sorted(TRAINED))}; architectures: {', '.join(list_presets())}.")


def save_preset(trained, directory):
    """Writes a `TrainedModel` as a preset directory, replacing `directory` whole."""
    from keras_s2s.utils.atomic import atomic_directory

    with atomic_directory(os.fspath(directory)) as tmp:
        trained.model.save(os.path.join(tmp, MODEL_FILE))
        trained.save_files(tmp)
    return directory
