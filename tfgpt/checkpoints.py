"""Load and save GPT-2 weights in Hugging Face's format: name tables as data.

Hugging Face GPT-2 keeps its projections in `Conv1D` modules whose weights
are `[in, out]`, the layout of our Dense kernels, so nothing is transposed;
`attn.c_attn` packs query, key and value along the output axis and is split
into our three `[hidden, hidden]` kernels. Keys come with or without the
`transformer.` prefix. Loading is strict (`tfcore.pretrained.assign_strictly`;
files read by `tfcore.io.read_hf_weights`): every model weight is filled,
every stored entry is used or explicitly ignored (the `attn.bias` /
`attn.masked_bias` mask buffers, and `lm_head.weight` when it equals the
tied token embedding), otherwise the error lists the missing, unexpected and
mis-shaped names and nothing is assigned.

`save_pretrained` writes the same format (`config.json` with Hugging Face
keys, `model.safetensors` with `transformer.`-prefixed keys) plus the
tokenizer files, so a saved folder loads here and in `transformers`.
"""

import json
import os
import re
import shutil

import numpy as np

from tfcore import pretrained
from tfcore.io import HF_SAFETENSORS as SAFETENSORS, files_into_folder, read_hf_weights
from tfgpt.config import as_gpt_config

CONFIG_FILE = "config.json"
TOKENIZER_FILES = ("vocab.json", "merges.txt")
HF_PREFIX = "transformer."
TIED_HEAD = "lm_head.weight"
# Stored entries that are never weights: GPT-2's causal-mask buffers.
IGNORED = re.compile(r"^h\.\d+\.attn\.(masked_)?bias$")
QKV = ("query", "key", "value")


def _pair(ours, hf, kind):
    """Rows of a Dense / LayerNorm: (our name, HF key, part of a packed qkv or None)."""
    names = ("kernel", "bias") if kind == "dense" else ("gamma", "beta")
    return [(f"{ours}/{names[0]}", f"{hf}.weight", None), (f"{ours}/{names[1]}", f"{hf}.bias", None)]


def name_table(num_layers, use_bias=True):
    """Rows `(our name, Hugging Face key without prefix, qkv part index or None)`.

    Without biases (`use_bias=False`) the bias and LayerNorm-offset rows are left out.
    """
    rows = [("gpt/embedding/token_embedding", "wte.weight", None),
            ("gpt/embedding/position_embedding", "wpe.weight", None)]
    for i in range(num_layers):
        ours, hf = f"gpt/layer_{i}", f"h.{i}"
        rows += _pair(f"{ours}/attention_layer_norm", f"{hf}.ln_1", "norm")
        for part, name in enumerate(QKV):
            rows += [(f"{ours}/attention/{name}/kernel", f"{hf}.attn.c_attn.weight", part),
                     (f"{ours}/attention/{name}/bias", f"{hf}.attn.c_attn.bias", part)]
        rows += _pair(f"{ours}/attention/output_dense", f"{hf}.attn.c_proj", "dense")
        rows += _pair(f"{ours}/output_layer_norm", f"{hf}.ln_2", "norm")
        rows += _pair(f"{ours}/feed_forward/intermediate", f"{hf}.mlp.c_fc", "dense")
        rows += _pair(f"{ours}/feed_forward/output_dense", f"{hf}.mlp.c_proj", "dense")
    rows += _pair("gpt/final_layer_norm", "ln_f", "norm")
    return [row for row in rows if use_bias or not row[0].endswith(("/bias", "/beta"))]


def to_canonical(arrays, num_layers, use_bias=True):
    """Stored arrays -> `({our name: array}, unexpected, mismatched)`; see module doc."""
    stored = {(k[len(HF_PREFIX):] if k.startswith(HF_PREFIX) else k): np.asarray(v)
              for k, v in arrays.items()}
    table = name_table(num_layers, use_bias)
    used = {hf for _, hf, _ in table}
    canonical, mismatched = {}, []
    for ours, hf, part in table:
        if hf not in stored:
            continue
        value = stored[hf]
        if part is not None:
            if value.shape[-1] % len(QKV):
                mismatched.append(f"{hf}: last axis {value.shape[-1]} is not 3 * hidden")
                continue
            value = np.split(value, len(QKV), axis=-1)[part]
        canonical[ours] = value
    head = stored.get(TIED_HEAD)
    wte = stored.get("wte.weight")
    if head is not None and not (wte is not None and head.shape == wte.shape
                                 and np.array_equal(head, wte)):
        mismatched.append(f"{TIED_HEAD}: differs from wte.weight (an untied LM head is "
                          "not supported)")
    unexpected = sorted(k for k in stored
                        if k not in used and k != TIED_HEAD and not IGNORED.match(k))
    return canonical, unexpected, mismatched


