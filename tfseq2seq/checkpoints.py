"""Hugging Face Marian and T5 folders -> Seq2SeqModel weights: configs and name tables as data.

`config.json`'s `model_type` chooses the family: `"marian"` (MarianMTModel,
the Helsinki-NLP opus-mt models: post-LN, sinusoidal [sin | cos] positions,
scaled embeddings, a final logits bias) or `"t5"` (T5ForConditionalGeneration:
pre-LN RMSNorm, bucketed relative position bias in the first block of each
stack shared by the others, no biases, unscaled attention, plain or gated
feed-forward). PyTorch `Linear` weights are `[out, in]` and are transposed
into our `[in, out]` kernels. Loading is strict
(`tfcore.pretrained.assign_strictly`): every weight filled, every stored
entry used; the only entries skipped are copies of a tied table and
Marian's stored sinusoidal tables, which must equal the ones we compute.

Example:

    model = Seq2SeqModel.from_pretrained("opus-mt-de-en")   # config.json + model.safetensors
"""

import json
import os

import numpy as np

from tfcore import pretrained
from tfcore.config import ConfigError
from tfcore.io import read_hf_weights
from tfseq2seq.config import Seq2SeqConfig, as_seq2seq_config

CONFIG_FILE = "config.json"
# Stored sinusoidal tables may differ from ours by float32 rounding only.
SINUSOID_TOLERANCE = 1e-5


def _require(values, key, expected, source):
    if values.get(key, expected) != expected:
        raise ConfigError(f"{source}: key '{key}' = {values[key]!r} is not supported "
                          f"(only {expected!r}).")


def marian_config(values, source=CONFIG_FILE):
    """A Hugging Face `MarianConfig` dict -> Seq2SeqConfig."""
    for key in ("decoder_attention_heads", "decoder_ffn_dim"):
        pair = key.replace("decoder", "encoder")
        if values.get(key, values.get(pair)) != values.get(pair):
            raise ConfigError(f"{source}: '{key}' must equal '{pair}' (one block shape).")
    _require(values, "normalize_before", False, source)
    _require(values, "add_final_layer_norm", False, source)
    _require(values, "normalize_embedding", False, source)
    _require(values, "static_position_embeddings", True, source)
    shared = values.get("share_encoder_decoder_embeddings", True)
    vocab = values["vocab_size"]
    return Seq2SeqConfig(
        vocab_size=vocab, target_vocab_size=None if shared else values.get(
            "decoder_vocab_size") or vocab,
        hidden_size=values["d_model"], num_hidden_layers=values["encoder_layers"],
        num_decoder_layers=values["decoder_layers"],
        num_attention_heads=values["encoder_attention_heads"],
        intermediate_size=values["encoder_ffn_dim"],
        hidden_act=values.get("activation_function", "swish"),
        hidden_dropout_prob=values.get("dropout", 0.1),
        attention_probs_dropout_prob=values.get("attention_dropout", 0.0),
        max_position_embeddings=values.get("max_position_embeddings", 512),
        position_embedding="sinusoidal", sinusoidal_layout="concatenated",
        norm_first=False, layer_norm_eps=1e-5,
        scale_embedding=values.get("scale_embedding", False),
        tie_word_embeddings=values.get("tie_word_embeddings", True) and shared,
        final_logits_bias=True, initializer_range=values.get("init_std", 0.02),
        pad_token_id=values["pad_token_id"], eos_token_id=values["eos_token_id"],
        decoder_start_token_id=values.get("decoder_start_token_id", values["pad_token_id"]))


def t5_config(values, source=CONFIG_FILE):
    """A Hugging Face `T5Config` dict -> Seq2SeqConfig."""
    projection = values.get("feed_forward_proj", "relu")
    gated = projection.startswith("gated-")
    activation = projection[len("gated-"):] if gated else projection
    if activation == "gelu" and gated:
        activation = "gelu_new"  # transformers maps T5's "gated-gelu" to gelu_new
    return Seq2SeqConfig(
        vocab_size=values["vocab_size"], hidden_size=values["d_model"],
        num_hidden_layers=values["num_layers"],
        num_decoder_layers=values.get("num_decoder_layers") or values["num_layers"],
        num_attention_heads=values["num_heads"], head_size=values["d_kv"],
        intermediate_size=values["d_ff"], hidden_act=activation,
        gated_feed_forward=gated,
        hidden_dropout_prob=values.get("dropout_rate", 0.1),
        attention_probs_dropout_prob=values.get("dropout_rate", 0.1),
        position_embedding="relative",
        relative_attention_num_buckets=values.get("relative_attention_num_buckets", 32),
        relative_attention_max_distance=values.get("relative_attention_max_distance", 128),
        norm_first=True, norm="rms", layer_norm_eps=values.get("layer_norm_epsilon", 1e-6),
        use_bias=False, scale_queries=False, scale_embedding=False,
        tie_word_embeddings=values.get("tie_word_embeddings", True),
        scale_decoder_output=values.get("tie_word_embeddings", True),
        initializer_range=values.get("initializer_factor", 1.0),
        pad_token_id=values.get("pad_token_id", 0), eos_token_id=values.get("eos_token_id", 1),
        decoder_start_token_id=values.get("decoder_start_token_id", 0))


