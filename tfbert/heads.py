"""Pretraining heads: MaskedLanguageModel and NextSentencePrediction."""

import keras
import tensorflow as tf

from tfcore.layers import LayerNorm, apply_flat, get_activation


@keras.saving.register_keras_serializable(package="tfbert")
class MaskedLanguageModel(keras.layers.Layer):
    """Masked-LM head: gather positions, transform, tied decoder + output bias.

    Only the `P` masked positions go through the vocabulary projection, as in
    Google's `get_masked_lm_output` (the projection is the costly part).

    Call args:
      sequence_output: `[batch, seq, hidden]`.
      masked_positions: int `[batch, P]`.
      embedding_table: `[vocab, width]`, the word embeddings (tied decoder).
    Returns logits `[batch, P, vocab]`.

    `embedding_size`: the transform's width when the table is narrower than the
    hidden states (ELECTRA's generator, ALBERT); default: the hidden size.

    Example:

        head = MaskedLanguageModel(vocab_size=100)
        logits = head(seq_out, positions, bert.embedding.word_embeddings)
    """

    def __init__(self, vocab_size, activation="gelu", layer_norm_epsilon=1e-12,
                 initializer_range=0.02, embedding_size=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self._activation_fn = get_activation(activation)

    def build(self, sequence_output_shape, masked_positions_shape=None,
              embedding_table_shape=None):
        hidden = sequence_output_shape[-1]
        width = self.embedding_size or hidden
        self.transform = keras.layers.Dense(
            width, name="transform", dtype=self.dtype_policy,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=self.initializer_range))
        self.transform.build((None, hidden))
        self.layer_norm = LayerNorm(
            epsilon=self.layer_norm_epsilon, name="layer_norm", dtype=self.dtype_policy)
        self.layer_norm.build((None, width))
        self.output_bias = self.add_weight(
            shape=(self.vocab_size,), initializer="zeros", name="output_bias")

    def call(self, sequence_output, masked_positions, embedding_table):
        gathered = tf.gather(sequence_output, tf.cast(masked_positions, tf.int32),
                             batch_dims=1)
        # On [batch * predictions, hidden] rows: plain 2-D products (see tfcore.layers.flat).
        return apply_flat(lambda rows: self._logits(rows, embedding_table), gathered)

    def _logits(self, rows, embedding_table):
        """`[n, hidden] -> [n, vocab]`."""
        x = self.layer_norm(self._activation_fn(self.transform(rows)))
        table = tf.cast(embedding_table, x.dtype)
        logits = tf.matmul(x, table, transpose_b=True)
        return logits + tf.cast(self.output_bias, logits.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, activation=self.activation,
                      layer_norm_epsilon=self.layer_norm_epsilon,
                      initializer_range=self.initializer_range)
        if self.embedding_size is not None:
            config.update(embedding_size=self.embedding_size)
        return config


@keras.saving.register_keras_serializable(package="tfbert")
class NextSentencePrediction(keras.layers.Layer):
    """Next-sentence head: `pooled_output [batch, hidden] -> logits [batch, 2]`.

    Logit 0 means "B follows A" (Google's `next_sentence_labels` 0 = IsNext).
    Google stores the kernel transposed (`cls/seq_relationship/output_weights`
    is `[2, hidden]`); checkpoint loading transposes it.

    Example:

        logits = NextSentencePrediction()(pooled_output)
    """

    def __init__(self, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_range = initializer_range

    def build(self, pooled_output_shape):
        self.dense = keras.layers.Dense(
            2, name="dense", dtype=self.dtype_policy,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=self.initializer_range))
        self.dense.build(pooled_output_shape)

    def call(self, pooled_output):
        return self.dense(pooled_output)

    def get_config(self):
        config = super().get_config()
        config.update(initializer_range=self.initializer_range)
        return config
