"""Adam whose gradient clipping means the same on one device and on many."""

import keras


@keras.saving.register_keras_serializable(package="keras_s2s")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` that clips the gradient of the whole (global) batch.

    Under a `tf.distribute` strategy, Keras clips each replica's share of the gradient
    before the replicas' gradients are summed, so `clipnorm` bounds something else than
    on one device, and training departs from a single-device run as soon as clipping
    acts. Here the norms are those of the global gradient: the replicas all-reduce
    their gradients (and the squared norms of sparse ones) to find the norms one device
    would see, and scale their shares by the factors it would use, so the sum Keras then
    takes is the gradient one device would have clipped. It costs one more all-reduce
    per step, only with clipping and several replicas. On one device this is Keras' own
    clipping.
    """

    def _clip_gradients(self, grads):
        if not (self.clipnorm or self.clipvalue or self.global_clipnorm):
            return grads
        if keras.backend.backend() != "tensorflow":
            return super()._clip_gradients(grads)
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return super()._clip_gradients(grads)
        present = [i for i, grad in enumerate(grads) if grad is not None]
        shares = list(grads)
        if self.clipvalue and not (self.clipnorm or self.global_clipnorm):
            summed = context.all_reduce("sum", [grads[i] for i in present])
            replicas = context.num_replicas_in_sync
            for i, grad in zip(present, super()._clip_gradients(summed)):
                shares[i] = grad / replicas
            return shares

        # Squared norms of the global gradient. A dense gradient's is that of the sum
        # over the replicas (an all-reduce of the gradient); a sparse one's (an
        # embedding's), as tf.clip_by_norm counts it, is the sum of its slices' squares,
        # and the global gradient's slices are all the replicas' slices.
        dense = [i for i in present if not isinstance(grads[i], tf.IndexedSlices)]
        sparse = [i for i in present if isinstance(grads[i], tf.IndexedSlices)]
        summed = dict(zip(dense, context.all_reduce("sum", [grads[i] for i in dense])))
        local = [tf.reduce_sum(tf.square(grads[i].values)) for i in sparse]
        sparse_squares = dict(zip(sparse, context.all_reduce("sum", local) if local else []))
        squares = tf.stack([tf.reduce_sum(tf.square(summed[i])) if i in summed
                            else sparse_squares[i] for i in present])
        if self.clipnorm:
            limit = tf.cast(self.clipnorm, squares.dtype)
            factors = limit / tf.maximum(tf.sqrt(squares), limit)
        else:
            limit = tf.cast(self.global_clipnorm, squares.dtype)
            factors = tf.fill(tf.shape(squares), limit / tf.maximum(
                tf.sqrt(tf.reduce_sum(squares)), limit))
        for position, i in enumerate(present):
            grad, factor = grads[i], factors[position]
            if isinstance(grad, tf.IndexedSlices):
                shares[i] = tf.IndexedSlices(grad.values * factor, grad.indices, grad.dense_shape)
            else:
                shares[i] = grad * factor
        return shares
