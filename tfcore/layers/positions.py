"""Learned absolute positions (BERT's, GPT-2's): the shared embedding base, the length check."""

import keras
import tensorflow as tf


def checked_length(ids, max_positions):
    """The length of `ids [batch, seq]`, refused when above `max_positions`.

    A static length is checked at once (ValueError); a dynamic one with an
    assertion that runs before the position table is sliced, so a too-long
    input fails (InvalidArgumentError) instead of silently reading fewer
    rows. Returns a Python int or an int32 scalar tensor.

    Example: `table[:checked_length(input_ids, 512)]`.
    """
    length = ids.shape[1]
    if length is not None:
        if length > max_positions:
            raise ValueError(
                f"input length {length} exceeds max_position_embeddings {max_positions}.")
        return length
    check = tf.debugging.assert_less_equal(
        tf.shape(ids)[1], max_positions,
        message=f"input length exceeds max_position_embeddings {max_positions}")
    with tf.control_dependencies([check]):  # before the table is sliced
        return tf.identity(tf.shape(ids)[1])


class TokenAndPositionEmbedding(keras.layers.Layer):
    """Base of the token + learned-position embedding layers (`BertEmbedding`, `GPTEmbedding`).

    Holds the sizes every such layer has and their `get_config`; a subclass
    names its `[rows, hidden_size]` tables in `build` (the names are the
    checkpoint names) with `add_tables`, and checks lengths with
    `checked_length`.

    Example (a subclass's build):

        self.add_tables(token_embedding=self.vocab_size,
                        position_embedding=self.max_position_embeddings)
    """

    def __init__(self, vocab_size, hidden_size, max_position_embeddings,
                 initializer_range=0.02, dropout_rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range, self.dropout_rate = initializer_range, dropout_rate

    def add_tables(self, **rows):
        """Adds a `[rows, hidden_size]` weight per keyword, in order, as that attribute.

        One truncated-normal initializer serves every table (as in Google's
        and GPT-2's code: `stddev=initializer_range`).
        """
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        for name, count in rows.items():
            setattr(self, name, self.add_weight(
                shape=(count, self.hidden_size), initializer=init, name=name))

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                      max_position_embeddings=self.max_position_embeddings,
                      initializer_range=self.initializer_range,
                      dropout_rate=self.dropout_rate)
        return config
