"""Packaging beyond pyproject.toml: the zoo's device files travel with the package.

Every install (`pip install keras_s2s[runtime]` included) carries, under
`<prefix>/share/keras_s2s/`, what a device needs of each zoo model: its model card
(`saved_models/<name>/card.json`, `README.md`) and the TFLite and ONNX files of its
bundle (`export/<name>/`: `bundle.json`, the tokenizer files, `*.tflite`, `*.onnx`), so zoo
names resolve without the repository and without TensorFlow
(`keras_s2s.zoo.trained.zoo_roots`). The Keras model and the SavedModel stay in the
repository.
"""

import glob
import os

from setuptools import setup

SHARE = "share/keras_s2s"
DEVICE_FILES = {"export": ("bundle.json", "tokenizer*.json", "*.txt", "*.tflite", "*.onnx"),
                "saved_models": ("card.json", "README.md")}


def zoo_data_files():
    """`(target directory, [files])` for every zoo model found in export/."""
    here = os.path.dirname(os.path.abspath(__file__))
    names = sorted(os.path.basename(os.path.dirname(path)) for path in
                   glob.glob(os.path.join(here, "export", "*", "bundle.json")))
    entries = []
    for name in names:
        for folder, patterns in DEVICE_FILES.items():
            files = sorted(os.path.relpath(path, here) for pattern in patterns
                           for path in glob.glob(os.path.join(here, folder, name, pattern)))
            if files:
                entries.append((f"{SHARE}/{folder}/{name}", files))
    return entries


setup(data_files=zoo_data_files())
