"""BertConfig from Hugging Face config.json files: strict on the maths, lenient on ids."""

import json

import pytest
import logging

from tfbert import BertConfig
from tfcore.config import ConfigError

# A BertConfig as transformers 5 writes it (BertForSequenceClassification).
HF_BERT = {
    "add_cross_attention": False, "architectures": ["BertForSequenceClassification"],
    "attention_probs_dropout_prob": 0.1, "bos_token_id": None, "classifier_dropout": None,
    "dtype": "float32", "eos_token_id": None, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
    "is_decoder": False, "layer_norm_eps": 1e-12, "max_position_embeddings": 64,
    "model_type": "bert", "num_attention_heads": 2, "num_hidden_layers": 2,
    "pad_token_id": 0, "position_embedding_type": "absolute", "tie_word_embeddings": True,
    "transformers_version": "5.24.0", "type_vocab_size": 2, "use_cache": True,
    "vocab_size": 339,
}


def test_a_transformers_config_loads_without_warnings(tmp_path, caplog):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(HF_BERT))
    with caplog.at_level(logging.WARNING):
        config = BertConfig.from_json_file(str(path))
    assert (config.vocab_size, config.hidden_size, config.intermediate_size) == (339, 32, 64)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("ids", [
    {"pad_token_id": 50256}, {"bos_token_id": 50256, "eos_token_id": -1},
    {"pad_token_id": None},
])
def test_token_ids_never_fail_whatever_their_value(ids):
    config = BertConfig.from_dict(dict(HF_BERT, **ids), source="config.json")
    assert config.vocab_size == 339


@pytest.mark.parametrize("key, value", [
    ("is_decoder", True), ("add_cross_attention", True),
    ("position_embedding_type", "relative_key_query"),
])
def test_keys_that_change_the_numbers_are_errors(key, value):
    with pytest.raises(ConfigError, match=rf"my/config.json: key '{key}' = {value!r} is not "
                                          r"supported"):
        BertConfig.from_dict(dict(HF_BERT, **{key: value}), source="my/config.json")


def test_untied_word_embeddings_are_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        config = BertConfig.from_dict(dict(HF_BERT, tie_word_embeddings=False),
                                      source="my/config.json")
    assert config.hidden_size == 32
    assert "my/config.json: key 'tie_word_embeddings' = False" in caplog.text


@pytest.mark.parametrize("values, message", [
    ({"hidden_act": "gelu_fast"}, r"key 'hidden_act' must be one of"),
    ({"layer_norm_eps": 0.0}, r"key 'layer_norm_eps' must be positive"),
    ({"hidden_size": 33}, r"key 'hidden_size' \(33\) must be divisible"),
    ({"type_vocab_size": 0}, r"key 'type_vocab_size' must be positive"),
])
def test_sizes_activation_and_epsilon_stay_strict(values, message):
    with pytest.raises(ConfigError, match=rf"config.json: {message}"):
        BertConfig.from_dict(dict(HF_BERT, **values), source="config.json")
