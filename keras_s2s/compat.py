"""Where keras_s2s overrides private Keras methods, all in one place.

Keras (3.15) gets two things wrong under `tf.distribute`, and the fixes override methods
that are not part of Keras' public API, so a new Keras may rename or change them:
- `Model._maybe_symbolic_build` reduces a first batch over the replicas to build the
  loss, metrics and optimizer, which fails on dict inputs under
  MultiWorkerMirroredStrategy (`ReplicaSafeBuild`, mixed into `Seq2Seq`);
- `Optimizer._clip_gradients` clips each replica's share of the gradient, not the
  global gradient (`GlobalGradientClipping`, mixed into `keras_s2s.models.Adam`).
Importing this module checks that the methods still exist and warns when the Keras
version is not the one these overrides were verified with (`VERIFIED_KERAS`).
`tests/test_compat.py` fails when either check would.
"""

import warnings

import keras
from keras import ops

VERIFIED_KERAS = "3.15"
# (Keras class, private method it has and a mixin below overrides). Both fixes concern
# tf.distribute: on another backend Keras' Model has no `_maybe_symbolic_build` (its
# trainer is another class) and the mixins leave Keras' behaviour as it is.
OVERRIDES = (
    (keras.Model, "_maybe_symbolic_build"),
    (keras.optimizers.Optimizer, "_clip_gradients"),
) if keras.backend.backend() == "tensorflow" else (
    (keras.optimizers.Optimizer, "_clip_gradients"),
)


def check_keras():
    """The overridden methods that the installed Keras lacks (an empty list when all
    are there); warns once when its version is not `VERIFIED_KERAS`."""
    missing = [f"{cls.__name__}.{name}" for cls, name in OVERRIDES if not hasattr(cls, name)]
    if not keras.__version__.startswith(VERIFIED_KERAS + "."):
        warnings.warn(
            f"keras_s2s overrides private Keras methods ({', '.join(n for _, n in OVERRIDES)}) "
            f"verified with Keras {VERIFIED_KERAS}; this is Keras {keras.__version__}. "
            "Distributed training may differ; keras_s2s/compat.py says what they fix.",
            stacklevel=2,
        )
    return missing


_missing = check_keras()
if _missing:
    raise ImportError(
        f"This Keras ({keras.__version__}) lacks {', '.join(_missing)}, which keras_s2s "
        f"overrides (verified with Keras {VERIFIED_KERAS}); install keras=={VERIFIED_KERAS}.*."
    )


class ReplicaSafeBuild:
    """Mixin for a `keras.Model`: builds from one replica's part of the first batch and
    gives multi-worker metrics a shape Keras can average."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy, Keras (3.15) builds the loss, metrics and
        # optimizer from a first batch that it reduces over the replicas; under
        # MultiWorkerMirroredStrategy that reduction fails on dict inputs
        # (keras-team/keras#20329). The build needs only shapes and dtypes, which one
        # replica's part of the batch has.
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None or iterator is None or keras.backend.backend() != "tensorflow":
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        import tensorflow as tf

        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda value: (strategy.experimental_local_results(value)[0]
                               if isinstance(value, tf.distribute.DistributedValues) else value),
                next(batches),
            )
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def get_metrics_result(self):
        results = super().get_metrics_result()
        if keras.backend.backend() != "tensorflow":
            return results
        # With several workers, Keras (3.15) averages each step's metrics over the
        # replicas along axis 0, which a scalar lacks (tensorflow/tensorflow#72388);
        # as 1-vectors they average to the same scalars.
        import tensorflow as tf

        from keras_s2s.distribute import is_multi_worker

        in_replica = tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context()
        if not (in_replica and is_multi_worker(self.distribute_strategy)):
            return results
        return {name: ops.reshape(value, (1,)) for name, value in results.items()}


class GlobalGradientClipping:
    """Mixin for a Keras optimizer: clips the gradient of the whole (global) batch."""

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
