import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import (assert_close, check_keras_save_load, check_saved_model_export,
                           mirrored_strategy, run_layer_test)
from tests.tfcore.keras_hub_blocks import backbone_sizes, copy_block_to_keras_hub
from tests.tfgpt.gpt_testing import tiny_config, tiny_lm
from tfcore.training import Trainer
from tfgpt import GPTEmbedding, GPTLanguageModel, GPTModel, LMTask

RNG = np.random.default_rng(3)


def records(n=16, length=9, vocab=61, learnable=False):
    """GPT records [n, length]: random ids, or (learnable) runs start, start + 1, ..."""
    if not learnable:
        return {"token_ids": RNG.integers(0, vocab, (n, length)).astype(np.int32)}
    starts = RNG.integers(0, vocab, (n, 1))
    return {"token_ids": ((starts + np.arange(length)) % vocab).astype(np.int32)}


def keras_hub_with_weights_of(lm):
    """keras-hub's GPT2CausalLM carrying `lm`'s weights (an independent implementation)."""
    import keras_hub
    c = lm.config
    backbone = keras_hub.models.GPT2Backbone(**backbone_sizes(c))
    emb = lm.gpt.embedding
    backbone.get_layer("token_embedding").embeddings.assign(emb.token_embedding)
    backbone.get_layer("position_embedding").position_embeddings.assign(emb.position_embedding)
    for i, block in enumerate(lm.gpt.blocks):
        copy_block_to_keras_hub(block, backbone.get_layer(f"transformer_layer_{i}"),
                                c.num_attention_heads)
    backbone.get_layer("layer_norm").set_weights(lm.gpt.final_layer_norm.get_weights())
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)


def test_logits_and_greedy_generation_match_keras_hub_gpt2():
    lm = tiny_lm()
    ref = keras_hub_with_weights_of(lm)
    ids = RNG.integers(0, 61, (3, 12)).astype(np.int32)
    theirs = ref({"token_ids": ids, "padding_mask": np.ones_like(ids)})
    assert_close(lm({"token_ids": ids}), theirs, 1e-4, "logits vs keras-hub GPT2CausalLM")
    # keras-hub generates into the padded width; prompts of 5 and 3 tokens, 10 new each.
    prompts = [[5, 9, 2, 33, 7], [40, 1, 17]]
    width = 5 + 10
    padded = np.zeros((2, width), np.int32)
    mask = np.zeros((2, width), bool)
    for i, p in enumerate(prompts):
        padded[i, :len(p)], mask[i, :len(p)] = p, True
    ref.compile(sampler="greedy")
    theirs = ref.generate({"token_ids": padded, "padding_mask": mask},
                          stop_token_ids=None)["token_ids"]
    ours = lm.generate(tf.ragged.constant(prompts), max_new_tokens=10).numpy()
    assert np.array_equal(ours[0], theirs[0])
    assert np.array_equal(ours[1][:13], theirs[1][:13])  # keras-hub fills to the width


def test_embedding_layer_contract():
    run_layer_test(lambda: GPTEmbedding(30, 16, max_position_embeddings=12, dropout_rate=0.0),
                   {"token_ids": RNG.integers(0, 30, (2, 5)).astype(np.int32)},
                   expected_shape=(2, 5, 16))


def test_cached_chunks_equal_the_full_forward():
    lm = tiny_lm()
    ids = tf.constant(RNG.integers(0, 61, (2, 10)), tf.int32)
    full = lm.gpt(ids)
    caches = lm.gpt.empty_cache(2, 16)
    pieces = []
    for start, stop in ((0, 4), (4, 5), (5, 10)):
        hidden, caches = lm.gpt.call_with_cache(ids[:, start:stop], caches, start)
        pieces.append(hidden)
    assert_close(tf.concat(pieces, 1), full, 1e-5, "cached chunks")


def gpt2_parameter_count(vocab, positions, hidden, layers, inner):
    """GPT-2's count: embeddings, per block 2 LayerNorms, qkv, projection, MLP; final LN."""
    block = 2 * 2 * hidden + 4 * (hidden * hidden + hidden) + 2 * hidden * inner + inner + hidden
    return vocab * hidden + positions * hidden + layers * block + 2 * hidden


def test_parameter_count_is_gpt2s():
    # Hugging Face GPT2LMHeadModel("gpt2"): 124,439,808 parameters (the head is tied).
    assert gpt2_parameter_count(50257, 1024, 768, 12, 3072) == 124_439_808
    config = tiny_config(num_hidden_layers=3, intermediate_size=40)
    assert GPTModel(config).count_params() == gpt2_parameter_count(61, 48, 32, 3, 40)
    assert GPTLanguageModel(config).count_params() == gpt2_parameter_count(61, 48, 32, 3, 40)


def test_too_long_input_names_both_sizes():
    lm = tiny_lm()
    with pytest.raises(ValueError, match="input length 49 exceeds max_position_embeddings 48"):
        lm({"token_ids": np.ones((1, 49), np.int32)})


