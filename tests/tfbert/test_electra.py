"""ELECTRA: Hugging Face parity, Google names, the BERT export and the pretraining objective.

Fixtures: tests/fixtures/hf_electra_{disc,gen}_tiny (made by
tests/fixtures/make_electra_fixtures.py with transformers + torch).
"""

import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.references import tiny_bert_config
from tests.tfbert.test_pretrainer import synthetic_records
from tests.testing import assert_close
from tfbert import BertConfig, BertModel
from tfbert.electra import (ElectraDiscriminator, ElectraGenerator, ElectraPretrainer,
                            generator_config)
from tfcore.training import RATIO_EPSILON

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
DISC, GEN = os.path.join(FIXTURES, "hf_electra_disc_tiny"), os.path.join(FIXTURES,
                                                                          "hf_electra_gen_tiny")
BERT_INPUTS = ("input_ids", "input_mask", "segment_ids")


def reference(folder):
    ref = np.load(os.path.join(folder, "reference.npz"))
    return {k: tf.constant(ref[k]) for k in BERT_INPUTS}, ref["logits"]


@pytest.fixture(scope="module")
def hf_discriminator():
    return ElectraDiscriminator.from_pretrained(DISC)


@pytest.fixture(scope="module")
def hf_generator():
    return ElectraGenerator.from_pretrained(GEN)


def test_discriminator_matches_hugging_face(hf_discriminator):
    assert hf_discriminator.config.embedding_size == 16 and hf_discriminator.config.hidden_size == 32
    inputs, expected = reference(DISC)
    logits = hf_discriminator(inputs)
    assert logits.shape == expected.shape == (3, 10)
    assert_close(logits, expected, 1e-4, "discriminator logits (padding included)")


def test_generator_matches_hugging_face(hf_generator):
    inputs, expected = reference(GEN)
    logits = hf_generator(inputs)
    assert logits.shape == expected.shape == (3, 10, 339)
    assert_close(logits, expected, 1e-4, "generator logits (padding included)")
    positions = tf.constant([[1, 4], [2, 5], [1, 2]])
    at_positions = hf_generator({**inputs, "masked_lm_positions": positions})
    assert_close(at_positions, np.take_along_axis(expected, positions.numpy()[..., None], 1),
                 1e-4, "generator logits at masked positions")


def test_google_names_round_trip(hf_discriminator, tmp_path):
    hf_discriminator.save_pretrained(str(tmp_path / "disc"))
    names = dict(tf.train.list_variables(str(tmp_path / "disc" / "bert_model.ckpt")))
    for name in ("electra/embeddings/word_embeddings", "electra/embeddings/LayerNorm/gamma",
                 "electra/embeddings_project/kernel",
                 "electra/encoder/layer_1/attention/self/query/kernel",
                 "electra/encoder/layer_1/output/LayerNorm/beta",
                 "discriminator_predictions/dense/kernel",
                 "discriminator_predictions/dense_1/kernel"):
        assert name in names, name
    assert names["electra/embeddings_project/kernel"] == [16, 32]  # Google's [in, out]
    assert names["discriminator_predictions/dense_1/kernel"] == [32, 1]
    inputs, expected = reference(DISC)
    reloaded = ElectraDiscriminator.from_pretrained(str(tmp_path / "disc"))
    assert_close(reloaded(inputs), expected, 1e-4, "reloaded from Google names")
    assert reloaded.vocab_file and os.path.exists(reloaded.vocab_file)


def test_discriminator_exports_as_bert_encoder(hf_discriminator, tmp_path):
    folder = str(tmp_path / "as_bert")
    hf_discriminator.export_bert_encoder(folder)
    with open(os.path.join(folder, "bert_config.json")) as f:
        assert json.load(f)["embedding_size"] == 16
    encoder = BertModel.from_pretrained(folder)
    assert encoder.config.embedding_size == 16
    inputs, _ = reference(DISC)
    expected = hf_discriminator.electra.hidden_states(inputs)[-1]
    assert_close(encoder(inputs)["sequence_output"], expected, 1e-6, "exported encoder")
    assert os.path.exists(os.path.join(folder, "vocab.txt"))
    # A BERT config without embedding_size writes Google's keys only.
    assert "embedding_size" not in BertConfig(vocab_size=10).to_dict()


