"""Fixed sinusoidal position encodings (Vaswani et al., 2017), e.g. Marian's.

Row `p` holds `sin(p * w_i)` and `cos(p * w_i)` for the frequencies
`w_i = 10000 ** (-2 i / dim)`, `i = 0 .. dim/2 - 1`, in one of two layouts:

- `"concatenated"`: `[sin(p w_0) .. sin(p w_{dim/2-1}) | cos(p w_0) .. cos(p w_{dim/2-1})]`,
  the table Hugging Face's Marian models hold (`MarianSinusoidalPositionalEmbedding`);
- `"interleaved"`: sin at even columns, cos at odd ones (the paper, TensorFlow's tutorial).

Accuracy: a float32 angle `p * w_i` is off by up to half an ulp of itself
(3e-5 at position 512, 2.4e-4 at 4,096: measured against float64). The angle
is therefore formed and reduced to `[-pi, pi]` in float64 (positions are
exact integers, frequencies float64), cast once to float32, and only then
goes through float32 `sin`/`cos`: max |error| 1.6e-7 up to position 4,096 at
dim 512 (1.4e-7 at positions near 100,000; XLA alike). The table is cast to
the caller's dtype last, so a bf16 model gets bf16-rounded rows of an
accurate table (error <= 2e-3), not a table computed in bf16 (keras-hub's
`SinePositionEncoding` under `mixed_bfloat16`: 1.87 at row 1,000, dim 512).
The float64 ops are a multiply and a rounding per entry (cheap on CPU/GPU).
Under XLA the `max_positions` assertion is dropped (XLA has no Assert).

Example:

    table = sinusoidal_positions(tf.range(16), dim=512)            # [16, 512] float32
    embed = SinusoidalPositionEmbedding(512, max_positions=512)
    rows = embed(1, start_index=step)                             # decoding: [1, 512]
"""

import math

import keras
import numpy as np
import tensorflow as tf

LAYOUTS = ("concatenated", "interleaved")
# The base of the frequencies (Vaswani et al., 2017, section 3.5).
FREQUENCY_BASE = 10000.0


def _checked(dim, layout):
    if layout not in LAYOUTS:
        raise ValueError(f"sinusoidal positions: layout={layout!r}; expected one of {LAYOUTS}.")
    if not isinstance(dim, int) or dim <= 0 or dim % 2:
        raise ValueError(f"sinusoidal positions: dim={dim!r}; expected a positive even integer "
                         "(a sin and a cos column per frequency).")


def sinusoidal_positions(positions, dim, layout="concatenated", dtype=tf.float32):
    """The encodings of int `positions [n]`: `[n, dim]`, then cast to `dtype`.

    Angles are formed and reduced in float64, sin/cos taken in float32 (see the module).

    Works in a `tf.function` / XLA with a dynamic `n` (e.g. `tf.range(start, start + n)`).

    Example: `sinusoidal_positions(tf.range(3, 5), 8)` -> rows 3 and 4 of the table, `[2, 8]`.
    """
    _checked(dim, layout)
    frequencies = tf.constant(FREQUENCY_BASE ** (-2.0 * np.arange(dim // 2) / dim), tf.float64)
    angles = tf.cast(positions, tf.float64)[:, None] * frequencies  # exact integers times float64
    turns = tf.round(angles / (2.0 * math.pi))
    reduced = tf.cast(angles - (2.0 * math.pi) * turns, tf.float32)  # in [-pi, pi]
    sin, cos = tf.sin(reduced), tf.cos(reduced)
    if layout == "concatenated":
        table = tf.concat([sin, cos], axis=-1)
    else:
        table = tf.reshape(tf.stack([sin, cos], axis=-1), [-1, dim])
    return tf.cast(table, dtype)


@keras.saving.register_keras_serializable(package="tfcore")
class SinusoidalPositionEmbedding(keras.layers.Layer):
    """Rows of the sinusoidal table in the layer's compute dtype; no weights.

    `call(length_or_positions, start_index=0)`: a scalar length `n` gives the
    rows `start_index .. start_index + n - 1` (`[n, dim]`); int positions `[n]`
    give their rows (shifted by `start_index`). Both may be tensors. With
    `max_positions`, a position >= `max_positions` is refused (ValueError when
    known while tracing, else an assertion), as a learned table of that size would.

    Example:

        embed = SinusoidalPositionEmbedding(512, max_positions=512)
        x = token_embeddings + embed(tf.shape(token_ids)[1])     # [b, s, 512] + [s, 512]
    """

    def __init__(self, dim, layout="concatenated", max_positions=None, **kwargs):
        super().__init__(**kwargs)
        _checked(dim, layout)
        self.dim, self.layout, self.max_positions = dim, layout, max_positions
        self.built = True  # nothing to build

    def __call__(self, length_or_positions, start_index=0, **kwargs):
        # Keras takes only tensors positionally; a Python length is a valid input here.
        if isinstance(length_or_positions, (int, np.integer)):
            length_or_positions = tf.constant(length_or_positions, tf.int32)
        return super().__call__(length_or_positions, start_index=start_index, **kwargs)

    def call(self, length_or_positions, start_index=0):
        value = tf.cast(length_or_positions, tf.int32)
        start_index = tf.cast(start_index, tf.int32)
        positions = (tf.range(value) if value.shape.rank == 0 else value) + start_index
        return sinusoidal_positions(self._within_max_positions(positions), self.dim, self.layout,
                                    self.compute_dtype)

    def _within_max_positions(self, positions):
        """`positions`, refused when one is >= max_positions (at once when known)."""
        if self.max_positions is None:
            return positions
        known = tf.get_static_value(positions)
        if known is not None:
            if known.size and known.max() >= self.max_positions:
                raise ValueError(f"SinusoidalPositionEmbedding: position {known.max()} >= "
                                 f"max_positions {self.max_positions}.")
            return positions
        check = tf.debugging.assert_less(
            positions, self.max_positions,
            message=f"SinusoidalPositionEmbedding: a position >= max_positions {self.max_positions}")
        with tf.control_dependencies([check]):  # before the rows are used
            return tf.identity(positions)

    def compute_output_shape(self, length_or_positions_shape, start_index_shape=None):
        return (None, self.dim)

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, layout=self.layout, max_positions=self.max_positions)
        return config
