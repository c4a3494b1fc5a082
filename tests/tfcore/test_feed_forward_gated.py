"""FeedForward(gated=True): T5 v1.1's gated-GELU feed-forward vs NumPy; the default unchanged."""

import numpy as np

from tests.references import gelu_tanh
from tests.testing import assert_close, run_layer_test
from tfcore.layers import FeedForward

RNG = np.random.default_rng(0)


def kernels(layer):
    return {w.path.split("/", 1)[1]: w.numpy().astype(np.float64) for w in layer.weights}


def test_gated_feed_forward_matches_numpy():
    x = RNG.normal(size=(2, 3, 8)).astype(np.float32)
    layer = run_layer_test(
        lambda: FeedForward(intermediate_size=12, activation="gelu_new", use_bias=False,
                            gated=True, name="ffn"), {"x": x}, expected_shape=(2, 3, 8))
    w = kernels(layer)
    assert {k: v.shape for k, v in w.items()} == {
        "intermediate/kernel": (8, 12), "gate/kernel": (8, 12), "output_dense/kernel": (12, 8)}
    # T5DenseGatedActDense: wo(act(wi_0 x) * wi_1 x)
    expected = (gelu_tanh(x @ w["intermediate/kernel"]) * (x @ w["gate/kernel"])) \
        @ w["output_dense/kernel"]
    assert_close(layer(x), expected, 1e-5, "gated feed-forward")
    assert layer.get_config()["gated"] is True


def test_default_feed_forward_is_unchanged_and_old_configs_load():
    x = RNG.normal(size=(4, 8)).astype(np.float32)
    layer = FeedForward(intermediate_size=12, activation="relu", name="ffn")
    y = layer(x)
    w = kernels(layer)
    assert sorted(w) == ["intermediate/bias", "intermediate/kernel", "output_dense/bias",
                         "output_dense/kernel"]
    expected = np.maximum(x @ w["intermediate/kernel"] + w["intermediate/bias"], 0) \
        @ w["output_dense/kernel"] + w["output_dense/bias"]
    assert_close(y, expected, 1e-5, "ungated feed-forward")
    config = layer.get_config()
    assert config["gated"] is False
    del config["gated"]  # a config saved before the option existed
    old = FeedForward.from_config(config)
    old(x)
    old.set_weights(layer.get_weights())
    np.testing.assert_array_equal(old(x), y)
