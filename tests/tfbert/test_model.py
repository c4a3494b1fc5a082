import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.testing import (assert_close, check_keras_save_load, check_reloaded_outputs,
                           export_for_serving, mirrored_strategy, reload_many_in_fresh_process,
                           run_layer_test, to_numpy)
from tests.references import tiny_bert_config
from tests.tfcore.keras_hub_blocks import backbone_sizes, copy_block_to_keras_hub
from tfbert import BertClassifier, BertConfig, BertEmbedding, BertModel
from tfcore.config import ConfigError

RNG = np.random.default_rng(1)


tiny_config = tiny_bert_config


def random_inputs(batch=3, seq=10, lengths=(10, 7, 3), vocab=60):
    mask = (np.arange(seq)[None] < np.array(lengths)[:, None]).astype(np.int32)
    return {"input_ids": (RNG.integers(1, vocab, (batch, seq)) * mask).astype(np.int32),
            "segment_ids": (RNG.integers(0, 2, (batch, seq)) * mask).astype(np.int32),
            "input_mask": mask}


def keras_hub_backbone_with_weights_of(model):
    """keras-hub's BertBackbone carrying `model`'s weights (an independent implementation)."""
    import keras_hub
    c = model.config
    ref = keras_hub.models.BertBackbone(**backbone_sizes(c), num_segments=c.type_vocab_size)
    emb = model.embedding
    ref.get_layer("token_embedding").embeddings.assign(emb.word_embeddings)
    ref.get_layer("position_embedding").position_embeddings.assign(emb.position_embeddings)
    ref.get_layer("segment_embedding").embeddings.assign(emb.token_type_embeddings)
    ref.get_layer("embeddings_layer_norm").set_weights(emb.layer_norm.get_weights())
    for i, block in enumerate(model.blocks):
        copy_block_to_keras_hub(block, ref.get_layer(f"transformer_layer_{i}"),
                                c.num_attention_heads)
    ref.get_layer("pooled_dense").set_weights(model.pooler.get_weights())
    return ref


def test_matches_keras_hub_bert_backbone_with_padding():
    model = BertModel(tiny_config(hidden_act="gelu_tanh"))
    ref = keras_hub_backbone_with_weights_of(model)
    inputs = random_inputs()
    ours = model(inputs)
    theirs = ref({"token_ids": inputs["input_ids"], "segment_ids": inputs["segment_ids"],
                  "padding_mask": inputs["input_mask"]})
    mask = inputs["input_mask"][..., None]
    assert_close(ours["sequence_output"] * mask, theirs["sequence_output"] * mask, 1e-5)
    assert_close(ours["pooled_output"], theirs["pooled_output"], 1e-5)


def test_exact_gelu_differs_from_the_tanh_form():
    tanh_model = BertModel(tiny_config(hidden_act="gelu_tanh", hidden_size=32))
    exact_model = BertModel(tiny_config(hidden_act="gelu"))
    exact_model.set_weights(tanh_model.get_weights())
    inputs = random_inputs()
    diff = np.abs(tanh_model(inputs)["sequence_output"] - exact_model(inputs)["sequence_output"])
    assert diff.max() > 1e-4  # so the keras-hub check above can tell the two apart


def test_padding_invariance():
    model = BertModel(tiny_config())
    inputs = random_inputs(seq=10)
    longer = {k: np.pad(v, [(0, 0), (0, 8)]) for k, v in inputs.items()}
    short, long = model(inputs), model(longer)
    mask = inputs["input_mask"][..., None]
    assert_close(long["sequence_output"][:, :10] * mask, short["sequence_output"] * mask, 1e-5)
    assert_close(long["pooled_output"], short["pooled_output"], 1e-5)


def test_bert_base_parameter_count():
    config = BertConfig(vocab_size=30522, hidden_size=768, num_hidden_layers=12,
                        num_attention_heads=12, intermediate_size=3072,
                        max_position_embeddings=512, type_vocab_size=2)
    assert BertModel(config).count_params() == 109_482_240


