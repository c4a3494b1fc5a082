"""RMSNorm (T5's layer norm) vs NumPy, and its dtypes under mixed precision."""

import keras
import numpy as np
import tensorflow as tf

from tests.testing import assert_close, run_layer_test
from tfcore.layers import RMSNorm

RNG = np.random.default_rng(0)


def np_rms_norm(x, scale, epsilon):
    """`scale * x / sqrt(mean(x^2) + eps)` over the last axis, float64 (no mean, no bias)."""
    x = np.asarray(x, np.float64)
    return scale * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + epsilon)


def test_rms_norm_matches_numpy_and_is_a_layer():
    x = RNG.normal(2.0, 3.0, size=(2, 5, 16)).astype(np.float32)
    layer = run_layer_test(lambda: RMSNorm(epsilon=1e-6, name="layer_norm"), {"x": x},
                           expected_shape=(2, 5, 16))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [("layer_norm/scale", (16,))]
    fresh = RMSNorm(epsilon=1e-6)
    assert_close(fresh(x), np_rms_norm(x, 1.0, 1e-6), 1e-5, "scale ones")
    np.testing.assert_array_equal(fresh.scale.numpy(), np.ones(16, np.float32))
    scale = RNG.normal(size=16).astype(np.float32)
    fresh.scale.assign(scale)
    assert_close(fresh(x), np_rms_norm(x, scale, 1e-6), 1e-5, "random scale")
    # The mean is not subtracted: a constant row keeps its sign and scale.
    assert_close(RMSNorm(epsilon=0.0)(np.full((1, 4), -3.0, np.float32)), [[-1.0] * 4], 1e-6)
    big_eps = RMSNorm(epsilon=4.0)
    assert_close(big_eps(x), np_rms_norm(x, 1.0, 4.0), 1e-5, "epsilon inside the root")
    assert RMSNorm.from_config(big_eps.get_config()).epsilon == 4.0


def test_rms_norm_under_mixed_bfloat16_keeps_float32_statistics():
    x = (RNG.normal(size=(3, 64)) * 100).astype(np.float32)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = RMSNorm()
        y = layer(tf.cast(x, tf.bfloat16))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert y.dtype == tf.bfloat16 and layer.scale.dtype == "float32"
    reference = np_rms_norm(np.asarray(tf.cast(tf.cast(x, tf.bfloat16), tf.float32)), 1.0, 1e-6)
    assert_close(tf.cast(y, tf.float32), reference, 2 ** -8 * np.abs(reference).max(), "bf16 output")
