"""Adam whose gradient clipping means the same on one device and on many."""

import keras


@keras.saving.register_keras_serializable(package="keras_s2s")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` that clips the gradient of the whole (global) batch.

    Under a `tf.distribute` strategy, Keras clips each replica's share of the gradient
    before the replicas' gradients are summed, so `clipnorm` bounds something else than
    on one device and training diverges from a single-device run as soon as clipping
    acts. Here the replicas' gradients are summed first, clipped, and each replica
    passes on `1 / replicas` of the clipped sum, so the sum Keras then takes is the
    clipped global gradient, exactly as on one device. It costs one more all-reduce per
    step, and only when clipping is on and there are several replicas.

    The sparse gradient of an embedding is made dense before clipping, on one device
    too: its norm is then that of the gradient itself, whereas the sparse form counts a
    token that occurs twice in the batch as two slices, and so depends on how the batch
    is split.
    """

    def _clip_gradients(self, grads):
        if not (self.clipnorm or self.clipvalue or self.global_clipnorm):
            return grads
        if keras.backend.backend() != "tensorflow":
            return super()._clip_gradients(grads)
        import tensorflow as tf

        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return super()._clip_gradients(grads)
        replicas = context.num_replicas_in_sync
        present = [i for i, grad in enumerate(grads) if grad is not None]
        summed = context.all_reduce("sum", [grads[i] for i in present])
        shares = list(grads)
        for i, grad in zip(present, super()._clip_gradients(summed)):
            shares[i] = grad / replicas
        return shares
