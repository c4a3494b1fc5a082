import numpy as np
import pytest
import tensorflow as tf

from tests.testing import mirrored_strategy
from tfbert import BertConfig, BertPretrainer
from tfbert.pretrainer import BertPretrainingTask
from tfcore.optimization import create_optimizer
from tfcore.training import NonFiniteLossError, Trainer

CONFIG = dict(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
              intermediate_size=32, max_position_embeddings=16, type_vocab_size=2)


def records(n=64, seq=12, predictions=4, seed=0):
    """Feature dicts whose number of real predictions varies a lot between examples."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 40, (n, seq)).astype(np.int32)
    positions = np.sort(np.stack([rng.choice(np.arange(1, seq), predictions, replace=False)
                                  for _ in range(n)]), 1).astype(np.int32)
    real = np.where(np.arange(n) % 8 < 4, predictions, 1)  # replicas see different counts
    weights = (np.arange(predictions)[None] < real[:, None]).astype(np.float32)
    return {"input_ids": ids, "segment_ids": np.zeros_like(ids), "input_mask": np.ones_like(ids),
            "masked_lm_positions": positions,
            "masked_lm_ids": (np.take_along_axis(ids, positions, 1) * weights).astype(np.int32),
            "masked_lm_weights": weights,
            "next_sentence_labels": rng.integers(0, 2, (n, 1)).astype(np.int32)}


def dataset_fn(data, global_batch):
    def make(context):
        batch = context.get_per_replica_batch_size(global_batch)
        return tf.data.Dataset.from_tensor_slices(data).repeat().batch(batch, drop_remainder=True)
    return make


def make_trainer(strategy=None, dropout=0.0, accum=1, seed=1, clip_norm=1.0, **kwargs):
    strategy = strategy or tf.distribute.get_strategy()
    tf.keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = BertPretrainer(BertConfig(**CONFIG, hidden_dropout_prob=dropout,
                                          attention_probs_dropout_prob=dropout))
        optimizer = create_optimizer("adamw", 1e-2, weight_decay=0.01)
    return Trainer(model, optimizer, BertPretrainingTask(), strategy, grad_accum_steps=accum,
                   clip_norm=clip_norm, **kwargs)


def losses_of(trainer, data, global_batch, steps, tmp_path):
    seen = []
    trainer.fit(dataset_fn(data, global_batch), steps, str(tmp_path),
                save_checkpoints_steps=1000,
                on_execution=lambda step, metrics, seconds: seen.append(metrics["loss"]))
    return np.array(seen)


def test_mirrored_matches_one_device_with_global_normalisation(tmp_path):
    data = records()
    single = losses_of(make_trainer(), data, 16, 10, tmp_path / "one")
    mirrored = losses_of(make_trainer(mirrored_strategy()), data, 16, 10, tmp_path / "two")
    assert len(single) == 10
    np.testing.assert_allclose(mirrored, single, rtol=1e-4)
    assert single[-1] < single[0]


def test_gradient_accumulation_matches_the_large_batch(tmp_path):
    data = records(n=160)
    big = make_trainer(clip_norm=None)
    losses_of(big, data, 32, 5, tmp_path / "big")
    accumulated = make_trainer(accum=4, clip_norm=None)
    losses_of(accumulated, data, 32, 5, tmp_path / "acc")  # 4 micro-batches of 8
    for a, b in zip(big.model.weights, accumulated.model.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.path)


def test_resume_is_bit_identical_with_dropout(tmp_path):
    data = records()
    whole = make_trainer(dropout=0.1, steps_per_execution=2)
    whole.fit(dataset_fn(data, 8), 6, str(tmp_path / "whole"), save_checkpoints_steps=3)
    cut = str(tmp_path / "cut")
    make_trainer(dropout=0.1, steps_per_execution=2).fit(
        dataset_fn(data, 8), 3, cut, save_checkpoints_steps=3)
    # A new process would start from other random weights and RNG states:
    resumed = make_trainer(dropout=0.1, seed=5, steps_per_execution=2)
    resumed.fit(dataset_fn(data, 8), 6, cut, save_checkpoints_steps=3)
    assert resumed.step == 6
    for a, b in zip(whole.model.weights, resumed.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    for a, b in zip(whole.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value), err_msg=a.path)


class ExplodingTask(BertPretrainingTask):
    """The loss becomes infinite from the 4th step on."""

    def __init__(self, iterations):
        self.iterations = iterations

    def numerators(self, model, batch, training):
        nums = super().numerators(model, batch, training)
        boom = tf.where(self.iterations >= 3, np.inf, 0.0)
        return dict(nums, masked_lm_loss=nums["masked_lm_loss"] + boom)


def test_non_finite_loss_stops_with_the_step_and_keeps_the_checkpoint(tmp_path):
    trainer = make_trainer()
    trainer.task = ExplodingTask(trainer.optimizer.iterations)
    with pytest.raises(NonFiniteLossError, match="at step 4") as err:
        trainer.fit(dataset_fn(records(), 8), 10, str(tmp_path), save_checkpoints_steps=2)
    assert "ckpt-2" in str(err.value)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-2")


def test_evaluate_computes_global_ratios(tmp_path):
    data = records(n=20)
    trainer = make_trainer(mirrored_strategy())
    trainer.restore_or_initialize(str(tmp_path))

    def eval_fn(context):
        return tf.data.Dataset.from_tensor_slices(data).batch(3)  # uneven last batch

    metrics = trainer.evaluate(eval_fn)
    out = trainer.model(data)
    nums = BertPretrainingTask.numerators_from_outputs(out, data)
    expected = float(nums["masked_lm_accuracy"]) / float(data["masked_lm_weights"].sum())
    assert abs(metrics["masked_lm_accuracy"] - expected) < 1e-4
    expected_nsp = float(nums["next_sentence_loss"]) / 20
    assert abs(metrics["next_sentence_loss"] - expected_nsp) < 1e-4
