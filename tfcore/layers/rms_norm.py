"""Root-mean-square normalization (Zhang & Sennrich, 2019): T5's layer norm.

`y = scale * x * rsqrt(mean(x^2) + epsilon)` over the last axis: no mean
subtraction, no bias (Hugging Face's `T5LayerNorm`, `weight` -> our `scale`).
Statistics and the product are float32 whatever the compute dtype (T5's own
rule for half precision); the result is cast to the compute dtype last.

Example:

    norm = RMSNorm(epsilon=1e-6)
    y = norm(tf.random.normal([2, 8, 64]))   # [2, 8, 64]
"""

import keras
import tensorflow as tf

# T5's default (`T5Config.layer_norm_epsilon`, Mesh TensorFlow's T5 layer norm).
RMS_NORM_EPSILON = 1e-6


@keras.saving.register_keras_serializable(package="tfcore")
class RMSNorm(keras.layers.Layer):
    """`[..., features] -> same`; one weight `scale [features]`, initialised to ones.

    Example: `RMSNorm(name="final_layer_norm")(x)`.
    """

    def __init__(self, epsilon=RMS_NORM_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, x_shape):
        # autocast=False: read in float32 (its storage dtype) under mixed precision.
        self.scale = self.add_weight(shape=(x_shape[-1],), initializer="ones", name="scale",
                                     autocast=False)

    def call(self, x):
        x = tf.cast(x, tf.float32)
        mean_square = tf.reduce_mean(tf.square(x), axis=-1, keepdims=True)
        y = tf.cast(self.scale, tf.float32) * (x * tf.math.rsqrt(mean_square + self.epsilon))
        return tf.cast(y, self.compute_dtype)

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        return config
