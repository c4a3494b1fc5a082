import keras
import numpy as np
import tensorflow as tf

from tests.references import tiny_bert_config
from tests.testing import (assert_close, check_keras_save_load, mirrored_strategy,
                           run_layer_test, to_numpy)
from tfbert import BertPretrainer, MaskedLanguageModel, NextSentencePrediction
from tfcore.training import RATIO_EPSILON

MASK_ID = 4


def tiny_config(**overrides):
    """The shared tiny BERT with this module's vocabulary, window and initializer."""
    return tiny_bert_config(**{"vocab_size": 40, "max_position_embeddings": 16,
                               "initializer_range": 0.02, **overrides})


def synthetic_records(n=32, seq=12, predictions=3, vocab=40, seed=0):
    """Google-format feature dicts: masked positions hold [MASK], labels the original ids."""
    rng = np.random.default_rng(seed)
    original = rng.integers(5, vocab, (n, seq)).astype(np.int32)
    positions = np.sort(np.stack([rng.choice(np.arange(1, seq), predictions, replace=False)
                                  for _ in range(n)]), axis=1).astype(np.int32)
    weights = np.ones((n, predictions), np.float32)
    weights[::4, -1] = 0.0  # some records predict fewer tokens (padded predictions)
    input_ids = original.copy()
    np.put_along_axis(input_ids, positions, MASK_ID, axis=1)
    return {"input_ids": input_ids,
            "segment_ids": (np.arange(seq)[None] >= seq // 2).repeat(n, 0).astype(np.int32),
            "input_mask": np.ones((n, seq), np.int32),
            "masked_lm_positions": positions,
            "masked_lm_ids": np.take_along_axis(original, positions, 1) * (weights > 0),
            "masked_lm_weights": weights,
            "next_sentence_labels": rng.integers(0, 2, (n, 1)).astype(np.int32)}


def np_log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_outputs_and_google_loss_formula():
    model = BertPretrainer(tiny_config())
    records = synthetic_records(n=6)
    out = model(records)
    assert set(out) == {"masked_lm_logits", "next_sentence_logits"}
    assert out["masked_lm_logits"].shape == (6, 3, 40)
    assert out["next_sentence_logits"].shape == (6, 2)
    loss = model.compute_loss(x=records, y_pred=out)
    # Google's get_masked_lm_output / get_next_sentence_output, in NumPy.
    logp = np_log_softmax(np.asarray(out["masked_lm_logits"], np.float64))
    nll = -np.take_along_axis(logp, records["masked_lm_ids"][..., None], -1)[..., 0]
    w = records["masked_lm_weights"]
    mlm = (nll * w).sum() / (w.sum() + RATIO_EPSILON)
    nsp_logp = np_log_softmax(np.asarray(out["next_sentence_logits"], np.float64))
    nsp = -np.take_along_axis(nsp_logp, records["next_sentence_labels"], -1).mean()
    assert_close(loss, mlm + nsp, 1e-5, "total loss")


def test_heads_match_numpy():
    model = BertPretrainer(tiny_config(hidden_act="gelu"))
    records = synthetic_records(n=4)
    seq = np.asarray(model.bert(records)["sequence_output"], np.float64)
    out = model(records)
    kernel, bias = [w.numpy() for w in model.masked_lm.transform.weights]
    gamma, beta = [w.numpy() for w in model.masked_lm.layer_norm.weights]
    from math import erf
    x = np.take_along_axis(seq, records["masked_lm_positions"][..., None], 1) @ kernel + bias
    x = 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-12) * gamma + beta
    table = model.bert.embedding.word_embeddings.numpy()
    expected = x @ table.T + model.masked_lm.output_bias.numpy()
    assert_close(out["masked_lm_logits"], expected, 1e-4, "MLM logits (tied decoder)")
    pooled = np.asarray(model.bert(records)["pooled_output"])
    nsp_kernel, nsp_bias = [w.numpy() for w in model.next_sentence.weights]
    assert_close(out["next_sentence_logits"], pooled @ nsp_kernel + nsp_bias, 1e-5)


def test_head_layer_contracts():
    rng = np.random.default_rng(0)
    run_layer_test(lambda: MaskedLanguageModel(vocab_size=20),
                   {"sequence_output": rng.normal(size=(2, 6, 8)).astype(np.float32),
                    "masked_positions": np.array([[1, 2], [0, 5]], np.int32),
                    "embedding_table": rng.normal(size=(20, 8)).astype(np.float32)},
                   expected_shape=(2, 2, 20))
    run_layer_test(lambda: NextSentencePrediction(),
                   {"pooled_output": rng.normal(size=(3, 8)).astype(np.float32)},
                   expected_shape=(3, 2))


def test_fit_memorises_small_set():
    keras.utils.set_random_seed(0)
    records = synthetic_records()
    ds = tf.data.Dataset.from_tensor_slices(records).shuffle(32, seed=0).batch(8).repeat()
    model = BertPretrainer(tiny_config())
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(ds, steps_per_epoch=40, epochs=4, verbose=0)
    metrics = model.evaluate(tf.data.Dataset.from_tensor_slices(records).batch(8),
                             return_dict=True, verbose=0)
    assert metrics["masked_lm_accuracy"] > 0.9, metrics
    assert metrics["next_sentence_accuracy"] > 0.9, metrics


def test_weights_mask_out_padded_predictions():
    model = BertPretrainer(tiny_config())
    records = synthetic_records(n=8)
    changed = dict(records, masked_lm_ids=records["masked_lm_ids"].copy())
    changed["masked_lm_ids"][::4, -1] = 7  # only where the weight is 0
    out = model(records)
    assert_close(model.compute_loss(x=changed, y_pred=out),
                 model.compute_loss(x=records, y_pred=out), 1e-7)


def test_pretrainer_keras_round_trip(tmp_path):
    model = BertPretrainer(tiny_config())
    records = synthetic_records(n=4)
    reloaded = check_keras_save_load(model, records, tmp_path)
    assert_close(to_numpy(reloaded.bert(records)), to_numpy(model.bert(records)), 1e-6)


def test_pretrainer_trains_under_mixed_bfloat16_and_mirrored_strategy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        strategy = mirrored_strategy()
        with strategy.scope():
            model = BertPretrainer(tiny_config(num_hidden_layers=1))  # depth is not tested
            model.compile(optimizer=keras.optimizers.Adam(3e-3))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    ds = tf.data.Dataset.from_tensor_slices(synthetic_records()).batch(8)
    first = model.evaluate(ds, return_dict=True, verbose=0)["loss"]
    model.fit(ds.repeat(), steps_per_epoch=20, epochs=1, verbose=0)
    last = model.evaluate(ds, return_dict=True, verbose=0)["loss"]
    assert np.isfinite(last) and last < first
