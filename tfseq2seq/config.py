"""Seq2SeqConfig: hyper-parameters of an encoder-decoder Transformer under BERT's field names.

One config covers the original Transformer (post-LN, sinusoidal positions),
Marian (the same, scaled embeddings, a final logits bias) and T5 (pre-LN
RMSNorm, relative position buckets, no biases, unscaled attention, gated or
plain feed-forward). `tfseq2seq.hf_configs` reads Hugging Face's
`MarianConfig` / `T5Config` files into it.

`num_hidden_layers` is the encoder's depth, `num_decoder_layers` the
decoder's (None: the same). `target_vocab_size` None means one vocabulary
and one embedding table for both sides.

Example:

    config = Seq2SeqConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=3,
                           num_attention_heads=4, intermediate_size=1024)
"""

import dataclasses
from typing import Optional

from tfcore.config import ConfigError, TransformerConfig
from tfcore.layers.activations import ACTIVATIONS

# Where position information comes from: added to the embeddings ("learned",
# "sinusoidal"), or added to the attention scores ("relative": T5's bucketed
# bias; "shaw": Shaw et al.'s clipped relative keys).
POSITION_SCHEMES = ("learned", "sinusoidal", "relative", "shaw")
SINUSOIDAL_LAYOUTS = ("concatenated", "interleaved")
NORMS = ("layer", "rms")


@dataclasses.dataclass(frozen=True)
class Seq2SeqConfig(TransformerConfig):
    """Encoder-decoder hyper-parameters (defaults: a Transformer-base-like translation model)."""

    _ACTIVATIONS = ACTIVATIONS
    _POSITIVE = TransformerConfig._POSITIVE + ("num_decoder_layers",)

    hidden_size: int = 512
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    intermediate_size: int = 2048
    hidden_act: str = "relu"
    num_decoder_layers: Optional[int] = None
    """Decoder blocks; None: `num_hidden_layers`."""
    target_vocab_size: Optional[int] = None
    """Rows of a separate target embedding; None: one table shared by both sides."""
    head_size: Optional[int] = None
    """Width of each attention head; None: hidden_size / num_attention_heads (T5's d_kv)."""
    max_position_embeddings: int = 1024
    """Longest sequence of the learned and sinusoidal tables."""
    position_embedding: str = "sinusoidal"
    """One of POSITION_SCHEMES."""
    sinusoidal_layout: str = "concatenated"
    """[sin | cos] (Marian, tensor2tensor) or "interleaved" sin/cos columns (the paper)."""
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    max_relative_position: int = 16
    """Shaw et al.'s clipping distance k ("shaw")."""
    norm_first: bool = False
    """Pre-LN blocks with a final norm after each stack (T5) or post-LN (the paper, Marian)."""
    norm: str = "layer"
    """"layer" (LayerNorm) or "rms" (RMSNorm, T5)."""
    layer_norm_eps: float = 1e-5
    use_bias: bool = True
    gated_feed_forward: bool = False
    scale_queries: bool = True
    """Scale the queries by 1/sqrt(head_size) (T5: False)."""
    scale_embedding: bool = True
    """Multiply token embeddings by sqrt(hidden_size) (the paper, Marian)."""
    tie_word_embeddings: bool = True
    """The output projection is the target embedding table."""
    scale_decoder_output: bool = False
    """Multiply the decoder output by hidden_size**-0.5 before a tied projection (T5)."""
    final_logits_bias: bool = False
    """A `[target vocab]` bias added to the logits (Marian)."""
    initializer_range: float = 0.02
    pad_token_id: int = 0
    eos_token_id: int = 1
    decoder_start_token_id: Optional[int] = None
    """First decoder input; None: pad_token_id (Marian, T5)."""

    def _resolve_defaults(self):
        for key, value in (("num_decoder_layers", self.num_hidden_layers),
                           ("decoder_start_token_id", self.pad_token_id)):
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)

    def _check_heads(self):
        if self.head_size is None:
            super()._check_heads()
        elif self.head_size <= 0:  # set: T5 v1.1 small is 512 wide with 6 heads of 64
            raise ConfigError(f"key 'head_size' must be positive, got {self.head_size}.")

    def _check_ranges(self):
        super()._check_ranges()
        for key, allowed in (("position_embedding", POSITION_SCHEMES),
                             ("sinusoidal_layout", SINUSOIDAL_LAYOUTS), ("norm", NORMS)):
            if getattr(self, key) not in allowed:
                raise ConfigError(f"key '{key}' must be one of {list(allowed)}, "
                                  f"got {getattr(self, key)!r}.")
        if self.position_embedding == "sinusoidal" and self.hidden_size % 2:
            raise ConfigError(f"key 'hidden_size' must be even for sinusoidal positions, "
                              f"got {self.hidden_size}.")
        for key in ("pad_token_id", "eos_token_id", "decoder_start_token_id"):
            if not 0 <= getattr(self, key) < self.output_vocab_size:
                raise ConfigError(f"key '{key}' = {getattr(self, key)} is outside the target "
                                  f"vocabulary [0, {self.output_vocab_size}).")

    @property
    def output_vocab_size(self):
        """Rows of the target vocabulary (the logits' width)."""
        return self.target_vocab_size or self.vocab_size

    @property
    def attention_head_size(self):
        return self.head_size or self.hidden_size // self.num_attention_heads


def as_seq2seq_config(config) -> Seq2SeqConfig:
    """Accepts a Seq2SeqConfig, a dict (e.g. from `get_config`) or a JSON path."""
    return Seq2SeqConfig.coerce(config)