FAMILIES = {"marian": marian_config, "t5": t5_config}


def read_hf_config(path):
    """`config.json` of a Marian or T5 folder -> `(family, Seq2SeqConfig)`."""
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"Config file not found: {path}") from None
    family = values.get("model_type")
    if family not in FAMILIES:
        raise ConfigError(f"{path}: model_type {family!r} is not one of {sorted(FAMILIES)}.")
    return family, FAMILIES[family](values, path)


# ---------------------------------------------------------------- name tables
# Rows: (our name, HF key, how): how is "T" (transpose a Linear weight) or None.


def _dense(ours, hf, bias):
    rows = [(f"{ours}/kernel", f"{hf}.weight", "T")]
    return rows + ([(f"{ours}/bias", f"{hf}.bias", None)] if bias else [])


def _norm(ours, hf, config):
    if config.norm == "rms":
        return [(f"{ours}/scale", f"{hf}.weight", None)]
    return [(f"{ours}/gamma", f"{hf}.weight", None), (f"{ours}/beta", f"{hf}.bias", None)]


def _attention(ours, hf, names, bias):
    return [row for ours_name, hf_name in zip(("query", "key", "value", "output_dense"), names)
            for row in _dense(f"{ours}/{ours_name}", f"{hf}.{hf_name}", bias)]


def marian_table(config):
    """Our names -> `model.*` keys of a MarianMTModel."""
    rows = [("shared/embeddings", "model.shared.weight", None),
            ("logits_bias", "final_logits_bias", "row")]
    projections = ("q_proj", "k_proj", "v_proj", "out_proj")
    for side, count in (("encoder", config.num_hidden_layers),
                        ("decoder", config.num_decoder_layers)):
        for i in range(count):
            ours, hf = f"{side}/layer_{i}", f"model.{side}.layers.{i}"
            rows += _attention(f"{ours}/attention", f"{hf}.self_attn", projections, True)
            rows += _norm(f"{ours}/attention_layer_norm", f"{hf}.self_attn_layer_norm", config)
            if side == "decoder":
                rows += _attention(f"{ours}/cross_attention", f"{hf}.encoder_attn",
                                   projections, True)
                rows += _norm(f"{ours}/cross_attention_layer_norm",
                              f"{hf}.encoder_attn_layer_norm", config)
            rows += _dense(f"{ours}/feed_forward/intermediate", f"{hf}.fc1", True)
            rows += _dense(f"{ours}/feed_forward/output_dense", f"{hf}.fc2", True)
            rows += _norm(f"{ours}/output_layer_norm", f"{hf}.final_layer_norm", config)
    if config.target_vocab_size:
        rows.append(("target_embedding/embeddings", "model.decoder.embed_tokens.weight", None))
    if not config.tie_word_embeddings:
        rows.append(("lm_head/kernel", "lm_head.weight", "T"))
    return rows


