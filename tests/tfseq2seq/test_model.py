"""Seq2SeqModel: cached decoding equals recomputing the prefix for every position scheme, the
label-smoothed loss equals its NumPy definition, fit() learns, configs round-trip through .keras."""

import numpy as np
import pytest
import tensorflow as tf

from tfseq2seq.config import Seq2SeqConfig
from tfseq2seq.model import Seq2SeqModel

VOCAB, PAD, EOS = 40, 0, 1
SCHEMES = {
    "sinusoidal": {},
    "learned": {},
    "shaw": {"max_relative_position": 3},
    # T5's layout: pre-LN RMSNorm, no biases, unscaled attention, gated FFN, d_kv != h / heads.
    "relative": dict(norm_first=True, norm="rms", use_bias=False, scale_queries=False,
                     gated_feed_forward=True, head_size=6, relative_attention_num_buckets=8,
                     relative_attention_max_distance=12),
}


def tiny(scheme, **changes):
    return Seq2SeqConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                         position_embedding=scheme, hidden_dropout_prob=0.0,
                         attention_probs_dropout_prob=0.0, **dict(SCHEMES[scheme], **changes))


def sources(rows=6, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, VOCAB, (rows, 9)).astype("int32")
    for row in range(rows):  # mixed lengths, right padding
        ids[row, 3 + row % 6:] = PAD
    return ids


def greedy_without_cache(model, ids, steps):
    """Recomputes the whole decoder prefix at every step (no cache), pad suppressed."""
    encoded, mask = model.encode(ids)
    decoded = tf.fill([ids.shape[0], 1], model.config.decoder_start_token_id)
    for _ in range(steps):
        logits = model.decode(decoded, encoded, mask)[:, -1]
        logits = tf.where(tf.range(VOCAB)[None] == PAD, -np.inf, tf.cast(logits, tf.float32))
        decoded = tf.concat([decoded, tf.argmax(logits, -1, output_type=tf.int32)[:, None]], 1)
    return decoded[:, 1:].numpy()


def until_end(row):
    row = list(row)
    return row[:row.index(EOS) + 1] if EOS in row else row


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_cached_decoding_equals_recomputing_the_prefix(scheme):
    tf.keras.utils.set_random_seed(1)
    model = Seq2SeqModel(tiny(scheme, initializer_range=0.5))
    ids = sources()
    cached = model.generate(ids, max_new_tokens=7).numpy()
    reference = greedy_without_cache(model, ids, 7)
    for mine, theirs in zip(cached, reference):
        assert until_end(mine) == until_end(theirs)
    # The plain graph runs the same loop (the default compiles it with XLA): the same tokens.
    np.testing.assert_array_equal(model.generate(ids, max_new_tokens=7, jit_compile=False),
                                  cached)


def test_label_smoothed_loss_is_its_definition():
    model = Seq2SeqModel(tiny("sinusoidal"), label_smoothing=0.2)
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(2, 3, VOCAB)).astype("float32")
    targets = np.array([[5, 1, PAD], [7, 9, 1]], "int32")
    loss, nll, weights, _ = (t.numpy() for t in model.token_losses(targets, logits))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected_nll = -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    expected = 0.8 * expected_nll + 0.2 * -log_probs.mean(-1)
    np.testing.assert_allclose(nll, expected_nll, rtol=1e-5)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    np.testing.assert_array_equal(weights, targets != PAD)


def test_fit_learns_to_copy_and_keras_file_round_trips(tmp_path):
    tf.keras.utils.set_random_seed(3)
    model = Seq2SeqModel(tiny("sinusoidal"), label_smoothing=0.1)
    ids = sources(rows=64, seed=4)
    ids[:, 0] = np.arange(64) % (VOCAB - 2) + 2
    lengths = (ids != PAD).sum(1)
    ids[np.arange(64), np.minimum(lengths, 8)] = EOS   # each source ends with eos
    data = tf.data.Dataset.from_tensor_slices({"source_ids": ids, "target_ids": ids}).batch(16)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
    history = model.fit(data, epochs=25, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    assert history["accuracy"][-1] > 0.6, history["accuracy"]
    path = str(tmp_path / "model.keras")
    model.save(path)
    import keras
    loaded = keras.models.load_model(path)
    inputs = {"source_ids": ids[:4], "target_ids": ids[:4]}
    np.testing.assert_allclose(loaded(inputs).numpy(), model(inputs).numpy(), atol=1e-6)
    assert loaded.config == model.config and loaded.label_smoothing == 0.1