def test_too_long_input_names_both_sizes():
    model = BertModel(tiny_config(max_position_embeddings=8))
    with pytest.raises(ValueError, match="input length 9 exceeds max_position_embeddings 8"):
        model({"input_ids": np.ones((1, 9), np.int32)})
    graph_call = tf.function(lambda ids: model({"input_ids": ids}),
                             input_signature=[tf.TensorSpec([None, None], tf.int32)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_position_embeddings 8"):
        graph_call(tf.ones((1, 9), tf.int32))


def test_embedding_layer_contract():
    run_layer_test(lambda: BertEmbedding(50, 16, max_position_embeddings=12),
                   {"input_ids": RNG.integers(0, 50, (2, 5)).astype(np.int32),
                    "segment_ids": RNG.integers(0, 2, (2, 5)).astype(np.int32)},
                   expected_shape=(2, 5, 16))


def test_google_bert_config_file_reads_with_extra_keys(tmp_path):
    google = {"attention_probs_dropout_prob": 0.1, "directionality": "bidi",
              "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
              "initializer_range": 0.02, "intermediate_size": 3072,
              "max_position_embeddings": 512, "num_attention_heads": 12,
              "num_hidden_layers": 12, "pooler_fc_size": 768, "pooler_num_attentions": 12,
              "pooler_type": "first_token_transform", "type_vocab_size": 2,
              "vocab_size": 119547}
    path = os.path.join(str(tmp_path), "bert_config.json")
    with open(path, "w") as f:
        json.dump(google, f)
    config = BertConfig.from_json_file(path)
    assert config.vocab_size == 119547 and config.type_vocab_size == 2
    assert config.hidden_act == "gelu" and config.layer_norm_eps == 1e-12


@pytest.mark.parametrize("values, key", [
    ({"vocab_size": 10, "hidden_size": "768"}, "hidden_size"),
    ({"hidden_size": 768}, "vocab_size"),
    ({"vocab_size": 10, "hidden_size": 30, "num_attention_heads": 4}, "hidden_size"),
    ({"vocab_size": 10, "hidden_act": "gelu2"}, "hidden_act"),
])
def test_bad_config_file_names_key_and_file(tmp_path, values, key):
    path = os.path.join(str(tmp_path), "bert_config.json")
    with open(path, "w") as f:
        json.dump(values, f)
    with pytest.raises(ConfigError) as err:
        BertConfig.from_json_file(path)
    assert key in str(err.value) and path in str(err.value)


def test_symbolic_functional_use():
    model = BertModel(tiny_config())
    ids = keras.Input((None,), dtype="int32", name="input_ids")
    mask = keras.Input((None,), dtype="int32", name="input_mask")
    out = model({"input_ids": ids, "input_mask": mask})
    assert tuple(out["sequence_output"].shape) == (None, None, 32)
    functional = keras.Model([ids, mask], out["pooled_output"])
    inputs = random_inputs()
    assert_close(functional([inputs["input_ids"], inputs["input_mask"]]),
                 model({"input_ids": inputs["input_ids"],
                        "input_mask": inputs["input_mask"]})["pooled_output"], 1e-6)


EXPORTED = {"encoder": ("encoder", 0), "classification": ("classification", 3),
            "regression": ("regression", 1)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`{name: (model, inputs, expected outputs, outputs of the export in a fresh process)}`.

    A BertModel and a BertClassifier of each task type, each exported as a
    SavedModel; ONE fresh process (importing only TF) reloads all three.
    """
    built, jobs = {}, []
    for name, (task_type, num_labels) in EXPORTED.items():
        model = (BertModel(tiny_config()) if name == "encoder" else
                 BertClassifier(tiny_config(), num_labels=num_labels, task_type=task_type))
        inputs = random_inputs()
        export_dir, expected = export_for_serving(model, inputs, tmp_path_factory.mktemp(name))
        built[name] = (model, inputs, expected)
        jobs.append((export_dir, inputs))
    outputs = reload_many_in_fresh_process(jobs, tmp_path_factory.mktemp("reload"))
    return {name: (*built[name], out) for name, out in zip(EXPORTED, outputs)}


def test_bert_model_save_load_and_export(exported, tmp_path):
    model, inputs, expected, outputs = exported["encoder"]
    check_keras_save_load(model, inputs, tmp_path)
    check_reloaded_outputs(outputs, expected)


@pytest.mark.parametrize("task_type, num_labels", [("classification", 3), ("regression", 1)])
def test_classifier_save_load_export_and_fit(exported, tmp_path, task_type, num_labels):
    model, inputs, expected, outputs = exported[task_type]
    assert model(inputs).shape == (3, num_labels)
    check_keras_save_load(model, inputs, tmp_path)
    check_reloaded_outputs(outputs, expected)
    loss = (keras.losses.MeanSquaredError() if task_type == "regression"
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = (np.array([[0.5], [1.0], [-1.0]], np.float32) if task_type == "regression"
              else np.array([0, 2, 1]))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    history = model.fit(inputs, labels, epochs=20, batch_size=3, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_classifier_rejects_bad_arguments():
    with pytest.raises(ValueError, match="regression needs num_labels=1"):
        BertClassifier(tiny_config(), num_labels=2, task_type="regression")
    with pytest.raises(ValueError, match="task_type"):
        BertClassifier(tiny_config(), task_type="ranking")


def test_mixed_bfloat16_outputs_close_to_float32():
    model = BertModel(tiny_config())
    inputs = random_inputs()
    expected = to_numpy(model(inputs))
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        mixed = BertModel(tiny_config())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    mixed.set_weights(model.get_weights())
    out = mixed(inputs)
    assert out["sequence_output"].dtype == tf.bfloat16
    assert_close(tf.cast(out["pooled_output"], tf.float32), expected["pooled_output"], 0.1)


def test_mirrored_strategy_scope_builds_and_trains():
    keras.utils.set_random_seed(0)  # not the previous tests' random state
    strategy = mirrored_strategy()
    with strategy.scope():
        model = BertClassifier(tiny_config(num_hidden_layers=1), num_labels=2)  # depth: not tested
        model.compile(optimizer=keras.optimizers.SGD(0.05),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    inputs = random_inputs(batch=4, lengths=(10, 7, 3, 5))
    labels = np.array([0, 1, 1, 0])
    ds = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(4)
    before = model.evaluate(ds, verbose=0)
    model.fit(ds, epochs=5, verbose=0)
    assert model.evaluate(ds, verbose=0) < before