def t5_table(config):
    """Our names -> keys of a T5ForConditionalGeneration."""
    rows = [("shared/embeddings", "shared.weight", None)]
    names = ("q", "k", "v", "o")
    for side, count in (("encoder", config.num_hidden_layers),
                        ("decoder", config.num_decoder_layers)):
        rows.append((f"{side}/relative_bias/embeddings",
                     f"{side}.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                     None))
        for i in range(count):
            ours, hf = f"{side}/layer_{i}", f"{side}.block.{i}.layer"
            rows += _attention(f"{ours}/attention", f"{hf}.0.SelfAttention", names, False)
            rows += _norm(f"{ours}/attention_layer_norm", f"{hf}.0.layer_norm", config)
            ffn = 1
            if side == "decoder":
                rows += _attention(f"{ours}/cross_attention", f"{hf}.1.EncDecAttention", names,
                                   False)
                rows += _norm(f"{ours}/cross_attention_layer_norm", f"{hf}.1.layer_norm", config)
                ffn = 2
            dense = f"{hf}.{ffn}.DenseReluDense"
            if config.gated_feed_forward:
                rows += _dense(f"{ours}/feed_forward/intermediate", f"{dense}.wi_0", False)
                rows += _dense(f"{ours}/feed_forward/gate", f"{dense}.wi_1", False)
            else:
                rows += _dense(f"{ours}/feed_forward/intermediate", f"{dense}.wi", False)
            rows += _dense(f"{ours}/feed_forward/output_dense", f"{dense}.wo", False)
            rows += _norm(f"{ours}/output_layer_norm", f"{hf}.{ffn}.layer_norm", config)
        rows += _norm(f"{side}/final_layer_norm", f"{side}.final_layer_norm", config)
    if not config.tie_word_embeddings:
        rows.append(("lm_head/kernel", "lm_head.weight", "T"))
    return rows


TABLES = {"marian": marian_table, "t5": t5_table}


def _tied_copies(family, config):
    """Keys that may hold a copy of the shared table (transformers may or may not save them)."""
    copies = {"t5": ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"],
              "marian": ["model.encoder.embed_tokens.weight"]}[family]
    if not config.target_vocab_size and family == "marian":
        copies.append("model.decoder.embed_tokens.weight")
    if config.tie_word_embeddings:
        copies.append("lm_head.weight")
    return copies


def _check_sinusoids(stored, config, mismatched):
    """Marian's stored position tables must be the sinusoids we compute."""
    from tfcore.layers.sinusoidal import sinusoidal_positions
    for key in ("model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight"):
        if key not in stored:
            continue
        table = stored[key]
        ours = sinusoidal_positions(np.arange(table.shape[0]), table.shape[1],
                                    layout=config.sinusoidal_layout).numpy()
        if table.shape != ours.shape or np.max(np.abs(table - ours)) > SINUSOID_TOLERANCE:
            mismatched.append(f"{key}: not the sinusoidal table (learned positions are not "
                              "supported for Marian)")


def to_canonical(stored, family, config):
    """Stored arrays -> `({our name: array}, unexpected, mismatched)`."""
    stored = {k: np.asarray(v) for k, v in stored.items()}
    canonical, mismatched, used = {}, [], set()
    shared_key = "model.shared.weight" if family == "marian" else "shared.weight"
    if shared_key not in stored:  # some savers keep only a tied copy
        for copy in _tied_copies(family, config):
            if copy in stored and "lm_head" not in copy:
                stored[shared_key] = stored[copy]
                break
    for ours, hf, how in TABLES[family](config):
        if hf not in stored:
            continue
        used.add(hf)
        value = stored[hf]
        if how == "T":
            value = value.T
        elif how == "row":
            value = value.reshape(-1)
        canonical[ours] = value
    for copy in _tied_copies(family, config):
        if copy in stored and copy not in used:
            used.add(copy)
            if not np.array_equal(stored[copy], stored[shared_key]):
                mismatched.append(f"{copy}: differs from {shared_key} (tied in config.json)")
    if family == "marian":
        _check_sinusoids(stored, config, mismatched)
        used.update(k for k in stored if k.endswith("embed_positions.weight"))
    unexpected = sorted(k for k in stored if k not in used)
    return canonical, unexpected, mismatched


class PretrainedMixin(pretrained.PretrainedMixin):
    """`from_pretrained` for Hugging Face Marian / T5 folders."""

    @classmethod
    def _read_pretrained(cls, path, config):
        family, folder_config = read_hf_config(os.path.join(path, CONFIG_FILE))
        config = folder_config if config is None else as_seq2seq_config(config)
        stored, folder = cls._read_pretrained_weights(path)
        return config, stored, folder

    @classmethod
    def _read_pretrained_weights(cls, path):
        return read_hf_weights(path, "Marian/T5"), path

    @classmethod
    def _to_canonical(cls, stored, config):
        family = "t5" if config.position_embedding == "relative" else "marian"
        return to_canonical(stored, family, config)

    def _remember_files(self, folder):
        self.tokenizer_files = tuple(
            os.path.join(folder, f) for f in ("source.spm", "target.spm", "vocab.json",
                                              "spiece.model")
            if os.path.exists(os.path.join(folder, f)))

    def save_pretrained(self, folder, tokenizer_files=()):
        raise NotImplementedError("Seq2SeqModel saves with `save_weights` / SavedModel "
                                  "export; Hugging Face folders are read only.")
