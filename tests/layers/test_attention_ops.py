"""Which TensorFlow ops one attention step becomes, in training and in inference.

Inference (the graphs exported to SavedModel, TFLite and ONNX) writes one step's
products as batched matmuls: each converts to one op without a transpose. Training
must not run them: TensorFlow 2.21's oneDNN batched matmul corrupted the heap on these
size-1 shapes or their gradients (see `Attention.call`)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.layers import Attention
from keras_s2s.layers.attention import SCORES


def step_ops(layer, training):
    """The op types of one step (a 2-D query) and of its gradients."""
    query = tf.constant(np.ones((4, 6), "float32"))
    values = tf.constant(np.ones((4, 5, 6), "float32"))
    mask = tf.constant(np.ones((4, 5), "float32"))
    layer(query, values)  # build

    @tf.function
    def step_and_gradients(query, values):
        with tf.GradientTape() as tape:
            tape.watch([query, values])
            context, _ = layer(query, values, mask=mask, training=training)
            loss = tf.reduce_sum(context ** 2)
        return tape.gradient(loss, [query, values] + layer.trainable_weights)

    graph = step_and_gradients.get_concrete_function(query, values).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("score", SCORES)
def test_training_runs_no_batched_matmul(score):
    ops = step_ops(Attention(score), training=True)
    assert not {op for op in ops if op.startswith("BatchMatMul")}, sorted(ops)
    assert "Einsum" in ops


@pytest.mark.parametrize("score", SCORES)
def test_inference_step_context_is_a_batched_matmul(score):
    ops = step_ops(Attention(score), training=False)
    assert {op for op in ops if op.startswith("BatchMatMul")}, sorted(ops)
