import importlib.util
import json
import os

import numpy as np
import pytest

from tests.testing import assert_close
from tests.tfgpt.gpt_testing import (hf_config_dict, np_gpt2_logits, random_hf_arrays,
                                     write_hf_folder, write_tiny_bpe)
from tfgpt import GPTLanguageModel, GPTModel

VOCAB, HIDDEN, LAYERS, HEADS, POSITIONS = 50, 32, 2, 4, 24
IDS = np.random.default_rng(5).integers(0, VOCAB, (2, 11)).astype(np.int32)


@pytest.fixture(scope="module")
def hf_arrays():
    return random_hf_arrays(VOCAB, HIDDEN, LAYERS, POSITIONS)


def folder_with(tmp_path, arrays, name="hf"):
    return write_hf_folder(tmp_path / name, arrays,
                           hf_config_dict(VOCAB, HIDDEN, LAYERS, HEADS, POSITIONS))


def test_hugging_face_checkpoint_matches_numpy_gpt2(tmp_path, hf_arrays):
    lm = GPTLanguageModel.from_pretrained(folder_with(tmp_path, hf_arrays))
    expected = np_gpt2_logits(hf_arrays, IDS, HEADS)
    assert_close(lm({"token_ids": IDS}), expected, 1e-4, "logits vs NumPy GPT-2")


def test_keys_without_prefix_and_a_tied_lm_head_load(tmp_path, hf_arrays):
    bare = {k.replace("transformer.", ""): v for k, v in hf_arrays.items()}
    bare["lm_head.weight"] = hf_arrays["transformer.wte.weight"]
    lm = GPTLanguageModel.from_pretrained(folder_with(tmp_path, bare))
    assert_close(lm({"token_ids": IDS}), np_gpt2_logits(hf_arrays, IDS, HEADS), 1e-4)
    model = GPTModel.from_pretrained(folder_with(tmp_path, hf_arrays, "again"))
    assert_close(model({"token_ids": IDS}), lm.gpt({"token_ids": IDS}), 1e-6)


@pytest.mark.parametrize("change, expected", [
    (lambda a: a.pop("transformer.h.1.mlp.c_fc.bias"),
     r"missing in checkpoint \(1\): \['gpt/layer_1/feed_forward/intermediate/bias'\]"),
    (lambda a: a.update({"transformer.h.0.attn.rotary": np.zeros(3, np.float32)}),
     r"unexpected in checkpoint \(1\): \['h.0.attn.rotary'\]"),
    (lambda a: a.update({"transformer.wpe.weight": np.zeros((7, HIDDEN), np.float32)}),
     r"gpt/embedding/position_embedding: checkpoint \(7, 32\) vs model \(24, 32\)"),
    (lambda a: a.update({"transformer.h.0.attn.c_attn.bias": np.zeros(95, np.float32)}),
     r"h.0.attn.c_attn.bias: last axis 95 is not 3 \* hidden"),
    (lambda a: a.update({"lm_head.weight": np.ones((VOCAB, HIDDEN), np.float32)}),
     r"lm_head.weight: differs from wte.weight"),
])
def test_strict_loading_lists_what_is_wrong(tmp_path, hf_arrays, change, expected):
    arrays = dict(hf_arrays)
    change(arrays)
    lm = GPTLanguageModel.from_pretrained(folder_with(tmp_path, hf_arrays, "good"))
    before = lm.gpt.embedding.token_embedding.numpy().copy()
    with pytest.raises(ValueError, match=expected):
        lm.load_pretrained_weights(folder_with(tmp_path, arrays, "bad"))
    np.testing.assert_array_equal(lm.gpt.embedding.token_embedding.numpy(), before)


def test_missing_weights_and_torch_pickles_get_clear_errors(tmp_path):
    empty = write_hf_folder(tmp_path / "empty", {}, hf_config_dict(VOCAB, HIDDEN, LAYERS,
                                                                   HEADS, POSITIONS), weights=None)
    with pytest.raises(FileNotFoundError, match="looked for model.safetensors"):
        GPTLanguageModel.from_pretrained(empty)
    with pytest.raises(FileNotFoundError, match="No config.json"):
        GPTLanguageModel.from_pretrained(str(tmp_path))
    if importlib.util.find_spec("torch") is None:
        open(os.path.join(empty, "pytorch_model.bin"), "wb").close()
        with pytest.raises(ImportError, match="pytorch_model.bin is a PyTorch pickle and needs "
                                              "torch"):
            GPTLanguageModel.from_pretrained(empty)


