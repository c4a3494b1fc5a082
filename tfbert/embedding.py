"""BertEmbedding: word + position + segment embeddings -> LayerNorm -> Dropout."""

import keras
import tensorflow as tf

from tfcore.layers import LayerNorm


@keras.saving.register_keras_serializable(package="tfbert")
class BertEmbedding(keras.layers.Layer):
    """`input_ids [b, s], segment_ids [b, s] -> [b, s, hidden]`.

    The tables are plain weights named as in Google's checkpoints
    (`word_embeddings [vocab, hidden]`, `position_embeddings [max_pos, hidden]`,
    `token_type_embeddings [type_vocab, hidden]`); the word table is shared
    with the masked-LM decoder.

    Example:

        emb = BertEmbedding(vocab_size=100, hidden_size=16)
        x = emb(tf.constant([[2, 5, 3]]), tf.constant([[0, 0, 0]]))  # [1, 3, 16]
    """

    def __init__(self, vocab_size, hidden_size, max_position_embeddings=512,
                 type_vocab_size=2, initializer_range=0.02,
                 layer_norm_epsilon=1e-12, dropout_rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_epsilon = layer_norm_epsilon
        self.dropout_rate = dropout_rate

    def build(self, input_ids_shape=None, segment_ids_shape=None):
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        h = self.hidden_size
        self.word_embeddings = self.add_weight(
            shape=(self.vocab_size, h), initializer=init, name="word_embeddings")
        self.position_embeddings = self.add_weight(
            shape=(self.max_position_embeddings, h), initializer=init,
            name="position_embeddings")
        self.token_type_embeddings = self.add_weight(
            shape=(self.type_vocab_size, h), initializer=init,
            name="token_type_embeddings")
        self.layer_norm = LayerNorm(
            epsilon=self.layer_norm_epsilon, name="layer_norm", dtype=self.dtype_policy)
        self.layer_norm.build((None, None, h))
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)

    def _checked_length(self, input_ids):
        """The sequence length; raises (or, in a graph, fails) when above the table size."""
        seq_len = input_ids.shape[1]
        limit = self.max_position_embeddings
        if seq_len is not None:
            if seq_len > limit:
                raise ValueError(
                    f"input length {seq_len} exceeds max_position_embeddings {limit}.")
            return seq_len
        check = tf.debugging.assert_less_equal(
            tf.shape(input_ids)[1], limit,
            message=f"input length exceeds max_position_embeddings {limit}")
        with tf.control_dependencies([check]):  # before the table is sliced
            return tf.identity(tf.shape(input_ids)[1])

    def call(self, input_ids, segment_ids=None, training=None):
        input_ids = tf.cast(input_ids, tf.int32)
        seq_len = self._checked_length(input_ids)
        x = tf.gather(self.word_embeddings, input_ids)
        x += self.position_embeddings[None, :seq_len]
        if segment_ids is None:
            x += self.token_type_embeddings[0]
        else:
            x += tf.gather(self.token_type_embeddings, tf.cast(segment_ids, tf.int32))
        x = self.layer_norm(tf.cast(x, self.compute_dtype))
        return self.dropout(x, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size, hidden_size=self.hidden_size,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=self.type_vocab_size,
            initializer_range=self.initializer_range,
            layer_norm_epsilon=self.layer_norm_epsilon,
            dropout_rate=self.dropout_rate)
        return config
