"""Multi-head self-attention with Google's kernel layout and an optional KV cache.

The query, key, value and output projections are dense layers with kernels
of shape `[hidden, hidden]`, as in Google's BERT checkpoints
(`attention/self/query/kernel`, ...), so weights load without reshaping.
"""

import math

import keras
import tensorflow as tf

# Google's modeling.py adds (1 - mask) * -10000.0 to the attention scores.
ATTENTION_MASK_ADDER = -10000.0


def causal_mask(query_length, key_length, query_offset=0):
    """Returns `[query_length, key_length]` int32, 1 where key position <= query position.

    `query_offset` is the absolute position of the first query (decoding
    with a cache: the number of tokens already in it).
    """
    query_pos = tf.range(query_length)[:, None] + query_offset
    key_pos = tf.range(key_length)[None, :]
    return tf.cast(key_pos <= query_pos, tf.int32)


@keras.saving.register_keras_serializable(package="tfcore")
class MultiHeadAttention(keras.layers.Layer):
    """Self-attention: `[batch, seq, hidden] -> [batch, seq, hidden]`.

    Args:
      num_heads: number of heads; `hidden` must be divisible by it.
      dropout_rate: dropout on the attention probabilities.
      causal: if True, position i attends only to positions <= i.
      initializer_range: stddev of the truncated-normal kernel initializer.
      use_bias: whether the four projections add a bias.

    Call args:
      x: `[batch, seq, hidden]`.
      attention_mask: optional `[batch, key_seq]` or `[batch, seq, key_seq]`,
        1 for positions that may be attended to, 0 for padding.
      cache: optional `[batch, 2, max_len, num_heads, head_size]` keys and
        values of earlier positions; the new ones are written at `cache_index`
        and `(output, updated_cache)` is returned.
      cache_index: int scalar, position of `x[:, 0]` in the cache.

    Example:

        attn = MultiHeadAttention(num_heads=4)
        y = attn(tf.random.normal([2, 8, 64]), attention_mask=tf.ones([2, 8]))
    """

    def __init__(self, num_heads, dropout_rate=0.0, causal=False,
                 initializer_range=0.02, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout_rate = dropout_rate
        self.causal = causal
        self.initializer_range = initializer_range
        self.use_bias = use_bias

    def build(self, x_shape, *args, **kwargs):
        hidden = x_shape[-1]
        if hidden % self.num_heads:
            raise ValueError(
                f"hidden size {hidden} is not divisible by num_heads {self.num_heads}."
            )
        self.head_size = hidden // self.num_heads
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        for name in ("query", "key", "value", "output_dense"):
            dense = keras.layers.Dense(hidden, kernel_initializer=init, name=name,
                                       use_bias=self.use_bias, dtype=self.dtype_policy)
            dense.build(x_shape)
            setattr(self, name, dense)
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)

    def _split_heads(self, x, batch, seq):
        return tf.reshape(x, [batch, seq, self.num_heads, self.head_size])

    def _full_mask(self, attention_mask, query_len, key_len, offset):
        """Combines padding and causal masks into `[batch|1, 1, q, k]` or None."""
        mask = None
        if attention_mask is not None:
            mask = tf.cast(attention_mask, tf.int32)
            mask = mask[:, None, None, :] if mask.shape.rank == 2 else mask[:, None]
        if self.causal:
            tri = causal_mask(query_len, key_len, offset)[None, None]
            mask = tri if mask is None else mask * tri
        return mask

    def call(self, x, attention_mask=None, cache=None, cache_index=None,
             training=None):
        batch, seq = tf.shape(x)[0], tf.shape(x)[1]
        rows = tf.reshape(x, [-1, x.shape[-1]])   # 2-D: see tfcore.layers.flat
        query = self._split_heads(self.query(rows), batch, seq)
        key = self._split_heads(self.key(rows), batch, seq)
        value = self._split_heads(self.value(rows), batch, seq)
        offset = 0
        if cache is not None:
            offset = 0 if cache_index is None else cache_index
            # One update of the whole fixed-size cache (no concat, no growth): under
            # XLA it happens in place in a loop's buffer, and without XLA it copies
            # the cache once instead of three times (slice, update, restack).
            update = tf.stack([key, value], axis=1)
            cache = keras.ops.slice_update(cache, [0, 0, offset, 0, 0], update)
            key, value = cache[:, 0], cache[:, 1]
        # Scaling the query instead of the scores saves a [b, h, q, k] multiply.
        query = query * tf.cast(1.0 / math.sqrt(self.head_size), query.dtype)
        # Heads first, then oneDNN's BatchMatMul: tf.einsum here took 21% of the op
        # time for 3% of the FLOPs (BERT-base bf16 serving profile, bench/RESULTS.md).
        query = tf.transpose(query, [0, 2, 1, 3])                   # [b, h, q, d]
        scores = tf.matmul(query, tf.transpose(key, [0, 2, 1, 3]), transpose_b=True)
        mask = self._full_mask(attention_mask, seq, tf.shape(key)[1], offset)
        # Softmax in float32: bf16 loses the small probabilities.
        scores = tf.cast(scores, tf.float32)
        if mask is not None:
            scores += (1.0 - tf.cast(mask, tf.float32)) * ATTENTION_MASK_ADDER
        probs = tf.cast(tf.nn.softmax(scores, axis=-1), value.dtype)
        probs = self.dropout(probs, training=training)
        context = tf.matmul(probs, tf.transpose(value, [0, 2, 1, 3]))   # [b, h, q, d]
        context = tf.transpose(context, [0, 2, 1, 3])
        context = tf.reshape(context, [-1, self.num_heads * self.head_size])
        output = tf.reshape(self.output_dense(context), [batch, seq, x.shape[-1]])
        return output if cache is None else (output, cache)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, dropout_rate=self.dropout_rate,
                      causal=self.causal, initializer_range=self.initializer_range,
                      use_bias=self.use_bias)
        return config

