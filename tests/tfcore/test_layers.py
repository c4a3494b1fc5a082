import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.references import layer_norm as np_layer_norm
from tests.testing import assert_close, run_layer_test
from tfcore.layers import (FeedForward, LayerNorm, MultiHeadAttention, TransformerBlock,
                            get_activation)
from tfcore.layers.attention import ATTENTION_MASK_ADDER

RNG = np.random.default_rng(0)


def np_attention(x, weights, num_heads, mask, causal=False):
    """NumPy multi-head attention; `weights` = [qk, qb, kk, kb, vk, vb, ok, ob]."""
    qk, qb, kk, kb, vk, vb, ok, ob = weights
    b, s, h = x.shape
    d = h // num_heads
    split = lambda t: t.reshape(b, s, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = split(x @ qk + qb), split(x @ kk + kb), split(x @ vk + vb)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    allowed = np.broadcast_to(mask[:, None, None, :], scores.shape).astype(bool)
    if causal:
        allowed = allowed & np.tril(np.ones((s, s), bool))
    scores = np.where(allowed, scores, scores + ATTENTION_MASK_ADDER)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
    return context @ ok + ob


def np_gelu(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))


def np_block(x, w, num_heads, mask, norm_first, causal, eps):
    attn_w, (ik, ib, ok, ob) = w[:8], w[8:12]
    g1, b1, g2, b2 = w[12:16]
    ffn = lambda t: np_gelu(t @ ik + ib) @ ok + ob
    if norm_first:
        x = x + np_attention(np_layer_norm(x, g1, b1, eps), attn_w, num_heads, mask, causal)
        return x + ffn(np_layer_norm(x, g2, b2, eps))
    x = np_layer_norm(x + np_attention(x, attn_w, num_heads, mask, causal), g1, b1, eps)
    return np_layer_norm(x + ffn(x), g2, b2, eps)


def padding_mask(lengths, seq):
    return (np.arange(seq)[None] < np.array(lengths)[:, None]).astype(np.int32)


def test_activations_gelu_is_exact_and_tanh_variants_approximate():
    x = np.linspace(-4, 4, 101).astype(np.float32)
    exact = np_gelu(x.astype(np.float64))
    assert_close(get_activation("gelu")(x), exact, 1e-6)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    for name in ("gelu_new", "gelu_tanh", "gelu_pytorch_tanh"):
        assert_close(get_activation(name)(x), tanh_form, 1e-6)
    assert np.max(np.abs(tanh_form - exact)) > 1e-4  # the two forms really differ
    with pytest.raises(ValueError, match="gelu_tanh"):
        get_activation("gelu2")


def test_attention_layer_contract_and_kernel_shapes():
    x = RNG.normal(size=(2, 5, 16)).astype(np.float32)
    layer = run_layer_test(lambda: MultiHeadAttention(num_heads=4),
                           {"x": x, "attention_mask": padding_mask([5, 3], 5)},
                           expected_shape=(2, 5, 16))
    assert [tuple(w.shape) for w in layer.weights if w.path.endswith("kernel")] == [(16, 16)] * 4


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_numpy(causal):
    x = RNG.normal(size=(3, 6, 16)).astype(np.float32)
    mask = padding_mask([6, 4, 1], 6)
    layer = MultiHeadAttention(num_heads=4, causal=causal)
    out = layer(x, attention_mask=mask)
    expected = np_attention(x.astype(np.float64), [w.numpy() for w in layer.weights],
                            4, mask, causal)
    assert_close(out, expected, 1e-5)


def test_feed_forward_contract():
    run_layer_test(lambda: FeedForward(32, activation="gelu"),
                   {"x": RNG.normal(size=(2, 3, 8)).astype(np.float32)},
                   expected_shape=(2, 3, 8))


@pytest.mark.parametrize("shape", [(5, 8), (2, 3, 8), (2, 3, 4, 8)])
def test_feed_forward_matches_numpy_at_any_rank(shape):
    # The dense products run on 2-D rows whatever the input's rank (tfcore.layers.flat).
    ffn = FeedForward(16, activation="gelu")
    x = RNG.normal(size=shape).astype(np.float32)
    out = ffn(x)
    ik, ib, ok, ob = (w.numpy() for w in ffn.weights)
    assert out.shape == shape
    assert_close(out, np_gelu(x @ ik + ib) @ ok + ob, 1e-5)


