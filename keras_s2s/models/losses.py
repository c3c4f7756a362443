"""Loss and metric over target tokens that ignore padding (token id 0)."""

import keras
from keras import ops


def _global_mean_share(token_sum, token_count):
    """This replica's share of the mean token loss of the whole (global) batch.

    On one device that is `token_sum / token_count`. Under `tf.distribute` with several
    replicas, each replica holds part of the batch and the replicas' gradients are
    summed; dividing every replica's sum by the token count of the *global* batch (an
    all-reduce) makes that sum exactly the single-device mean, however the real tokens
    fall between the replicas.
    """
    count = ops.maximum(token_count, 1.0)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            count = ops.maximum(context.all_reduce("sum", token_count), 1.0)
    return token_sum / count


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedSparseCrossentropy(keras.losses.Loss):
    """Mean cross-entropy from logits over the non-padding target tokens of a batch.

    Every real token weighs the same, however the batch is padded: the sum of the token
    losses is divided by the number of real tokens, not by `batch * length`. Under a
    `tf.distribute` strategy, the count is that of the global batch, so training on
    several replicas follows the same loss as on one device.

    Args:
        pad_id: target id that marks padding.
        label_smoothing: spread this much probability mass over the other tokens.
        **kwargs: other `keras.losses.Loss` arguments.
    """

    def __init__(self, pad_id=0, label_smoothing=0.0, name="masked_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_id = pad_id
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, "float32")  # the loss in float32 under mixed precision
        mask = ops.cast(ops.not_equal(y_true, self.pad_id), y_pred.dtype)
        if self.label_smoothing:
            one_hot = ops.one_hot(y_true, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
            token_loss = keras.losses.categorical_crossentropy(
                one_hot, y_pred, from_logits=True, label_smoothing=self.label_smoothing
            )
        else:
            token_loss = keras.losses.sparse_categorical_crossentropy(
                y_true, y_pred, from_logits=True
            )
        # A scalar: Keras' reduction (and its per-replica scaling) leaves it as it is.
        return _global_mean_share(ops.sum(token_loss * mask), ops.sum(mask))

    def get_config(self):
        return {
            **super().get_config(),
            "pad_id": self.pad_id,
            "label_smoothing": self.label_smoothing,
        }


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedAccuracy(keras.metrics.Metric):
    """Share of non-padding target tokens whose arg-max prediction is right."""

    def __init__(self, pad_id=0, name="masked_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_id = pad_id
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        mask = ops.cast(ops.not_equal(y_true, self.pad_id), "float32")
        if sample_weight is not None:
            mask = mask * ops.cast(sample_weight, "float32")
        hits = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true), "float32")
        self.correct.assign_add(ops.sum(hits * mask))
        self.total.assign_add(ops.sum(mask))

    def result(self):
        return self.correct / ops.maximum(self.total, 1.0)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}
