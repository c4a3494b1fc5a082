"""Position-wise feed-forward network of a transformer block."""

import keras

from tfcore.layers.activations import get_activation
from tfcore.layers.flat import apply_flat


@keras.saving.register_keras_serializable(package="tfcore")
class FeedForward(keras.layers.Layer):
    """`[..., hidden] -> Dense(intermediate) -> activation -> Dense(hidden)`.

    The two kernels are `[hidden, intermediate]` (`intermediate/dense`) and
    `[intermediate, hidden]` (`output/dense`) as in Google's checkpoints.

    `gated=True` (T5 v1.1's "gated-gelu", GLU variants of Shazeer, 2020)
    multiplies the activation by a second projection, `gate` `[hidden,
    intermediate]`: `output_dense(act(intermediate(x)) * gate(x))`; T5's
    `wi_0`, `wi_1`, `wo` are `intermediate`, `gate`, `output_dense`.

    Example:

        ffn = FeedForward(intermediate_size=256, activation="gelu")
        y = ffn(tf.random.normal([2, 8, 64]))   # [2, 8, 64]
    """

    def __init__(self, intermediate_size, activation="gelu", initializer_range=0.02,
                 use_bias=True, gated=False, **kwargs):
        super().__init__(**kwargs)
        self.intermediate_size = intermediate_size
        self.activation = activation
        self.initializer_range = initializer_range
        self.use_bias = use_bias
        self.gated = gated
        self._activation_fn = get_activation(activation)

    def build(self, x_shape):
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        self.intermediate = keras.layers.Dense(
            self.intermediate_size, kernel_initializer=init, name="intermediate",
            use_bias=self.use_bias, dtype=self.dtype_policy)
        self.intermediate.build(x_shape)
        if self.gated:
            self.gate = keras.layers.Dense(
                self.intermediate_size, kernel_initializer=init, name="gate",
                use_bias=self.use_bias, dtype=self.dtype_policy)
            self.gate.build(x_shape)
        self.output_dense = keras.layers.Dense(
            x_shape[-1], kernel_initializer=init, name="output_dense",
            use_bias=self.use_bias, dtype=self.dtype_policy)
        self.output_dense.build(tuple(x_shape[:-1]) + (self.intermediate_size,))

    def call(self, x):
        return apply_flat(self._on_rows, x)

    def _on_rows(self, rows):
        """`[n, hidden] -> [n, hidden]`."""
        hidden = self._activation_fn(self.intermediate(rows))
        if self.gated:
            hidden = hidden * self.gate(rows)
        return self.output_dense(hidden)

    def get_config(self):
        config = super().get_config()
        config.update(intermediate_size=self.intermediate_size,
                      activation=self.activation,
                      initializer_range=self.initializer_range, use_bias=self.use_bias,
                      gated=self.gated)
        return config
