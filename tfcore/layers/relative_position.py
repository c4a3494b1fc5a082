"""Relative positions: T5's bucketed attention bias and Shaw et al.'s clipped distances.

A relative position is `key_position - query_position`.

- T5 (Raffel et al., 2020) maps it to one of `num_buckets` buckets: with
  `bidirectional`, the sign takes half of them (positive distances in the
  upper half); of the rest, distances below half are their own bucket and
  the others share logarithmically wider buckets up to `max_distance`, beyond
  which all share the last. A causal (decoder) bias sees only keys at or
  before the query: positive distances count as 0. `RelativePositionBias`
  holds a scalar per bucket and head (Hugging Face's
  `relative_attention_bias.weight` `[num_buckets, num_heads]`).
- Shaw et al. (2018) clip the distance to `[-max_distance, max_distance]`
  and index a `[2 * max_distance + 1, head_size]` table
  (`clipped_relative_positions`).

T5's logarithmic bucket of distance `n >= max_exact` is
`min(max_exact + int(log(n / max_exact) / log(max_distance / max_exact)
* (buckets - max_exact)), buckets - 1)` evaluated in float32 (Mesh
TensorFlow's and Hugging Face's arithmetic). We evaluate it once per
configuration in NumPy float32 for every distance up to `max_distance`,
keep the first distance of each bucket, and bucket in the graph by integer
comparisons only: identical on every device (a GPU's float32 `log` may
round differently where the exact value is an integer, e.g. 16, 32, 64 at
(32, 128)). `python -m bench t5_buckets` checks it against transformers.

Example:

    buckets = relative_position_bucket(tf.range(-3, 4), bidirectional=True)  # int32 [7]
    bias = RelativePositionBias(32, 128, num_heads=8, bidirectional=False)
    scores += bias(1, step + 1, query_offset=step)                        # [1, 8, 1, step + 1]
"""

import functools

import keras
import numpy as np
import tensorflow as tf


@functools.lru_cache(maxsize=None)
def _log_bucket_starts(num_buckets, max_exact, max_distance):
    """First distance of each logarithmic bucket `max_exact + 1 .. num_buckets - 1`: a tuple."""
    if max_exact < 1 or max_distance <= max_exact:
        raise ValueError(f"relative position buckets: max_distance={max_distance} must exceed "
                         f"the {max_exact} exact buckets, at least 1 (num_buckets {num_buckets} "
                         "per direction).")
    distances = np.arange(max_exact, 2 * max_distance + 1)
    # float32 as T5's code computes it; an int cast truncates (the values are >= 0).
    scaled = (np.log(distances.astype(np.float32) / np.float32(max_exact))
              / np.float32(np.log(max_distance / max_exact))
              * np.float32(num_buckets - max_exact))
    buckets = np.minimum(max_exact + scaled.astype(np.int64), num_buckets - 1)
    starts = tuple(int(distances[np.argmax(buckets >= b)])
                   for b in range(max_exact + 1, num_buckets))
    assert buckets[-1] == num_buckets - 1, (num_buckets, max_distance)
    return starts


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32,
                             max_distance=128):
    """T5's bucket of each `relative_position` (key - query), any shape: int32, same shape.

    Example: `relative_position_bucket([-200, -1, 0, 1, 200])` -> `[15, 1, 0, 17, 31]`.
    """
    distance = tf.cast(relative_position, tf.int32)
    if bidirectional:
        num_buckets //= 2
        offset = tf.where(distance > 0, num_buckets, 0)
        distance = tf.abs(distance)
    else:
        offset = 0
        distance = -tf.minimum(distance, 0)
    max_exact = num_buckets // 2
    starts = tf.constant(_log_bucket_starts(num_buckets, max_exact, max_distance), tf.int32)
    above = tf.cast(distance[..., None] >= starts, tf.int32)  # [..., log buckets - 1]
    return offset + tf.minimum(distance, max_exact) + tf.reduce_sum(above, axis=-1)


def _relative_positions(query_length, key_length, query_offset=0):
    """`key - query` for queries `offset .. offset + q - 1`, keys `0 .. k - 1`: int32 `[q, k]`."""
    queries = tf.range(query_length) + tf.cast(query_offset, tf.int32)
    return tf.range(key_length)[None, :] - queries[:, None]


def clipped_relative_positions(query_length, key_length, max_distance, query_offset=0):
    """Shaw et al.'s table rows: `clip(key - query, -d, d) + d`, int32 `[q, k]` in `[0, 2d]`.

    Queries are at `query_offset .. query_offset + q - 1` (decoding with a
    cache), keys at `0 .. k - 1`.

    Example: `clipped_relative_positions(2, 3, 1)` -> `[[1, 2, 2], [0, 1, 2]]`.
    """
    relative = _relative_positions(query_length, key_length, query_offset)
    return tf.clip_by_value(relative, -max_distance, max_distance) + max_distance


@keras.saving.register_keras_serializable(package="tfcore")
class RelativePositionBias(keras.layers.Layer):
    """T5's attention bias: float32 `[1, num_heads, q, k]` from `embeddings [num_buckets, num_heads]`.

    `call(query_length, key_length, query_offset=0)`: queries at
    `query_offset .. query_offset + q - 1`, keys at `0 .. k - 1`; lengths may
    be Python ints or int32 scalar tensors (inside `tf.function` / XLA). The
    bias is float32 whatever the dtype policy: it is added to the scores
    before the softmax.

    Example:

        bias = RelativePositionBias(32, 128, num_heads=8, bidirectional=True,
                                    name="relative_attention_bias")
        scores = scores + bias(seq, seq)          # [b, 8, seq, seq]
    """

    def __init__(self, num_buckets=32, max_distance=128, num_heads=8, bidirectional=True,
                 initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.num_heads, self.bidirectional = num_heads, bidirectional
        self.initializer_range = initializer_range
        half = num_buckets // 2 if bidirectional else num_buckets
        _log_bucket_starts(half, half // 2, max_distance)  # a bad pair fails here, not at call
        self.embeddings = self.add_weight(
            shape=(num_buckets, num_heads), name="embeddings", autocast=False,
            initializer=keras.initializers.TruncatedNormal(stddev=initializer_range))
        self.built = True

    def __call__(self, query_length, key_length, query_offset=0, **kwargs):
        # Keras takes only tensors positionally; Python lengths are valid inputs here.
        query_length = tf.convert_to_tensor(query_length, tf.int32)
        return super().__call__(query_length, key_length=key_length, query_offset=query_offset,
                                **kwargs)

    def call(self, query_length, key_length, query_offset=0):
        buckets = relative_position_bucket(
            _relative_positions(query_length, key_length, query_offset),
            self.bidirectional, self.num_buckets, self.max_distance)
        values = tf.gather(tf.cast(self.embeddings, tf.float32), buckets)  # [q, k, heads]
        return tf.transpose(values, [2, 0, 1])[None]

    def get_config(self):
        config = super().get_config()
        config.update(num_buckets=self.num_buckets, max_distance=self.max_distance,
                      num_heads=self.num_heads, bidirectional=self.bidirectional,
                      initializer_range=self.initializer_range)
        return config
