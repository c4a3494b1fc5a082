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
    """Self- or cross-attention: `[batch, seq, hidden] -> [batch, seq, hidden]`.

    Args:
      num_heads: number of heads.
      dropout_rate: dropout on the attention probabilities.
      causal: if True, position i attends only to positions <= i.
      initializer_range: stddev of the truncated-normal kernel initializer.
      use_bias: whether the four projections add a bias.
      head_size: width of each head; None: `hidden // num_heads` (then `hidden`
        must be divisible by `num_heads`). T5 sets it (`d_kv`).
      scale_queries: multiply the queries by `1 / sqrt(head_size)` (the
        Transformer's scaling); T5 folds it into its initialisation (False).
      max_relative_position: k > 0 adds Shaw et al.'s clipped relative keys:
        a `relative_keys [2k + 1, head_size]` table shared by the heads, and
        score(i, j) += q_i . relative_keys[clip(j - i, -k, k) + k].

    Call args:
      x: `[batch, seq, hidden]`, the queries (and keys/values unless `source`).
      attention_mask: optional `[batch, key_seq]` or `[batch, seq, key_seq]`,
        1 for positions that may be attended to, 0 for padding.
      cache: optional pair `(keys, values)` of earlier positions, each
        `[batch * num_heads, max_len, head_size]` (heads first, as the products
        read them); the new ones are written at `cache_index` and
        `(output, updated_cache)` is returned. Attention over the cache runs
        in the cache's dtype (Keras does not cast it to the compute dtype: this
        layer's `autocast` is off and it casts `x` itself).
      cache_index: int scalar, position of `x[:, 0]` in the cache.
      source: cross-attention: keys and values come from `source [batch,
        source_seq, source_hidden]` (an encoder's output) instead of `x`.
      source_cache: cross-attention with the keys and values of the source
        already projected, `project_source(source)`: computed once per source
        when decoding.
      attention_bias: optional float, broadcastable to `[batch, heads, seq,
        key_seq]`, added to the scores (T5's relative position bias).

    Example:

        attn = MultiHeadAttention(num_heads=4)
        y = attn(tf.random.normal([2, 8, 64]), attention_mask=tf.ones([2, 8]))
        cross = MultiHeadAttention(num_heads=4)
        z = cross(y, source=tf.random.normal([2, 5, 64]), attention_mask=tf.ones([2, 5]))
    """

    def __init__(self, num_heads, dropout_rate=0.0, causal=False,
                 initializer_range=0.02, use_bias=True, head_size=None,
                 scale_queries=True, max_relative_position=0, **kwargs):
        kwargs.setdefault("autocast", False)  # keep a float32 cache float32; see call
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout_rate = dropout_rate
        self.causal = causal
        self.initializer_range = initializer_range
        self.use_bias = use_bias
        self.head_size = head_size
        self.scale_queries = scale_queries
        self.max_relative_position = max_relative_position

    def build(self, x_shape, *args, **kwargs):
        hidden = x_shape[-1]
        if self.head_size is None:
            if hidden % self.num_heads:
                raise ValueError(
                    f"hidden size {hidden} is not divisible by num_heads {self.num_heads}."
                )
            self.head_size = hidden // self.num_heads
        inner = self.num_heads * self.head_size
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        for name, units, inputs in (("query", inner, hidden), ("key", inner, hidden),
                                    ("value", inner, hidden), ("output_dense", hidden, inner)):
            dense = keras.layers.Dense(units, kernel_initializer=init, name=name,
                                       use_bias=self.use_bias, dtype=self.dtype_policy)
            dense.build((None, inputs))
            setattr(self, name, dense)
        if self.max_relative_position:
            self.relative_keys = self.add_weight(
                shape=(2 * self.max_relative_position + 1, self.head_size),
                initializer=init, name="relative_keys")
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)

    def _heads_first(self, rows, batch, seq):
        """`[batch * seq, heads * head_size]` -> `[batch * heads, seq, head_size]`."""
        x = tf.reshape(rows, [batch, seq, self.num_heads, self.head_size])
        # batch * heads spelled out: -1 is ambiguous for an empty batch.
        return tf.reshape(tf.transpose(x, [0, 2, 1, 3]),
                          [batch * self.num_heads, seq, self.head_size])

    def project_source(self, source):
        """`source [b, k, hidden]` -> its `(keys, values)`, each `[b * heads, k, head_size]`."""
        source = tf.cast(source, self.compute_dtype)
        batch, length = tf.shape(source)[0], tf.shape(source)[1]
        rows = tf.reshape(source, [-1, source.shape[-1]])
        return (self._heads_first(self.key(rows), batch, length),
                self._heads_first(self.value(rows), batch, length))

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

    def _relative_key_scores(self, query, key_len, offset):
        """Shaw et al.: `query [b * h, q, d]` -> `[b * h, q, k]` float32 score terms."""
        from tfcore.layers.relative_position import clipped_relative_positions
        indices = clipped_relative_positions(tf.shape(query)[1], key_len,
                                             self.max_relative_position, offset)
        table = tf.gather(tf.cast(self.relative_keys, query.dtype), indices)  # [q, k, d]
        return tf.cast(tf.einsum("bqd,qkd->bqk", query, table), tf.float32)

    def call(self, x, attention_mask=None, cache=None, cache_index=None,
             training=None, source=None, source_cache=None, attention_bias=None):
        x = tf.cast(x, self.compute_dtype)
        batch, seq = tf.shape(x)[0], tf.shape(x)[1]
        rows = tf.reshape(x, [-1, x.shape[-1]])   # 2-D: see tfcore.layers.flat
        # Heads first, then oneDNN's BatchMatMul: tf.einsum here took 21% of the op
        # time for 3% of the FLOPs (BERT-base bf16 serving profile, bench/RESULTS.md).
        query = self._heads_first(self.query(rows), batch, seq)   # [b * h, q, d]
        if source_cache is None and source is not None:
            source_cache = self.project_source(source)
        if source_cache is not None:                              # cross-attention
            key, value = source_cache
        else:
            key = self._heads_first(self.key(rows), batch, seq)   # [b * h, k, d]
            value = self._heads_first(self.value(rows), batch, seq)
        offset = 0
        if cache is not None:
            offset = 0 if cache_index is None else cache_index
            # In-place updates of the fixed-size cache under XLA (no concat, no
            # growth). Two 3-D tensors that the products read as they are: a slice
            # of one stacked cache, a transpose, or a bitcast over a batch of 1 each
            # made XLA copy the cache per layer and step.
            key, value = (keras.ops.slice_update(c, [0, offset, 0], tf.cast(new, c.dtype))
                          for c, new in zip(cache, (key, value)))
            cache = (key, value)
        query = tf.cast(query, key.dtype)  # attention runs in the cache's dtype
        if self.scale_queries:
            # Scaling the query instead of the scores saves a [b, h, q, k] multiply.
            query = query * tf.cast(1.0 / math.sqrt(self.head_size), query.dtype)
        scores = tf.matmul(query, key, transpose_b=True)          # [b * h, q, k]
        key_len = tf.shape(key)[1]
        # Softmax in float32: bf16 loses the small probabilities.
        scores = tf.cast(scores, tf.float32)
        if self.max_relative_position:
            scores += self._relative_key_scores(query, key_len, offset)
        scores = tf.reshape(scores, [batch, self.num_heads, seq, key_len])
        if attention_bias is not None:
            scores += tf.cast(attention_bias, tf.float32)
        mask = self._full_mask(attention_mask, seq, key_len, offset)
        if mask is not None:
            scores += (1.0 - tf.cast(mask, tf.float32)) * ATTENTION_MASK_ADDER
        probs = self.dropout(tf.nn.softmax(scores, axis=-1), training=training)
        probs = tf.reshape(tf.cast(probs, value.dtype), [batch * self.num_heads, seq, key_len])
        context = tf.matmul(probs, value)                         # [b * h, q, d]
        context = tf.reshape(context, [batch, self.num_heads, seq, self.head_size])
        context = tf.cast(tf.transpose(context, [0, 2, 1, 3]), self.compute_dtype)
        context = tf.reshape(context, [-1, self.num_heads * self.head_size])
        output = tf.reshape(self.output_dense(context), [batch, seq, x.shape[-1]])
        return output if cache is None else (output, cache)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, dropout_rate=self.dropout_rate,
                      causal=self.causal, initializer_range=self.initializer_range,
                      use_bias=self.use_bias, head_size=self.head_size,
                      scale_queries=self.scale_queries,
                      max_relative_position=self.max_relative_position)
        return config
