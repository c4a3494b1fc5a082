"""BertConfig: the fields of Google's `bert_config.json`, one for one.

Reads Google's files (extra keys such as `pooler_type` are warned about and
ignored) and Hugging Face `config.json` files, whose BERT keys are the same
(`layer_norm_eps` included; HF-only keys are ignored with a warning). Of the
Hugging Face keys, token ids (`pad_token_id`, `bos_token_id`, `eos_token_id`)
are never read by the encoder and pass whatever their value; keys that would
change its numbers (`is_decoder`, `add_cross_attention`,
`position_embedding_type`) are errors unless they have the value BERT has;
`tie_word_embeddings: false` is a warning (only an MLM head would differ).

Example:

    config = BertConfig.from_json_file("uncased_L-12_H-768_A-12/bert_config.json")
    config = BertConfig(vocab_size=30522, hidden_size=128, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=512)
"""

import dataclasses

from absl import logging

from tfcore.config import ConfigError, JsonConfig, reject_unsupported
from tfcore.layers.activations import ACTIVATIONS

# Google's modeling.py hard-codes this epsilon; HF's config names it layer_norm_eps.
LAYER_NORM_EPSILON = 1e-12

# Hugging Face BertConfig keys that would change the encoder's numbers, with the
# only value implemented here (HF's defaults: a bidirectional encoder with
# learned absolute positions).
UNSUPPORTED_UNLESS = {
    "is_decoder": False, "add_cross_attention": False, "position_embedding_type": "absolute",
}


@dataclasses.dataclass(frozen=True)
class BertConfig(JsonConfig):
    """Hyper-parameters of a BERT encoder (defaults: Google's BertConfig class)."""

    # Hugging Face config.json keys with no effect on the weights or the maths
    # (token ids: the encoder never looks one up by its config).
    _BOOKKEEPING_KEYS = frozenset({
        "_name_or_path", "architectures", "model_type", "transformers_version",
        "torch_dtype", "dtype", "use_cache", "gradient_checkpointing", "pad_token_id",
        "bos_token_id", "eos_token_id", "classifier_dropout", "id2label", "label2id",
        "tie_word_embeddings", *UNSUPPORTED_UNLESS})

    vocab_size: int
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 16
    initializer_range: float = 0.02
    layer_norm_eps: float = LAYER_NORM_EPSILON

    def __post_init__(self):
        super().__post_init__()  # types (and finite floats) first
        for key in ("vocab_size", "hidden_size", "num_hidden_layers",
                    "num_attention_heads", "intermediate_size",
                    "max_position_embeddings", "type_vocab_size"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"key '{key}' must be positive, got {getattr(self, key)}.")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"key 'hidden_size' ({self.hidden_size}) must be divisible by "
                f"'num_attention_heads' ({self.num_attention_heads}).")
        if self.hidden_act not in ACTIVATIONS:
            raise ConfigError(
                f"key 'hidden_act' must be one of {sorted(ACTIVATIONS)}, got {self.hidden_act!r}.")
        for key in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ConfigError(f"key '{key}' must be in [0, 1), got {getattr(self, key)}.")
        if self.layer_norm_eps <= 0:
            raise ConfigError(f"key 'layer_norm_eps' must be positive, got {self.layer_norm_eps}.")
        if self.initializer_range < 0:
            raise ConfigError(
                f"key 'initializer_range' must be >= 0, got {self.initializer_range}.")

    @classmethod
    def from_dict(cls, values, source="<dict>"):
        """As `JsonConfig.from_dict`; Hugging Face keys with unsupported maths are errors."""
        reject_unsupported(values, UNSUPPORTED_UNLESS, source)
        if hasattr(values, "get") and values.get("tie_word_embeddings", True) is False:
            # cls.predictions.decoder.weight is an ignored checkpoint entry.
            logging.warning("%s: key 'tie_word_embeddings' = False: the MLM head here always "
                            "uses the word embeddings (its own output matrix is not read); "
                            "the encoder is unaffected.", source)
        return super().from_dict(values, source)


def as_bert_config(config) -> BertConfig:
    """Accepts a BertConfig, a dict (e.g. from `get_config`) or a JSON path."""
    if isinstance(config, BertConfig):
        return config
    if isinstance(config, dict):
        return BertConfig.from_dict(config)
    if isinstance(config, str):
        return BertConfig.from_json_file(config)
    raise TypeError(f"Expected a BertConfig, dict or path, got {type(config).__name__}.")
