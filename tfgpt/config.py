"""GPTConfig: GPT-2 hyper-parameters under the field names of BertConfig.

Reads our own JSON files and Hugging Face GPT-2 `config.json` files, whose
keys (`n_layer`, `n_embd`, ...) are aliases of our fields. `to_hf_dict()`
writes the Hugging Face form, which both Hugging Face and this class read.

Example:

    config = GPTConfig.from_json_file("gpt2/config.json")   # HF keys
    config = GPTConfig(vocab_size=65, hidden_size=128, num_hidden_layers=4,
                       num_attention_heads=4, max_position_embeddings=256)
    config.intermediate_size   # 512: None means 4 * hidden_size, as in GPT-2

Sizes, activation, epsilon and dropouts are checked strictly (a wrong value is
a `ConfigError` naming the key). Token ids are not: `GPT2Config(vocab_size=1000)`
keeps transformers' `bos_token_id`/`eos_token_id` of 50256, outside its
vocabulary, and transformers loads it, so this class does too, with a warning:

- `bos_token_id`, `eos_token_id` out of range are kept (the model never reads
  them; as an end token for generation such an id never matches, so a row
  stops only at `max_new_tokens`, as in transformers' `generate`);
- `pad_token_id` out of range is replaced: padded prompt columns go through
  the embedding, so it must be a real id. It then defaults like a missing
  one: `eos_token_id` if that is in the vocabulary, else the last id.
"""

import dataclasses
from typing import Optional

from tfcore.config import TransformerConfig, warn_config
from tfcore.layers.activations import ACTIVATIONS

# GPT-2's LayerNorm epsilon (Hugging Face GPT2Config.layer_norm_epsilon).
LAYER_NORM_EPSILON = 1e-5
# GPT-2's vocabulary: 50,000 merges + 256 bytes + <|endoftext|>, the last id (50256).
GPT2_VOCAB_SIZE = 50257
# GPT-2's MLP width is 4 * hidden when `n_inner` is null (HF GPT2MLP).
FFN_MULTIPLIER = 4

# Hugging Face GPT2Config key -> our field.
HF_ALIASES = {
    "n_embd": "hidden_size", "n_layer": "num_hidden_layers",
    "n_head": "num_attention_heads", "n_inner": "intermediate_size",
    "n_positions": "max_position_embeddings", "activation_function": "hidden_act",
    "resid_pdrop": "hidden_dropout_prob", "attn_pdrop": "attention_probs_dropout_prob",
    "embd_pdrop": "embedding_dropout_prob", "layer_norm_epsilon": "layer_norm_eps",
}
_HF_NAME = {ours: theirs for theirs, ours in HF_ALIASES.items()}

# Hugging Face keys that would change the maths, with the only value we implement.
UNSUPPORTED_UNLESS = {
    "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
    "add_cross_attention": False, "tie_word_embeddings": True,
}


@dataclasses.dataclass(frozen=True)
class GPTConfig(TransformerConfig):
    """Hyper-parameters of a GPT-2 style decoder (defaults: GPT-2 small, 124M)."""

    _ALIASES = HF_ALIASES
    _BOOKKEEPING_KEYS = frozenset({
        "_name_or_path", "architectures", "model_type", "transformers_version",
        "torch_dtype", "dtype", "use_cache", "n_ctx", "reorder_and_upcast_attn",
        "summary_activation", "summary_first_dropout", "summary_proj_to_labels",
        "summary_type", "summary_use_proj", "task_specific_params", "output_past",
        *UNSUPPORTED_UNLESS})
    _UNSUPPORTED_UNLESS = UNSUPPORTED_UNLESS

    _PROBABILITIES = TransformerConfig._PROBABILITIES + ("embedding_dropout_prob",)
    _ACTIVATIONS = ACTIVATIONS

    # TransformerConfig's fields, with GPT-2 small's defaults where they differ.
    vocab_size: int = GPT2_VOCAB_SIZE
    intermediate_size: Optional[int] = None
    hidden_act: str = "gelu_new"
    embedding_dropout_prob: float = 0.1
    max_position_embeddings: int = 1024
    initializer_range: float = 0.02
    layer_norm_eps: float = LAYER_NORM_EPSILON
    # False: no biases in the dense layers, no LayerNorm offsets (nanoGPT's bias=False).
    use_bias: bool = True
    # None: the last id, GPT-2's <|endoftext|> (a character vocab.json has it at 0).
    bos_token_id: Optional[int] = None
    eos_token_id: Optional[int] = None
    # Written after an end token and in padding; None means eos_token_id (if in
    # the vocabulary, else the last id).
    pad_token_id: Optional[int] = None

    def __post_init__(self):
        super().__post_init__()  # types, defaults, ranges
        self._resolve_token_ids()

    def _resolve_defaults(self):
        """GPT-2's derived defaults: FFN width 4 * hidden; bos/eos the last id."""
        resolved = dict(intermediate_size=FFN_MULTIPLIER * self.hidden_size,
                        eos_token_id=self.vocab_size - 1, bos_token_id=self.vocab_size - 1)
        for key, value in resolved.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)

    def in_vocab(self, token_id):
        """Whether `token_id` is an id of the embedding table, [0, vocab_size)."""
        return 0 <= token_id < self.vocab_size

    def _resolve_token_ids(self):
        """Warns about (and keeps) bos/eos outside the vocabulary; makes pad a real id.

        bos/eos are compared with generated ids at most, never looked up, so
        an id no token can have is harmless; pad fills prompt padding, which
        the embedding reads (tf.gather fails on CPU for ids out of range).
        """
        vocab = self.vocab_size
        for key in ("bos_token_id", "eos_token_id"):
            value = getattr(self, key)
            if not self.in_vocab(value):
                warn_config("key '%s' = %d is outside the vocabulary [0, %d); kept: the model "
                            "never reads it, and no generated token can match it.", key, value,
                            vocab)
        pad = self.pad_token_id
        # A missing pad, or one no token has, becomes eos where eos is a real id.
        fallback = self.eos_token_id if self.in_vocab(self.eos_token_id) else vocab - 1
        if pad is None:
            pad = fallback
        elif not self.in_vocab(pad):
            warn_config("key 'pad_token_id' = %d is outside the vocabulary [0, %d); using %d "
                        "(padded prompt columns go through the embedding).", pad, vocab,
                        fallback)
            pad = fallback
        object.__setattr__(self, "pad_token_id", pad)

    @property
    def head_size(self):
        return self.hidden_size // self.num_attention_heads

    def to_hf_dict(self):
        """The Hugging Face GPT2Config form (`model_type: gpt2`), read by both sides."""
        values = {_HF_NAME.get(k, k): v for k, v in self.to_dict().items()}
        values.update(model_type="gpt2", architectures=["GPT2LMHeadModel"],
                      n_ctx=self.max_position_embeddings)
        return values


def as_gpt_config(config) -> GPTConfig:
    """Accepts a GPTConfig, a dict (e.g. from `get_config`) or a JSON path."""
    return GPTConfig.coerce(config)