# ---------------------------------------------------------------- saving


def to_hf_arrays(model_weights, num_layers, use_bias=True):
    """`{our name: variable}` -> `{"transformer.<key>": float32 array}` (qkv packed)."""
    packed = {}
    for ours, hf, part in name_table(num_layers, use_bias):
        value = np.asarray(model_weights[ours].numpy(), np.float32)
        packed.setdefault(hf, [None] * len(QKV) if part is not None else None)
        if part is None:
            packed[hf] = value
        else:
            packed[hf][part] = value
    return {HF_PREFIX + k: np.ascontiguousarray(np.concatenate(v, -1) if isinstance(v, list) else v)
            for k, v in packed.items()}


def save_hf_folder(model_weights, config, folder, tokenizer_files=()):
    """Writes config.json, model.safetensors and the tokenizer files, atomically per file set.

    `tokenizer_files`: paths (copied under their own names) or a dict
    `{name in the folder: source path}` (e.g. `{"vocab.json": "chars.json"}`).
    """
    if not isinstance(tokenizer_files, dict):
        tokenizer_files = {os.path.basename(path): path for path in tokenizer_files}
    from safetensors.numpy import save_file
    with files_into_folder(folder, last=(SAFETENSORS,)) as tmp:
        save_file(to_hf_arrays(model_weights, config.num_hidden_layers, config.use_bias),
                  os.path.join(tmp, SAFETENSORS), metadata={"format": "pt"})
        with open(os.path.join(tmp, CONFIG_FILE), "w") as f:
            json.dump(config.to_hf_dict(), f, indent=2, sort_keys=True)
        for name, path in tokenizer_files.items():
            shutil.copyfile(path, os.path.join(tmp, name))


class PretrainedMixin(pretrained.PretrainedMixin):
    """`tfcore.pretrained.PretrainedMixin` reading and writing Hugging Face GPT-2 folders."""

    @classmethod
    def from_pretrained(cls, path, config=None, **kwargs):
        """Builds the model from a Hugging Face GPT-2 folder (or one saved by us).

        `config`: a `GPTConfig` or the path of its JSON file; default: the
        folder's config.json.

        Example:
            lm = GPTLanguageModel.from_pretrained("gpt2")   # config.json + model.safetensors
        """
        return super().from_pretrained(path, config, **kwargs)

    @classmethod
    def _read_pretrained(cls, path, config):
        if config is None:
            config = os.path.join(path, CONFIG_FILE)
            if not os.path.exists(config):
                raise FileNotFoundError(f"No {CONFIG_FILE} in {path}.")
        stored, folder = cls._read_pretrained_weights(path)
        return as_gpt_config(config), stored, folder

    @classmethod
    def _read_pretrained_weights(cls, path):
        return read_hf_weights(path, "GPT-2"), path

    @classmethod
    def _to_canonical(cls, stored, config):
        return to_canonical(stored, config.num_hidden_layers, config.use_bias)

    def _remember_files(self, folder):
        self.tokenizer_files = tuple(os.path.join(folder, f) for f in TOKENIZER_FILES
                                     if os.path.exists(os.path.join(folder, f)))

    _write_pretrained = staticmethod(save_hf_folder)

    def save_pretrained(self, folder, tokenizer_files=None):
        """Writes a Hugging Face GPT-2 folder: config.json, model.safetensors, tokenizer files.

        `tokenizer_files`: paths, or `{name in the folder: source path}`; default:
        the files of the folder this model was loaded from.
        """
        self._save_pretrained(folder, tokenizer_files if tokenizer_files is not None
                              else getattr(self, "tokenizer_files", ()))
