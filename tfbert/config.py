"""BertConfig: the fields of Google's `bert_config.json`, one for one.

Reads Google's files (extra keys such as `pooler_type` are warned about and
ignored) and Hugging Face `config.json` files, whose BERT keys are the same
(`layer_norm_eps` included; HF-only keys are ignored with a warning). Of the
Hugging Face keys, token ids (`pad_token_id`, `bos_token_id`, `eos_token_id`)
are never read by the encoder and pass whatever their value; keys that would
change its numbers (`is_decoder`, `add_cross_attention`,
`position_embedding_type`) are errors unless they have the value BERT has;
`tie_word_embeddings: false` is a warning (only an MLM head would differ).
`embedding_size` (Hugging Face's ElectraConfig key) makes the embedding tables
narrower than `hidden_size`, projected by `embeddings_project`.

Example:

    config = BertConfig.from_json_file("uncased_L-12_H-768_A-12/bert_config.json")
    config = BertConfig(vocab_size=30522, hidden_size=128, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=512)
"""

import dataclasses
from typing import Optional

from absl import logging

from tfcore.config import ConfigError, TransformerConfig
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
class BertConfig(TransformerConfig):
    """Hyper-parameters of a BERT encoder (defaults: Google's BertConfig class)."""

    # Hugging Face config.json keys with no effect on the weights or the maths
    # (token ids: the encoder never looks one up by its config).
    _BOOKKEEPING_KEYS = frozenset({
        "_name_or_path", "architectures", "model_type", "transformers_version",
        "torch_dtype", "dtype", "use_cache", "gradient_checkpointing", "pad_token_id",
        "bos_token_id", "eos_token_id", "classifier_dropout", "id2label", "label2id",
        "tie_word_embeddings", *UNSUPPORTED_UNLESS,
        # Hugging Face ElectraConfig: its multiple-choice head only (no encoder weight).
        "summary_type", "summary_use_proj", "summary_activation", "summary_last_dropout"})
    _UNSUPPORTED_UNLESS = UNSUPPORTED_UNLESS

    _POSITIVE = TransformerConfig._POSITIVE + ("type_vocab_size",)
    _ACTIVATIONS = ACTIVATIONS

    # vocab_size ... attention_probs_dropout_prob: TransformerConfig's (Google's defaults).
    max_position_embeddings: int = 512
    type_vocab_size: int = 16
    initializer_range: float = 0.02
    layer_norm_eps: float = LAYER_NORM_EPSILON
    embedding_size: Optional[int] = None
    """Width of the embedding tables when it differs from `hidden_size` (ELECTRA,
    ALBERT): a dense `embeddings_project` maps them to `hidden_size`. None (BERT):
    the tables are `hidden_size` wide and the key is not written to JSON."""

    @property
    def embedding_width(self) -> int:
        """The width of the embedding tables: `embedding_size`, else `hidden_size`."""
        return self.hidden_size if self.embedding_size is None else self.embedding_size

    def _check_ranges(self):
        super()._check_ranges()
        if self.embedding_size is not None and self.embedding_size <= 0:
            raise ConfigError(f"key 'embedding_size' must be positive, got {self.embedding_size}.")

    def to_dict(self):
        """The fields; `embedding_size` only when set (Google's bert_config.json has no such key)."""
        values = super().to_dict()
        if values["embedding_size"] is None:
            del values["embedding_size"]
        return values

    @classmethod
    def check_foreign_keys(cls, values, source):
        """As `JsonConfig.check_foreign_keys`; also warns about `tie_word_embeddings: false`."""
        super().check_foreign_keys(values, source)
        if hasattr(values, "get") and values.get("tie_word_embeddings", True) is False:
            # cls.predictions.decoder.weight is an ignored checkpoint entry.
            logging.warning("%s: key 'tie_word_embeddings' = False: the MLM head here always "
                            "uses the word embeddings (its own output matrix is not read); "
                            "the encoder is unaffected.", source)


def as_bert_config(config) -> BertConfig:
    """Accepts a BertConfig, a dict (e.g. from `get_config`) or a JSON path."""
    return BertConfig.coerce(config)
