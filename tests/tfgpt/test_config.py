import json
import logging

import pytest
import tensorflow as tf

from tfcore.config import ConfigError
from tfgpt import GPTConfig, GPTLanguageModel
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


def test_transformers_default_end_of_text_outside_a_small_vocab_is_a_warning(tmp_path, caplog):
    # GPT2Config(vocab_size=1000) as transformers writes it: bos/eos 50256, pad null.
    values = hf_config_dict(vocab=1000, hidden=64, layers=2, heads=4, positions=32)
    values.update(bos_token_id=50256, eos_token_id=50256, pad_token_id=None)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(values))
    with caplog.at_level(logging.WARNING):
        config = GPTConfig.from_json_file(str(path))
    assert (config.bos_token_id, config.eos_token_id) == (50256, 50256)  # kept
    assert config.pad_token_id == 999  # a real id: padding goes through the embedding
    for key in ("bos_token_id", "eos_token_id"):
        assert any(f"'{key}' = 50256" in r.getMessage() and str(path) in r.getMessage()
                   for r in caplog.records if r.levelno == logging.WARNING), caplog.text
    assert GPTConfig.from_dict(config.to_hf_dict()) == config  # round trip unchanged


@pytest.mark.parametrize("eos, pad, expected_pad", [
    (50256, 50256, 99),  # neither is a real id: the last one
    (7, 50256, 7),       # eos is a real id: pad follows it
    (7, -1, 7),
])
def test_pad_outside_the_vocab_is_replaced_with_a_warning(eos, pad, expected_pad, caplog):
    values = hf_config_dict(vocab=100, hidden=64, layers=2, heads=4, positions=32)
    values.update(eos_token_id=eos, pad_token_id=pad)
    with caplog.at_level(logging.WARNING):
        config = GPTConfig.from_dict(values, source="my/config.json")
    assert config.pad_token_id == expected_pad and config.eos_token_id == eos
    assert f"my/config.json: key 'pad_token_id' = {pad} is outside" in caplog.text


def test_ids_in_the_vocab_give_no_warning(caplog):
    values = hf_config_dict(vocab=100, hidden=64, layers=2, heads=4, positions=32)
    with caplog.at_level(logging.WARNING):
        GPTConfig.from_dict(values, source="config.json")
    assert "token_id" not in caplog.text


def test_python_built_config_warns_too(caplog):
    with caplog.at_level(logging.WARNING):
        config = GPTConfig(vocab_size=10, hidden_size=8, num_attention_heads=2, eos_token_id=10)
    assert (config.eos_token_id, config.pad_token_id) == (10, 9)
    assert "<config>: key 'eos_token_id' = 10 is outside the vocabulary [0, 10)" in caplog.text


def test_generation_with_an_end_token_outside_the_vocab_runs_to_max_new_tokens():
    config = GPTConfig(vocab_size=20, hidden_size=8, num_hidden_layers=1,
                       num_attention_heads=2, max_position_embeddings=16,
                       bos_token_id=50256, eos_token_id=50256)
    lm = GPTLanguageModel(config)
    prompts = [[1, 2, 3], [4]]  # different lengths: padding uses pad_token_id
    tokens, counts = lm.generate(
        tf.ragged.constant(prompts), max_new_tokens=4,
        end_token_id=config.eos_token_id, return_lengths=True, jit_compile=False)
    assert counts.numpy().tolist() == [4, 4]
    assert int(tokens.numpy().max()) < config.vocab_size
