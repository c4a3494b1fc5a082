"""Helpers of the tfgpt tests: tiny configs, a NumPy GPT-2, tiny tokenizer files.

The NumPy GPT-2 works on Hugging Face's stored arrays (names and layouts of
`GPT2LMHeadModel`: Conv1D weights `[in, out]`, `attn.c_attn` = q|k|v along
the output axis), written from the GPT-2 paper's description and
independent of tfgpt.
"""

import functools
import json
import os

import numpy as np

from tests.references import gelu_tanh as np_gelu_tanh
from tests.references import layer_norm as np_layer_norm
from tests.references import tiny_gpt_config
from tfgpt import GPTLanguageModel

RNG = np.random.default_rng(7)
EOT = "<|endoftext|>"


tiny_config = tiny_gpt_config


@functools.lru_cache(maxsize=None)
def tiny_lm(**overrides):
    """One shared tiny GPTLanguageModel per configuration (do not modify its weights)."""
    import keras
    keras.utils.set_random_seed(11)
    return GPTLanguageModel(tiny_config(**overrides))


# ---------------------------------------------------------------- NumPy GPT-2


def np_gpt2_logits(arrays, token_ids, num_heads, eps=1e-5):
    """GPT-2 forward on HF arrays (keys without `transformer.`): `[b, s] -> [b, s, vocab]`."""
    a = {k.replace("transformer.", ""): np.asarray(v, np.float64) for k, v in arrays.items()}
    b, s = token_ids.shape
    x = a["wte.weight"][token_ids] + a["wpe.weight"][:s][None]
    layers = len({k.split(".")[1] for k in a if k.startswith("h.")})
    hidden = x.shape[-1]
    d = hidden // num_heads
    future = np.triu(np.ones((s, s), bool), 1)
    for i in range(layers):
        p = lambda n: a[f"h.{i}.{n}"]
        h = np_layer_norm(x, p("ln_1.weight"), p("ln_1.bias"), eps)
        qkv = h @ p("attn.c_attn.weight") + p("attn.c_attn.bias")
        q, k, v = (t.reshape(b, s, num_heads, d).transpose(0, 2, 1, 3)
                   for t in np.split(qkv, 3, axis=-1))
        scores = np.where(future, -np.inf, q @ k.transpose(0, 1, 3, 2) / np.sqrt(d))
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, hidden)
        x = x + context @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
        h = np_layer_norm(x, p("ln_2.weight"), p("ln_2.bias"), eps)
        h = np_gelu_tanh(h @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias"))
        x = x + h @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
    x = np_layer_norm(x, a["ln_f.weight"], a["ln_f.bias"], eps)
    return x @ a["wte.weight"].T


def random_hf_arrays(vocab, hidden, layers, positions, inner=None, scale=0.2):
    """Random weights under Hugging Face GPT2LMHeadModel names (float32)."""
    inner = inner or 4 * hidden
    r = lambda *shape: (RNG.standard_normal(shape) * scale).astype(np.float32)
    arrays = {"transformer.wte.weight": r(vocab, hidden),
              "transformer.wpe.weight": r(positions, hidden),
              "transformer.ln_f.weight": 1 + r(hidden), "transformer.ln_f.bias": r(hidden)}
    for i in range(layers):
        p = f"transformer.h.{i}."
        arrays.update({
            p + "ln_1.weight": 1 + r(hidden), p + "ln_1.bias": r(hidden),
            p + "attn.c_attn.weight": r(hidden, 3 * hidden), p + "attn.c_attn.bias": r(3 * hidden),
            p + "attn.c_proj.weight": r(hidden, hidden), p + "attn.c_proj.bias": r(hidden),
            p + "ln_2.weight": 1 + r(hidden), p + "ln_2.bias": r(hidden),
            p + "mlp.c_fc.weight": r(hidden, inner), p + "mlp.c_fc.bias": r(inner),
            p + "mlp.c_proj.weight": r(inner, hidden), p + "mlp.c_proj.bias": r(hidden),
            # GPT-2's causal-mask buffer, stored by old checkpoints: must be ignored.
            p + "attn.bias": np.tril(np.ones((positions, positions), np.float32))[None, None]})
    return arrays


def hf_config_dict(vocab, hidden, layers, heads, positions):
    """A Hugging Face GPT-2 config.json as transformers writes it (extra keys included)."""
    return {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
            "attn_pdrop": 0.1, "bos_token_id": vocab - 1, "embd_pdrop": 0.1,
            "eos_token_id": vocab - 1, "initializer_range": 0.02, "layer_norm_epsilon": 1e-5,
            "model_type": "gpt2", "n_ctx": positions, "n_embd": hidden, "n_head": heads,
            "n_inner": None, "n_layer": layers, "n_positions": positions,
            "resid_pdrop": 0.1, "scale_attn_weights": True, "summary_type": "cls_index",
            "tie_word_embeddings": True, "transformers_version": "4.40.0", "use_cache": True,
            "vocab_size": vocab}


def write_hf_folder(folder, arrays, config, weights="safetensors"):
    from safetensors.numpy import save_file
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    if weights == "safetensors":
        save_file(arrays, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    return str(folder)


# ---------------------------------------------------------------- tiny BPE files


def byte_alphabet():
    from tfgpt.tokenization import bytes_to_unicode
    return [bytes_to_unicode()[b] for b in range(256)]


TINY_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"),
               ("Ġ", "s"), ("o", "u"), ("n", "d"), ("Ġa", "nd"), ("a", "a"), ("aa", "aa"),
               ("'", "s"), ("Ġ", "Ġ"), ("1", "2"), ("Ċ", "Ċ"), ("Ġ", "w"), ("o", "r"),
               ("Ġw", "or"), ("l", "d"), ("Ġwor", "ld")]


def write_tiny_bpe(folder):
    """vocab.json (256 byte symbols, merges, <|endoftext|>) + merges.txt; returns paths."""
    tokens = byte_alphabet() + ["".join(m) for m in TINY_MERGES] + [EOT]
    os.makedirs(str(folder), exist_ok=True)
    vocab_path = os.path.join(str(folder), "vocab.json")
    merges_path = os.path.join(str(folder), "merges.txt")
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
    with open(merges_path, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in TINY_MERGES))
    return vocab_path, merges_path


# ---------------------------------------------------------------- SavedModel reload

_RELOAD = """
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
export_dir, inputs_file, outputs_file = sys.argv[1:4]
inputs = dict(np.load(inputs_file))
outputs = tf.saved_model.load(export_dir).signatures["serving_default"](
    **{k: tf.constant(v) for k, v in inputs.items()})
forbidden = [m for m in ("tfbert", "tfgpt", "tfcore", "keras_hub") if m in sys.modules]
assert not forbidden, forbidden
np.savez(outputs_file, **{k: np.array(v.numpy().tolist()) for k, v in outputs.items()})
"""


def reload_text_model_in_fresh_process(export_dir, inputs, tmp_path):
    """`serving_default` of a SavedModel in a process importing only tensorflow(_text);
    string outputs come back as bytes arrays (the shared helper handles numbers only)."""
    import subprocess
    import sys
    inputs_file, outputs_file = str(tmp_path / "inputs.npz"), str(tmp_path / "outputs.npz")
    np.savez(inputs_file, **inputs)
    script = tmp_path / "reload_text.py"
    script.write_text(_RELOAD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH="")
    result = subprocess.run([sys.executable, str(script), export_dir, inputs_file, outputs_file],
                            capture_output=True, text=True, env=env, cwd=str(tmp_path),
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(outputs_file))