def test_save_pretrained_writes_hugging_face_layout(tmp_path, hf_arrays):
    from safetensors.numpy import load_file
    source = folder_with(tmp_path, hf_arrays)
    vocab, merges = write_tiny_bpe(source)
    lm = GPTLanguageModel.from_pretrained(source)
    assert lm.tokenizer_files == (vocab, merges)
    out = str(tmp_path / "saved")
    lm.save_pretrained(out)
    assert sorted(os.listdir(out)) == ["config.json", "merges.txt", "model.safetensors",
                                       "vocab.json"]
    stored = load_file(os.path.join(out, "model.safetensors"))
    expected = {k: v for k, v in hf_arrays.items() if not k.endswith(".attn.bias")}
    assert sorted(stored) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(stored[key], value, err_msg=key)
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    assert (config["n_layer"], config["n_embd"], config["model_type"]) == (LAYERS, HIDDEN, "gpt2")
    again = GPTLanguageModel.from_pretrained(out)
    assert_close(again({"token_ids": IDS}), lm({"token_ids": IDS}), 0.0)


def test_bias_free_model_matches_numpy_with_zero_offsets_and_round_trips(tmp_path, hf_arrays):
    # use_bias=False (nanoGPT's bias=False): no dense biases, no LayerNorm offsets.
    weights = {k: v for k, v in hf_arrays.items() if not k.endswith(".bias")}
    config = dict(hf_config_dict(VOCAB, HIDDEN, LAYERS, HEADS, POSITIONS), use_bias=False)
    lm = GPTLanguageModel.from_pretrained(write_hf_folder(tmp_path / "nobias", weights, config))
    assert not [w.path for w in lm.weights if w.path.endswith(("/bias", "/beta"))]
    zeroed = {k: (np.zeros_like(v) if k.endswith(".bias") else v) for k, v in hf_arrays.items()}
    assert_close(lm({"token_ids": IDS}), np_gpt2_logits(zeroed, IDS, HEADS), 1e-4,
                 "bias-free logits vs NumPy GPT-2 with zero biases")
    out = str(tmp_path / "saved")
    lm.save_pretrained(out)
    from safetensors.numpy import load_file
    assert sorted(load_file(os.path.join(out, "model.safetensors"))) == sorted(weights)
    assert_close(GPTLanguageModel.from_pretrained(out)({"token_ids": IDS}),
                 lm({"token_ids": IDS}), 0.0)
    with pytest.raises(ValueError, match=r"missing in checkpoint \(\d+\): \['gpt/final_layer"):
        GPTLanguageModel.from_pretrained(write_hf_folder(
            tmp_path / "nobias_as_gpt2", weights, hf_config_dict(VOCAB, HIDDEN, LAYERS, HEADS,
                                                                 POSITIONS)))


def test_save_pretrained_renames_tokenizer_files_given_as_a_dict(tmp_path, hf_arrays):
    lm = GPTLanguageModel.from_pretrained(folder_with(tmp_path, hf_arrays))
    chars = tmp_path / "chars.json"
    chars.write_text(json.dumps({chr(97 + i): i for i in range(VOCAB)}))
    saved = tmp_path / "saved"
    lm.save_pretrained(str(saved), tokenizer_files={"vocab.json": str(chars)})
    assert sorted(os.listdir(saved)) == ["config.json", "model.safetensors", "vocab.json"]
    assert (saved / "vocab.json").read_text() == chars.read_text()
    reloaded = GPTLanguageModel.from_pretrained(str(saved))
    assert reloaded.tokenizer_files == (str(saved / "vocab.json"),)
    assert_close(reloaded({"token_ids": IDS}), lm({"token_ids": IDS}), 0)
