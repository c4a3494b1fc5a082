"""T5's relative position buckets and bias, Shaw et al.'s clipped distances, vs NumPy/Python."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import run_layer_test
from tfcore.layers import RelativePositionBias, clipped_relative_positions, relative_position_bucket

DISTANCES = np.arange(-4096, 4097)
# (num_buckets, max_distance): T5's, and others with different exact/logarithmic splits.
CONFIGS = [(32, 128), (16, 32), (64, 256), (10, 50)]


def t5_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """The published T5 bucket (Raffel et al., Mesh TensorFlow), one distance at a time.

    Written from the description with `n = query - key`: a bidirectional bias
    gives keys after the query (n < 0) the upper half of the buckets; a causal
    one treats them as distance 0. Small distances (< half the buckets) are
    exact; larger ones log-spaced up to max_distance, then all in the last.
    """
    n = -relative_position
    first = 0
    if bidirectional:
        num_buckets //= 2
        if n < 0:
            first = num_buckets
        n = abs(n)
    else:
        n = max(n, 0)
    exact = num_buckets // 2
    if n < exact:
        return first + n
    logarithmic = exact + int(math.log(n / exact) / math.log(max_distance / exact)
                              * (num_buckets - exact))
    return first + min(logarithmic, num_buckets - 1)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets,max_distance", CONFIGS)
def test_buckets_equal_the_published_formula(num_buckets, max_distance, bidirectional):
    expected = [t5_bucket(int(d), bidirectional, num_buckets, max_distance) for d in DISTANCES]
    ours = relative_position_bucket(tf.constant(DISTANCES), bidirectional, num_buckets, max_distance)
    assert ours.dtype == tf.int32
    np.testing.assert_array_equal(ours, expected)
    assert max(expected) == num_buckets - 1  # the range reaches every logarithmic bucket


def test_buckets_keep_the_input_shape_and_refuse_a_bad_configuration():
    ours = relative_position_bucket(tf.constant([[-200, -1], [0, 1], [200, 7]]))
    np.testing.assert_array_equal(ours, [[15, 1], [0, 17], [31, 23]])
    with pytest.raises(ValueError, match="max_distance=8 must exceed the 8 exact buckets"):
        relative_position_bucket(tf.constant([1]), True, 32, 8)


def distinct_bias(num_buckets=32, num_heads=3, bidirectional=True, max_distance=128):
    layer = RelativePositionBias(num_buckets, max_distance, num_heads, bidirectional)
    table = np.arange(num_buckets * num_heads, dtype=np.float32).reshape(num_buckets, num_heads)
    layer.embeddings.assign(table)
    return layer, table


@pytest.mark.parametrize("bidirectional", [True, False])
def test_bias_gathers_the_bucket_row_of_each_query_key_pair(bidirectional):
    layer, table = distinct_bias(bidirectional=bidirectional)
    bias = layer(5, 300).numpy()
    assert bias.shape == (1, 3, 5, 300) and bias.dtype == np.float32
    for query in range(5):
        buckets = [t5_bucket(key - query, bidirectional, 32, 128) for key in range(300)]
        np.testing.assert_array_equal(bias[0, :, query, :], table[buckets].T)


def test_offset_queries_equal_rows_of_the_full_bias_in_xla():
    layer, _ = distinct_bias(bidirectional=False)
    full = layer(12, 12).numpy()
    step = tf.function(lambda q, k, offset: layer(q, k, query_offset=offset), jit_compile=True)
    for offset, count in [(0, 1), (7, 1), (9, 3)]:
        got = step(tf.constant(count), tf.constant(offset + count), tf.constant(offset))
        np.testing.assert_array_equal(got, full[:, :, offset:offset + count, :offset + count])


def test_bias_is_float32_under_mixed_bfloat16_and_a_layer():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = RelativePositionBias(8, 16, num_heads=2, name="relative_attention_bias")
        assert layer(3, 4).dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy(previous)
    layer = run_layer_test(
        lambda: RelativePositionBias(8, 16, num_heads=2, bidirectional=False, name="bias"),
        {"query_length": tf.constant(3), "key_length": tf.constant(5)}, expected_shape=(1, 2, 3, 5))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == \
        [("bias/embeddings", (8, 2))]


def test_clipped_relative_positions():
    expected = np.clip(np.arange(9)[None, :] - (np.arange(4)[:, None] + 3), -2, 2) + 2
    np.testing.assert_array_equal(clipped_relative_positions(4, 9, 2, query_offset=3), expected)
    dynamic = tf.function(clipped_relative_positions, jit_compile=True)
    np.testing.assert_array_equal(dynamic(tf.constant(1), tf.constant(9), 2, tf.constant(5)),
                                  expected[2:3])
