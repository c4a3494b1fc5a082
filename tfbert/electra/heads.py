"""ReplacedTokenDetection: ELECTRA's discriminator head, one logit per token."""

import keras
import tensorflow as tf

from tfcore.layers import get_activation


@keras.saving.register_keras_serializable(package="tfbert")
class ReplacedTokenDetection(keras.layers.Layer):
    """`sequence_output [b, s, hidden] -> logits [b, s]`: dense, activation, dense to 1.

    A positive logit says "this token was replaced by the generator". The
    weights are Hugging Face's `discriminator_predictions.dense` /
    `.dense_prediction` (Google's `discriminator_predictions/dense` / `dense_1`).

    Example:

        head = ReplacedTokenDetection(activation="gelu")
        logits = head(tf.random.normal([2, 7, 32]))   # [2, 7]
    """

    def __init__(self, activation="gelu", initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation
        self.initializer_range = initializer_range
        self._activation_fn = get_activation(activation)

    def build(self, sequence_output_shape):
        hidden = sequence_output_shape[-1]
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        self.dense = keras.layers.Dense(hidden, name="dense", kernel_initializer=init,
                                        dtype=self.dtype_policy)
        self.dense.build((None, hidden))
        self.dense_prediction = keras.layers.Dense(1, name="dense_prediction",
                                                   kernel_initializer=init,
                                                   dtype=self.dtype_policy)
        self.dense_prediction.build((None, hidden))

    def call(self, sequence_output):
        hidden = self._activation_fn(self.dense(sequence_output))
        return tf.squeeze(self.dense_prediction(hidden), -1)

    def get_config(self):
        config = super().get_config()
        config.update(activation=self.activation, initializer_range=self.initializer_range)
        return config