def test_strict_loading_names_unknown_and_untied_keys(hf_discriminator, tmp_path):
    from safetensors.numpy import load_file, save_file
    hf_discriminator.save_pretrained(str(tmp_path / "disc"))
    prefix = str(tmp_path / "disc" / "bert_model.ckpt")
    reader = tf.train.load_checkpoint(prefix)
    names = sorted(reader.get_variable_to_shape_map())
    extra = "electra/encoder/layer_0/attention/self/mystery"
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names + [extra],
                      shape_and_slices=[""] * (len(names) + 1),
                      tensors=[reader.get_tensor(n) for n in names] + [np.zeros(3, np.float32)])
    with pytest.raises(ValueError, match=f"unexpected in checkpoint \\(1\\).*{extra}"):
        ElectraDiscriminator.from_pretrained(str(tmp_path / "disc"))

    untied = str(tmp_path / "gen")
    shutil.copytree(GEN, untied)
    tensors = load_file(os.path.join(GEN, "model.safetensors"))
    tensors["generator_lm_head.weight"] = tensors["electra.embeddings.word_embeddings.weight"] + 1
    save_file(tensors, os.path.join(untied, "model.safetensors"))
    with pytest.raises(ValueError, match="generator_lm_head.weight: differs"):
        ElectraGenerator.from_pretrained(untied)
    with pytest.raises(ValueError, match="unexpected in checkpoint.*generator_predictions"):
        ElectraDiscriminator.from_pretrained(GEN, config=os.path.join(DISC, "config.json"))


# ---------------------------------------------------------------- pretraining

VOCAB, MASK_ID = 40, 4


def pretrainer_configs():
    """A discriminator with 16-wide tables under hidden 32; a generator of hidden 8 (projected)."""
    disc = tiny_bert_config(vocab_size=VOCAB, max_position_embeddings=16, embedding_size=16)
    gen = generator_config(disc, hidden_fraction=0.25).replace(num_attention_heads=2)
    return disc, gen


def records(n=8):
    batch = synthetic_records(n=n)
    batch.pop("next_sentence_labels")
    batch["input_mask"][1, 10:] = 0  # a padded row: its padding is never real
    batch["input_ids"][1, 10:] = 0
    return {k: tf.constant(v) for k, v in batch.items()}


@pytest.fixture(scope="module")
def pretrained():
    """A pretrainer and its outputs on one batch."""
    disc, gen = pretrainer_configs()
    model = ElectraPretrainer(disc, gen, seed=7)
    batch = records()
    return model, batch, model(batch)


def test_pretrainer_shares_embeddings_and_projects(pretrained):
    model, _, out = pretrained
    assert model.generator.generator.embedding is model.discriminator.electra.embedding
    names = model.named_checkpoint_weights()
    assert tuple(names["generator/embeddings_project/kernel"].shape) == (16, 8)
    assert not any("pooler" in name for name in names)
    assert out["masked_lm_logits"].shape == (8, 3, VOCAB)
    assert out["replaced_logits"].shape == (8, 12)
    rebuilt = ElectraPretrainer.from_config(model.get_config())
    assert rebuilt.generator_config == model.generator_config
    assert rebuilt.discriminator_weight == 50.0


def test_replaced_labels_and_fraction_identity(pretrained):
    model, batch, out = pretrained
    b = {k: v.numpy() for k, v in batch.items()}
    sampled, corrupted = out["sampled_ids"].numpy(), out["corrupted_ids"].numpy()
    labels = out["replaced_labels"].numpy()
    original, expected = b["input_ids"].copy(), b["input_ids"].copy()
    for row in range(len(original)):
        for p, pos in enumerate(b["masked_lm_positions"][row]):
            if b["masked_lm_weights"][row, p] > 0:
                original[row, pos] = b["masked_lm_ids"][row, p]
                expected[row, pos] = sampled[row, p]
    np.testing.assert_array_equal(corrupted, expected)
    np.testing.assert_array_equal(labels, (corrupted != original) * b["input_mask"])
    # A sample equal to the original is no replacement: exact counts per batch.
    weights = b["masked_lm_weights"]
    hits = ((sampled == b["masked_lm_ids"]) * weights).sum()
    assert labels.sum() == weights.sum() - hits
    assert 0 < labels.sum() < weights.sum() or hits == 0
    ratios = model.task.ratios(out, batch)
    assert_close(ratios["replaced_fraction"],
                 ratios["mask_rate"] * (1 - ratios["sampled_accuracy"]), 1e-5, "identity")


