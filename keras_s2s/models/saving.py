"""Loading a saved `Seq2Seq` (a `.keras` file) with errors that name the file."""

import os

import keras


def load_keras_model(path):
    """`keras.saving.load_model` with an error that names the file.

    Importing `keras_s2s.models` registers the classes a `model.keras` names, so any
    keras_s2s model loads.
    """
    import keras_s2s.models  # noqa: F401  (registers the serializable classes)

    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist.")
    try:
        return keras.saving.load_model(path)
    except Exception as e:  # Keras raises many types for damaged files
        raise ValueError(f"{path} cannot be loaded as a Keras model ({type(e).__name__}: {e}).") from None