def test_keras_round_trip_and_export(tmp_path):
    lm = tiny_lm()
    inputs = {"token_ids": RNG.integers(0, 61, (2, 7)).astype(np.int32)}
    reloaded = check_keras_save_load(lm, inputs, tmp_path)
    assert reloaded.config == lm.config
    check_saved_model_export(lm, inputs, tmp_path)


def test_fit_on_records_learns_and_loss_is_the_weighted_mean():
    keras.utils.set_random_seed(0)
    data = records(n=32, length=13, learnable=True)
    lm = GPTLanguageModel(tiny_config(initializer_range=0.02))
    lm.compile(optimizer=keras.optimizers.AdamW(1e-2))
    ds = tf.data.Dataset.from_tensor_slices(data).batch(8)
    first = lm.evaluate(ds, return_dict=True, verbose=0)
    logits = lm({"token_ids": data["token_ids"][:, :-1]}).numpy().astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = data["token_ids"][:, 1:]
    expected = -np.take_along_axis(log_probs, targets[..., None], -1).mean()
    assert abs(first["loss"] - expected) < 1e-4, (first, expected)
    lm.fit(ds.repeat(), steps_per_epoch=30, epochs=1, verbose=0)
    last = lm.evaluate(ds, return_dict=True, verbose=0)
    assert last["loss"] < first["loss"] - 1.0 and last["accuracy"] > 0.6, (first, last)
    # The (inputs, targets) batches of tfrecords.reader.gpt_dataset give the same figures.
    pairs = ds.map(lambda r: (r["token_ids"][:, :-1], r["token_ids"][:, 1:]))
    same = lm.evaluate(pairs, return_dict=True, verbose=0)
    assert abs(same["loss"] - last["loss"]) < 1e-5 and same["accuracy"] == last["accuracy"]


def test_padding_mask_weights_only_real_targets():
    lm = tiny_lm()
    data = records(n=4, length=9)
    mask = np.ones((4, 9), np.int32)
    mask[:, 6:] = 0
    changed = data["token_ids"].copy()
    changed[:, 7:] = 3  # only in padding
    task = LMTask()
    a = task.numerators(lm, {"token_ids": data["token_ids"], "padding_mask": mask}, False)
    b = task.numerators(lm, {"token_ids": changed, "padding_mask": mask}, False)
    assert_close(a["lm_loss"], b["lm_loss"], 1e-5)
    assert float(task.denominators({"token_ids": changed, "padding_mask": mask})["lm_loss"]) \
        == 4 * 5
    lm.compile()
    short = lm.evaluate({"token_ids": data["token_ids"][:, :6]}, return_dict=True, verbose=0)
    masked = lm.evaluate({"token_ids": changed, "padding_mask": mask}, return_dict=True, verbose=0)
    assert abs(short["loss"] - masked["loss"]) < 1e-5


def test_trainer_task_matches_keras_evaluate(tmp_path):
    keras.utils.set_random_seed(1)
    data = records(n=16, length=9, learnable=True)
    lm = GPTLanguageModel(tiny_config(initializer_range=0.02))
    optimizer = keras.optimizers.AdamW(1e-2)
    trainer = Trainer(lm, optimizer, LMTask(), clip_norm=1.0, steps_per_execution=5)
    dataset_fn = lambda ctx: tf.data.Dataset.from_tensor_slices(data).batch(8)
    before = trainer.evaluate(dataset_fn)
    lm.compile()
    keras_metrics = lm.evaluate(dataset_fn(None), return_dict=True, verbose=0)
    assert abs(before["lm_loss"] - keras_metrics["loss"]) < 1e-4
    assert abs(before["accuracy"] - keras_metrics["accuracy"]) < 1e-6
    trainer.fit(lambda ctx: dataset_fn(ctx).repeat(), num_train_steps=15,
                checkpoint_dir=str(tmp_path / "ckpt"), save_checkpoints_steps=15)
    assert trainer.evaluate(dataset_fn)["lm_loss"] < before["lm_loss"] - 0.5


def test_trains_under_mixed_bfloat16_and_mirrored_strategy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        with mirrored_strategy().scope():
            lm = GPTLanguageModel(tiny_config(initializer_range=0.02, num_hidden_layers=1))
            lm.compile(optimizer=keras.optimizers.AdamW(3e-3))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    ds = tf.data.Dataset.from_tensor_slices(records(n=16, length=9, learnable=True)).batch(8)
    first = lm.evaluate(ds, return_dict=True, verbose=0)["loss"]
    lm.fit(ds.repeat(), steps_per_epoch=4, epochs=1, verbose=0)
    last = lm.evaluate(ds, return_dict=True, verbose=0)["loss"]
    assert np.isfinite(last) and last < first
    assert lm({"token_ids": np.ones((1, 4), np.int32)}).dtype == tf.bfloat16
    out = lm.generate(tf.constant([[1, 2, 3]]), max_new_tokens=4, jit_compile=False)
    assert out.shape == (1, 7)
