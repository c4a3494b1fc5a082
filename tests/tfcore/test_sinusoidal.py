"""Sinusoidal position tables vs a float64 NumPy transcription of the published formula.

For comparison (measured once, not a test): keras-hub 0.32's
`keras_hub.layers.SinePositionEncoding` (interleaved layout) under
`mixed_bfloat16` computes the table in bf16; at dim 512 its row 1,000 is
off by up to 1.87 (max over rows < 4,096: 2.0, i.e. sign-flipped values)
from the float64 table, while ours in the same policy is off by 0.00195
(bf16 rounding of accurate values). Reproduce:

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    rows = keras_hub.layers.SinePositionEncoding()(tf.zeros([1, 4096, 512], tf.bfloat16))[0]
    np.abs(np.float32(rows[1000]) - float64_table(4096, 512, "interleaved")[1000]).max()
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import assert_close
from tfcore.layers import SinusoidalPositionEmbedding, sinusoidal_positions


def float64_table(num_positions, dim, layout):
    """Marian's table (angle pos / 10000^(2 (j // 2) / dim) for column j), in float64.

    Even columns j take the sine of their angle, odd ones the cosine; Marian
    puts all the sines first ("concatenated"), the paper keeps them in place.
    """
    exponents = 2 * (np.arange(dim) // 2) / dim
    angles = np.arange(num_positions)[:, None] / np.power(10000.0, exponents)[None, :]
    if layout == "interleaved":
        return np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))
    return np.concatenate([np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])], axis=1)


@pytest.fixture
def bf16_policy():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("layout", ["concatenated", "interleaved"])
@pytest.mark.parametrize("dim", [16, 512])
def test_table_matches_float64_formula(dim, layout):
    ours = sinusoidal_positions(tf.range(512), dim, layout)
    assert ours.dtype == tf.float32 and ours.shape == (512, dim)
    assert_close(ours, float64_table(512, dim, layout), 1e-6, f"{layout} table, dim {dim}")


def test_layouts_differ_and_concatenated_is_sines_then_cosines():
    concatenated = sinusoidal_positions(tf.range(4), 8).numpy()
    interleaved = sinusoidal_positions(tf.range(4), 8, "interleaved").numpy()
    np.testing.assert_array_equal(concatenated[:, :4], interleaved[:, 0::2])
    np.testing.assert_array_equal(concatenated[:, 4:], interleaved[:, 1::2])
    assert np.abs(concatenated - interleaved).max() > 0.5


def test_mixed_bfloat16_rows_are_rounded_accurate_values(bf16_policy):
    rows = SinusoidalPositionEmbedding(512)(4096)
    assert rows.dtype == tf.bfloat16 and rows.shape == (4096, 512)
    assert_close(tf.cast(rows, tf.float32), float64_table(4096, 512, "concatenated"), 1e-2,
                 "bf16 table up to position 4,096")


def test_offset_and_position_rows_equal_the_full_table_in_xla():
    embed = SinusoidalPositionEmbedding(16, "interleaved", max_positions=64)
    rows = tf.function(lambda n, start: embed(n, start_index=start), jit_compile=True)
    full = rows(tf.constant(64), tf.constant(0)).numpy()
    for start, n in [(7, 1), (40, 24)]:
        np.testing.assert_array_equal(rows(tf.constant(n), tf.constant(start)), full[start:start + n])
    eager = embed(64).numpy()  # XLA's fused sin/cos may differ in the last bit
    assert_close(full, eager, 1e-6, "XLA vs eager")
    np.testing.assert_array_equal(embed(tf.constant([3, 0, 63])), eager[[3, 0, 63]])
    np.testing.assert_array_equal(embed(2, start_index=62), eager[62:])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="dim=7.*even"):
        sinusoidal_positions(tf.range(3), 7)
    with pytest.raises(ValueError, match="layout='sines'"):
        SinusoidalPositionEmbedding(8, layout="sines")
    embed = SinusoidalPositionEmbedding(8, max_positions=10)
    with pytest.raises(ValueError, match="position 10 >= max_positions 10"):
        embed(4, start_index=7)
    dynamic = tf.function(lambda n: embed(n, start_index=7))
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_positions 10"):
        dynamic(tf.constant(4))
    assert dynamic(tf.constant(3)).shape == (3, 8)


def test_config_round_trip_and_no_weights():
    embed = SinusoidalPositionEmbedding(8, "interleaved", max_positions=32, name="positions")
    clone = SinusoidalPositionEmbedding.from_config(embed.get_config())
    assert (clone.dim, clone.layout, clone.max_positions, clone.name) == (8, "interleaved", 32, "positions")
    np.testing.assert_array_equal(clone(5, start_index=2), embed(5, start_index=2))
    assert not embed.weights
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(embed))
    assert isinstance(restored, SinusoidalPositionEmbedding)