@pytest.mark.parametrize("norm_first, causal", [(False, False), (True, True)])
def test_transformer_block_matches_numpy(norm_first, causal):
    x = RNG.normal(size=(2, 7, 16)).astype(np.float32)
    mask = padding_mask([7, 5], 7)
    block = run_layer_test(
        lambda: TransformerBlock(4, 32, norm_first=norm_first, causal=causal,
                                 layer_norm_epsilon=1e-5),
        {"x": x, "attention_mask": mask}, expected_shape=(2, 7, 16))
    out = block(x, attention_mask=mask)
    names = [w.path.split("/", 1)[1] for w in block.weights]
    assert names[:8] == ["attention/query/kernel", "attention/query/bias",
                         "attention/key/kernel", "attention/key/bias",
                         "attention/value/kernel", "attention/value/bias",
                         "attention/output_dense/kernel", "attention/output_dense/bias"]
    expected = np_block(x.astype(np.float64), [w.numpy() for w in block.weights], 4, mask,
                        norm_first, causal, 1e-5)
    assert_close(out, expected, 2e-5)


def test_causal_block_ignores_future_tokens():
    block = TransformerBlock(2, 16, causal=True, norm_first=True)
    x = RNG.normal(size=(1, 6, 8)).astype(np.float32)
    changed = x.copy()
    changed[:, 4:] = RNG.normal(size=(1, 2, 8))
    assert_close(block(changed)[:, :4], block(x)[:, :4], 1e-6)
    assert np.max(np.abs(block(changed)[:, 4:] - block(x)[:, 4:])) > 1e-3


def test_kv_cache_decoding_equals_full_causal_pass():
    block = TransformerBlock(2, 16, causal=True, norm_first=True, dropout_rate=0.0)
    x = RNG.normal(size=(2, 6, 8)).astype(np.float32)
    full = block(x)
    cache = (tf.zeros([2 * 2, 8, 4]), tf.zeros([2 * 2, 8, 4]))  # room for 8 positions
    prefix, cache = block(x[:, :3], cache=cache, cache_index=0)
    steps = [prefix]
    for i in range(3, 6):
        out, cache = block(x[:, i:i + 1], cache=cache, cache_index=i)
        steps.append(out)
    assert_close(tf.concat(steps, axis=1), full, 1e-5, "cached decoding")
    for part in cache:
        assert float(tf.reduce_max(tf.abs(part[:, 6:]))) == 0.0  # unused slots untouched


def test_float32_cache_stays_float32_under_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        block = TransformerBlock(2, 16, causal=True, norm_first=True, dropout_rate=0.0)
        x = RNG.normal(size=(1, 4, 8)).astype(np.float32)
        full = block(x)
        cache = (tf.zeros([2, 4, 4]), tf.zeros([2, 4, 4]))
        first, cache = block(x[:, :3], cache=cache, cache_index=0)
        last, cache = block(x[:, 3:], cache=cache, cache_index=3)
        assert [c.dtype for c in cache] == [tf.float32, tf.float32]
        assert first.dtype == last.dtype == tf.bfloat16
        assert_close(tf.cast(tf.concat([first, last], 1), tf.float32),
                     tf.cast(full, tf.float32), 3e-2, "bf16 block, float32 cache")
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_block_runs_under_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        block = TransformerBlock(2, 16)
        x = RNG.normal(size=(2, 4, 8)).astype(np.float32)
        out = block(x, attention_mask=padding_mask([4, 2], 4))
        assert out.dtype == tf.bfloat16
        assert block.weights[0].dtype == "float32"
        assert np.all(np.isfinite(tf.cast(out, tf.float32).numpy()))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_indivisible_heads_is_a_clear_error():
    with pytest.raises(ValueError, match="not divisible by num_heads 3"):
        MultiHeadAttention(num_heads=3)(np.zeros((1, 2, 8), np.float32))


@pytest.mark.parametrize("shape", [(5, 16), (2, 3, 16)])
def test_layer_norm_matches_numpy_at_inference_and_in_training(shape):
    norm = LayerNorm(epsilon=1e-12)
    norm.build(shape)
    norm.gamma.assign(RNG.uniform(0.5, 1.5, 16).astype(np.float32))
    norm.beta.assign(RNG.normal(size=16).astype(np.float32))
    x = (RNG.normal(size=shape) * 3 + 1).astype(np.float32)
    expected = np_layer_norm(x, norm.gamma.numpy(), norm.beta.numpy(), 1e-12)
    # Unknown shapes when traced: the form grappler can fuse into one oneDNN op.
    dynamic = tf.function(norm, input_signature=[tf.TensorSpec([None] * len(shape), tf.float32)])
    for name, y in (("eager", norm(x)), ("traced, dynamic shapes", dynamic(x)),
                    ("training", norm(x, training=True))):
        assert_close(y, expected, 1e-5, name)


def test_layer_norm_in_bfloat16_stays_close_to_float32():
    norm = LayerNorm(epsilon=1e-5, dtype="bfloat16")
    norm.build((4, 32))
    x = RNG.normal(size=(4, 32)).astype(np.float32)
    y = tf.function(norm, input_signature=[tf.TensorSpec([None, None], tf.float32)])(x)
    assert y.dtype == tf.bfloat16
    assert_close(tf.cast(y, tf.float32), np_layer_norm(x, 1.0, 0.0, 1e-5), 3e-2, "bf16")
