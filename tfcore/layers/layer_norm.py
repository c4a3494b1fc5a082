"""Keras' LayerNormalization, written at inference so oneDNN runs it as one op.

Grappler's oneDNN remapper replaces a layer norm written as Keras 2 wrote it
(rows reshaped to `[1, rows, features, 1]`, `FusedBatchNormV3` in training
mode with unit scale and zero offset, then `* gamma + beta`) by one fused
`_MklLayerNorm` kernel; Keras 3's ~12 separate ops per layer norm are not
matched. The graph itself holds only standard ops, so a SavedModel stays
portable: where the rewrite does not apply (other builds, XLA, shapes known
when tracing) the same ops compute the same normalization.

Training (and any call with `training=True`) keeps Keras' own ops.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfcore")
class LayerNorm(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` over the last axis: `[..., features] -> same`.

    Same weights (`gamma`, `beta`) and config; the same results to the rounding of
    the compute dtype (statistics in float32; in bf16, where the ops are not fused,
    the scale and offset are applied in bf16 rather than float32).

    Example:

        norm = LayerNorm(epsilon=1e-12)
        y = norm(tf.random.normal([2, 8, 64]))
    """

    def call(self, inputs, training=None):
        last_axis_only = self.axis in (-1, [-1], [inputs.shape.rank - 1])
        if training or not (self.center and self.scale and last_axis_only):
            return super().call(inputs)
        # In the compute dtype throughout: a cast between these ops (float32
        # statistics around a bf16 input, as Keras does) keeps the rewrite from
        # matching; the fused kernel accumulates in float32 itself.
        x = tf.cast(inputs, self.compute_dtype)
        shape = tf.shape(x)
        rows = tf.reduce_prod(shape[:-1])
        features = shape[-1] if x.shape[-1] is None else x.shape[-1]
        normalized, *_ = tf.raw_ops.FusedBatchNormV3(
            x=tf.reshape(x, [1, rows, features, 1]), scale=tf.fill([rows], 1.0),
            offset=tf.fill([rows], 0.0), mean=tf.constant([], tf.float32),
            variance=tf.constant([], tf.float32), epsilon=self.epsilon, data_format="NCHW",
            is_training=True)
        gamma, beta = (tf.cast(w, self.compute_dtype) for w in (self.gamma, self.beta))
        return beta + tf.reshape(normalized, shape) * gamma
