"""Adam whose gradient clipping means the same on one device and on many."""

import keras

from keras_s2s.compat import GlobalGradientClipping


@keras.saving.register_keras_serializable(package="keras_s2s")
class Adam(GlobalGradientClipping, keras.optimizers.Adam):
    """`keras.optimizers.Adam` that clips the gradient of the whole (global) batch.

    Under a `tf.distribute` strategy, Keras clips each replica's share of the gradient
    before the replicas' gradients are summed, so `clipnorm` bounds something else than
    on one device, and training departs from a single-device run as soon as clipping
    acts. Here the norms are those of the global gradient: the replicas all-reduce
    their gradients (and the squared norms of sparse ones) to find the norms one device
    would see, and scale their shares by the factors it would use, so the sum Keras then
    takes is the gradient one device would have clipped. It costs one more all-reduce
    per step, only with clipping and several replicas. On one device this is Keras' own
    clipping. The override is `keras_s2s.compat.GlobalGradientClipping`.
    """
