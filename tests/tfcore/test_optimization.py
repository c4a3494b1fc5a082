"""Optimizers against NumPy transcriptions of their published update rules."""

import keras
import numpy as np
import pytest

from tfcore.optimization import AdamWeightDecay, create_optimizer


def google_adam_weight_decay(w, grads, lr, wd, b1=0.9, b2=0.999, eps=1e-6):
    """google-research/bert optimization.py AdamWeightDecayOptimizer, in NumPy."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (np.sqrt(v) + eps) + wd * w)
    return w


def _run(optimizer, w0, grads, name="dense_kernel"):
    variable = keras.Variable(w0, name=name)
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    return np.asarray(variable)


@pytest.mark.parametrize("name,decayed", [("dense_kernel", True), ("bias", False)])
def test_adam_weight_decay_is_googles_update(name, decayed):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    grads = [rng.normal(size=(4, 3)).astype(np.float32) * s for s in (1.0, 0.1, 3.0, 0.5)]
    optimizer = create_optimizer("adamw", 1e-2, weight_decay=0.1, bias_correction=False)
    assert isinstance(optimizer, AdamWeightDecay)
    got = _run(optimizer, w0, grads, name)
    expected = google_adam_weight_decay(w0, grads, 1e-2, 0.1 if decayed else 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # Keras' AdamW (bias-corrected) takes visibly different steps.
    corrected = _run(create_optimizer("adamw", 1e-2, weight_decay=0.1), w0, grads, name)
    assert np.max(np.abs(corrected - expected)) > 1e-3


def test_adam_weight_decay_round_trips_through_keras_config():
    optimizer = create_optimizer("adamw", 1e-3, weight_decay=0.01, bias_correction=False)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is AdamWeightDecay and restored.weight_decay == 0.01