def test_loss_is_mlm_plus_50_times_discriminator_loss(pretrained):
    model, batch, out = pretrained
    b = {k: v.numpy() for k, v in batch.items()}
    logits = out["masked_lm_logits"].numpy().astype(np.float64)
    logp = logits - logits.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, b["masked_lm_ids"][..., None], -1)[..., 0]
    w = b["masked_lm_weights"]
    mlm = (nll * w).sum() / (w.sum() + RATIO_EPSILON)
    z, y = out["replaced_logits"].numpy().astype(np.float64), out["replaced_labels"].numpy()
    bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    real = b["input_mask"]
    disc = (bce * real).sum() / (real.sum() + RATIO_EPSILON)
    loss = model.compute_loss(x=batch, y_pred=out)
    assert_close(loss, mlm + 50.0 * disc, 1e-4, "total loss")
    predicted = z > 0
    ratios = model.task.ratios(out, batch)
    assert_close(ratios["replaced_precision"],
                 (predicted * y * real).sum() / ((predicted * real).sum() + RATIO_EPSILON), 1e-6)
    assert_close(ratios["replaced_recall"],
                 (predicted * y * real).sum() / ((y * real).sum() + RATIO_EPSILON), 1e-6)


def test_replacements_are_sampled_not_argmax():
    disc, gen = pretrainer_configs()
    samples = []
    for _ in range(2):
        model = ElectraPretrainer(disc, gen, seed=11)
        head = model.generator.generator_predictions
        head.layer_norm.gamma.assign(tf.zeros_like(head.layer_norm.gamma))
        head.layer_norm.beta.assign(tf.zeros_like(head.layer_norm.beta))  # flat logits
        batch = records()
        first, second = (model(batch)["sampled_ids"].numpy() for _ in range(2))
        samples.append(first)
        assert not np.array_equal(first, second)  # the seed generator advances
        assert len(np.unique(np.concatenate([first, second]))) > 10  # not one argmax id
    np.testing.assert_array_equal(samples[0], samples[1])  # a fixed seed reproduces


def test_fit_reduces_the_loss():
    disc, gen = pretrainer_configs()
    model = ElectraPretrainer(disc, gen, seed=3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    ds = tf.data.Dataset.from_tensors(records()).repeat()
    history = model.fit(ds, steps_per_epoch=10, epochs=3, verbose=0).history
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert history["masked_lm_loss"][-1] < history["masked_lm_loss"][0]
    for name in ("replaced_accuracy", "replaced_precision", "replaced_recall",
                 "replaced_fraction", "sampled_accuracy", "masked_lm_accuracy"):
        assert 0.0 <= history[name][-1] <= 1.0, name


def test_joint_google_checkpoint_loads_each_model(pretrained, tmp_path):
    model, batch, _ = pretrained
    folder = str(tmp_path / "joint")
    model.save_pretrained(folder)
    names = dict(tf.train.list_variables(os.path.join(folder, "bert_model.ckpt")))
    for name in ("generator/embeddings_project/kernel", "generator/encoder/layer_0/output/dense/bias",
                 "generator_predictions/output_bias", "generator_predictions/LayerNorm/gamma"):
        assert name in names, name
    bert_inputs = {k: batch[k] for k in BERT_INPUTS}
    disc = ElectraDiscriminator.from_pretrained(folder)  # skips the generator's entries
    assert_close(disc(bert_inputs), model.discriminator(bert_inputs), 1e-6, "discriminator")
    gen = ElectraGenerator.from_pretrained(folder)  # generator_config.json
    assert_close(gen(batch), model.generator(batch), 1e-6, "generator")
    both = ElectraPretrainer.from_pretrained(folder)
    assert both.generator_config == model.generator_config
    assert_close(both.generator(batch), model.generator(batch), 1e-6, "pretrainer's generator")
    # Google's folders have no generator_config.json: sizes from the weights, heads by rule.
    os.remove(os.path.join(folder, "generator_config.json"))
    inferred = ElectraPretrainer.from_pretrained(folder).generator_config
    assert inferred == model.generator_config.replace(num_attention_heads=1)


def test_bert_pretrainer_with_narrow_embeddings():
    from tfbert import BertPretrainer
    model = BertPretrainer(tiny_bert_config(vocab_size=VOCAB, max_position_embeddings=16,
                                            embedding_size=8))
    batch = synthetic_records(n=2)
    assert model(batch)["masked_lm_logits"].shape == (2, 3, VOCAB)
    assert model.bert.embedding.word_embeddings.shape == (VOCAB, 8)
    assert model.masked_lm.transform.kernel.shape == (32, 8)
