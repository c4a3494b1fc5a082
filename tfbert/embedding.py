"""BertEmbedding: word + position + segment embeddings -> LayerNorm -> Dropout."""

import keras
import tensorflow as tf

from tfcore.layers import LayerNorm, TokenAndPositionEmbedding, checked_length


@keras.saving.register_keras_serializable(package="tfbert")
class BertEmbedding(TokenAndPositionEmbedding):
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
        super().__init__(vocab_size=vocab_size, hidden_size=hidden_size,
                         max_position_embeddings=max_position_embeddings,
                         initializer_range=initializer_range, dropout_rate=dropout_rate,
                         **kwargs)
        self.type_vocab_size = type_vocab_size
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, input_ids_shape=None, segment_ids_shape=None):
        self.add_tables(word_embeddings=self.vocab_size,
                        position_embeddings=self.max_position_embeddings,
                        token_type_embeddings=self.type_vocab_size)
        self.layer_norm = LayerNorm(
            epsilon=self.layer_norm_epsilon, name="layer_norm", dtype=self.dtype_policy)
        self.layer_norm.build((None, None, self.hidden_size))
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)

    def call(self, input_ids, segment_ids=None, training=None):
        input_ids = tf.cast(input_ids, tf.int32)
        seq_len = checked_length(input_ids, self.max_position_embeddings)
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
        config.update(type_vocab_size=self.type_vocab_size,
                      layer_norm_epsilon=self.layer_norm_epsilon)
        return config
