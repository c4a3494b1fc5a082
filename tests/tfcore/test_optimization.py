"""Optimizers against NumPy transcriptions of their published update rules."""

import keras
import numpy as np
import pytest

from tfcore.optimization import AdamWeightDecay, BiasCorrectedAdamW, create_optimizer


def google_adam_weight_decay(w, grads, lr, wd, b1=0.9, b2=0.999, eps=1e-6):
    """google-research/bert optimization.py AdamWeightDecayOptimizer, in NumPy."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (np.sqrt(v) + eps) + wd * w)
    return w


def torch_adamw(w, grads, lr, wd, b1=0.9, b2=0.999, eps=1e-6):
    """torch.optim.AdamW's documented update (epsilon added to sqrt(v_hat)), in NumPy."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w - lr * wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
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
    # The bias-corrected AdamW takes visibly different steps.
    corrected = _run(create_optimizer("adamw", 1e-2, weight_decay=0.1), w0, grads, name)
    assert np.max(np.abs(corrected - expected)) > 1e-3


@pytest.mark.parametrize("name,decayed", [("dense_kernel", True), ("bias", False)])
def test_bias_corrected_adamw_is_torch_update(name, decayed):
    # Small gradients, where epsilon's place matters: Keras' AdamW ("epsilon hat")
    # differs from PyTorch's rule here, ours does not.
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    grads = [rng.normal(size=(4, 3)).astype(np.float32) * s for s in (1e-6, 3e-6, 1e-5, 2e-6)]
    wd = 0.1 if decayed else 0.0
    expected = torch_adamw(w0.astype(np.float64), grads, 1e-2, wd)
    optimizer = create_optimizer("adamw", 1e-2, weight_decay=0.1, bias_correction=True)
    assert isinstance(optimizer, BiasCorrectedAdamW)
    np.testing.assert_allclose(_run(optimizer, w0, grads, name), expected, rtol=1e-5, atol=1e-6)
    keras_adamw = keras.optimizers.AdamW(1e-2, weight_decay=wd, epsilon=1e-6)
    assert np.max(np.abs(_run(keras_adamw, w0, grads, name) - expected)) > 1e-3


def test_adam_weight_decay_round_trips_through_keras_config():
    optimizer = create_optimizer("adamw", 1e-3, weight_decay=0.01, bias_correction=False)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is AdamWeightDecay and restored.weight_decay == 0.01
