"""Training on another Keras backend.

The layer and model tests marked `every_backend` run a second time on JAX
(`scripts/test.sh` runs `KERAS_BACKEND=jax pytest -m every_backend` after the main
run). This module checks the hand-over: a model trained on JAX, in a process of its own,
loads on TensorFlow from its `.keras` file, translates the same, and exports as today
(the export stays on TensorFlow).
"""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("jax", reason="the JAX backend is not installed (pip install '.[jax]')")

# Words of five symbols: every batch has one shape, so JAX compiles the training step
# once (a new padded length would compile it again).
JAX_TRAINING = """
import json, sys
import keras
import numpy as np
from keras_s2s.training import train

rng = np.random.default_rng(0)
words = [" ".join(rng.choice(list("abcdefgh"), size=5)) for _ in range(1056)]
pairs = [(word, " ".join(reversed(word.split()))) for word in words]
trained = train(pairs[:1024], pairs[1024:], sys.argv[1],
                {"units": 32, "embedding_dim": 16, "attention": "dot"},
                epochs=12, batch_size=32, learning_rate=1e-2, tensorboard=False, verbose=0,
                log=lambda *a: None)
sources = [source for source, _ in pairs[1024:]]
print(json.dumps({"backend": keras.backend.backend(), "sources": sources,
                  "references": [target for _, target in pairs[1024:]],
                  "translations": trained.translate(sources)}))
"""


@pytest.fixture(scope="module")
def jax_trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("jax") / "model"
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-c", JAX_TRAINING, str(out)], env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return out, json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_model_trained_on_jax_loads_translates_and_exports_on_tensorflow(jax_trained,
                                                                           tmp_path):
    import keras

    from keras_s2s import runtime
    from keras_s2s.export import export_bundle
    from keras_s2s.trained_model import TrainedModel

    out, result = jax_trained
    assert result["backend"] == "jax"
    assert keras.backend.backend() == "tensorflow"
    # It learnt: most reversed words are right.
    right = [t == r for t, r in zip(result["translations"], result["references"])]
    assert sum(right) / len(right) > 0.8

    trained = TrainedModel.load(out)
    assert trained.translate(result["sources"]) == result["translations"]
    export_bundle(out, tmp_path / "bundle", formats=["tflite", "onnx"], log=lambda *a: None)
    for backend in ("tflite", "onnx"):
        translator = runtime.load(tmp_path / "bundle", backend=backend)
        assert translator.translate(result["sources"]) == result["translations"], backend
