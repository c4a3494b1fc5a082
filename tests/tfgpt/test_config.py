import json

import pytest

from tfcore.config import ConfigError
from tfgpt import GPTConfig
from tests.tfgpt.gpt_testing import hf_config_dict


def test_reads_a_hugging_face_config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(hf_config_dict(vocab=100, hidden=64, layers=3, heads=4,
                                              positions=32)))
    config = GPTConfig.from_json_file(str(path))
    assert (config.vocab_size, config.hidden_size, config.num_hidden_layers,
            config.num_attention_heads, config.max_position_embeddings) == (100, 64, 3, 4, 32)
    assert config.intermediate_size == 256  # n_inner null -> 4 * hidden
    assert config.hidden_act == "gelu_new" and config.layer_norm_eps == 1e-5
    assert config.eos_token_id == 99 and config.pad_token_id == 99


def test_defaults_are_gpt2_small():
    config = GPTConfig()
    assert (config.vocab_size, config.hidden_size, config.num_hidden_layers,
            config.intermediate_size, config.max_position_embeddings) == (50257, 768, 12, 3072, 1024)
    assert config.eos_token_id == 50256 and config.hidden_act == "gelu_new"


def test_hf_dict_round_trip_and_json_round_trip(tmp_path):
    config = GPTConfig(vocab_size=65, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=80, eos_token_id=0)
    assert GPTConfig.from_dict(config.to_hf_dict()) == config
    assert config.to_hf_dict()["n_inner"] == 80 and config.to_hf_dict()["model_type"] == "gpt2"
    config.to_json_file(str(tmp_path / "ours.json"))
    assert GPTConfig.from_json_file(str(tmp_path / "ours.json")) == config


@pytest.mark.parametrize("values, message", [
    ({"n_embd": 30, "n_head": 4}, r"'hidden_size' \(config.json: 'n_embd'\) \(30\) must be "
                                  r"divisible by 'num_attention_heads'"),
    ({"n_layer": 0}, r"'num_hidden_layers' \(config.json: 'n_layer'\) must be positive"),
    ({"n_layer": "2"}, r"key 'n_layer' must be of type int"),
    ({"activation_function": "gelu_fast"}, r"'hidden_act' \(config.json: 'activation_function'\)"),
    ({"resid_pdrop": 1.5}, r"'hidden_dropout_prob' \(config.json: 'resid_pdrop'\) must be in"),
    ({"eos_token_id": 500}, r"key 'eos_token_id' must be in \[0, vocab_size=100\)"),
    ({"scale_attn_by_inverse_layer_idx": True}, r"'scale_attn_by_inverse_layer_idx' = True is "
                                                r"not supported"),
    ({"tie_word_embeddings": False}, r"'tie_word_embeddings' = False is not supported"),
])
def test_errors_name_the_key(values, message):
    base = hf_config_dict(vocab=100, hidden=64, layers=2, heads=4, positions=32)
    base.update(values)
    with pytest.raises(ConfigError, match=message):
        GPTConfig.from_dict(base, source="config.json")


def test_unknown_keys_are_warned_not_fatal(caplog):
    config = GPTConfig.from_dict({"vocab_size": 10, "n_embd": 8, "n_head": 2, "flux": 3})
    assert config.hidden_size == 8
