"""ElectraDiscriminator and ElectraGenerator: BERT encoders with ELECTRA's heads.

Both are `BertModel`s (`config.embedding_size` for tables narrower than the
hidden states, projected by `embeddings_project`) with a head:

- the discriminator: `ReplacedTokenDetection`, one logit per token
  (`[b, s]`, positive = replaced); its encoder is an ordinary BERT encoder
  (`export_bert_encoder` writes it in Google's BERT layout);
- the generator: a `MaskedLanguageModel` whose transform maps to the
  embedding width, decoding with the word embeddings (`[b, s, vocab]`, or
  `[b, P, vocab]` at `masked_lm_positions` when the inputs have them).

The pooler of the BertModel inside is unused (ELECTRA has none): it is
frozen and never saved.

Example:

    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, embedding_size=16)
    disc = ElectraDiscriminator(config)
    logits = disc({"input_ids": ids, "input_mask": mask, "segment_ids": segments})  # [b, s]
    disc.export_bert_encoder("disc_as_bert", vocab_file="vocab.txt")
    encoder = BertModel.from_pretrained("disc_as_bert")
"""

import os

import keras
import tensorflow as tf

from tfbert import checkpoints as bert_checkpoints
from tfbert.config import BertConfig, as_bert_config
from tfbert.electra.checkpoints import (DISCRIMINATOR, DISCRIMINATOR_HEAD, EMBEDDINGS, GENERATOR,
                                        GENERATOR_CONFIG, GENERATOR_HEAD, ElectraPretrainedMixin,
                                        encoder_weights)
from tfbert.electra.heads import ReplacedTokenDetection
from tfbert.heads import MaskedLanguageModel
from tfbert.model import BERT_INPUT_NAMES, BertModel
from tfcore.modeling import ConfigModel, named_weights


def _encoder(config, embedding, name, policy):
    """A BertModel whose (unused) pooler is frozen."""
    model = BertModel(config, embedding=embedding, name=name, dtype=policy)
    model.pooler.trainable = False
    return model


def all_positions(input_ids):
    """`[b, s]` positions 0..s-1 of every row: the generator's logits everywhere."""
    shape = tf.shape(input_ids)
    return tf.tile(tf.range(shape[1])[None], [shape[0], 1])


@keras.saving.register_keras_serializable(package="tfbert")
class ElectraDiscriminator(ElectraPretrainedMixin, ConfigModel):
    """ELECTRA's discriminator: `{input_ids, input_mask, segment_ids} [b, s]` -> logits `[b, s]`.

    `embedding`: a `BertEmbedding` to share (the pretrainer's); default: its own.
    Loads Hugging Face `ElectraForPreTraining` folders and Google's ELECTRA
    checkpoints (`electra/...`, `discriminator_predictions/...`).
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES
    PARTS = (EMBEDDINGS, DISCRIMINATOR, DISCRIMINATOR_HEAD)

    def __init__(self, config, embedding=None, **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        self.electra = _encoder(self.config, embedding, "electra", self.dtype_policy)
        self.discriminator_predictions = ReplacedTokenDetection(
            activation=self.config.hidden_act, initializer_range=self.config.initializer_range,
            name="discriminator_predictions", dtype=self.dtype_policy)
        self.build(None)

    def build(self, inputs_shape=None):
        self.discriminator_predictions.build((None, None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        sequence = self.electra.hidden_states(inputs, training=training)[-1]
        return self.discriminator_predictions(sequence)

    def checkpoint_parts(self):
        return [("discriminator_predictions/", self.discriminator_predictions)]

    def named_checkpoint_weights(self):
        named = encoder_weights(self.electra, "electra")
        named.update(named_weights(self.checkpoint_parts()))
        return named

    def export_bert_encoder(self, folder, vocab_file=None):
        """Writes the encoder as a Google BERT folder that `BertModel.from_pretrained` reads.

        `bert_config.json` (with `embedding_size` where the tables are
        narrower), `bert_model.ckpt.*` under `bert/...` names (the projection
        as `bert/embeddings_project`), `vocab.txt`. There is no pooler: a
        classifier built on it starts its pooler fresh (named in a warning).
        """
        weights = {"bert/" + name[len("electra/"):]: weight
                   for name, weight in encoder_weights(self.electra, "electra").items()}
        bert_checkpoints.save_checkpoint(weights, self.config, folder,
                                         vocab_file or getattr(self, "vocab_file", None))


@keras.saving.register_keras_serializable(package="tfbert")
class ElectraGenerator(ElectraPretrainedMixin, ConfigModel):
    """ELECTRA's generator, a small masked LM: inputs as BERT's -> vocabulary logits.

    Returns `[b, P, vocab]` at `inputs["masked_lm_positions"]` (`[b, P]`) when
    given, else `[b, s, vocab]` at every position. The head is Hugging Face's
    `generator_predictions` (dense to the embedding width, exact gelu,
    LayerNorm) and `generator_lm_head` (the word embeddings + a bias).
    `embedding`: a `BertEmbedding` to share (the discriminator's).
    Loads Hugging Face `ElectraForMaskedLM` folders and Google's ELECTRA
    checkpoints (`electra/embeddings/...`, `generator/...`,
    `generator_predictions/...`).
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES
    PARTS = (EMBEDDINGS, GENERATOR, GENERATOR_HEAD)

    def __init__(self, config, embedding=None, **kwargs):
        super().__init__(**kwargs)
        self.config = c = as_bert_config(config)
        self.generator = _encoder(c, embedding, "generator", self.dtype_policy)
        # Hugging Face and Google both use the exact gelu here, whatever hidden_act.
        self.generator_predictions = MaskedLanguageModel(
            vocab_size=c.vocab_size, activation="gelu", layer_norm_epsilon=c.layer_norm_eps,
            initializer_range=c.initializer_range, embedding_size=c.embedding_width,
            name="generator_predictions", dtype=self.dtype_policy)
        self.build(None)

    def build(self, inputs_shape=None):
        self.generator_predictions.build((None, None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        sequence = self.generator.hidden_states(inputs, training=training)[-1]
        positions = inputs.get("masked_lm_positions")
        if positions is None:
            positions = all_positions(inputs["input_ids"])
        return self.generator_predictions(sequence, positions,
                                          self.generator.embedding.word_embeddings)

    @classmethod
    def _read_pretrained(cls, path, config):
        """As BertModel's; in a joint folder of ours, `generator_config.json` is the config."""
        if config is None:
            folder = path if os.path.isdir(path) else os.path.dirname(path)
            if os.path.exists(os.path.join(folder, GENERATOR_CONFIG)):
                config = os.path.join(folder, GENERATOR_CONFIG)
        return super()._read_pretrained(path, config)

    def checkpoint_parts(self):
        return [("generator_predictions/", self.generator_predictions)]

    def named_checkpoint_weights(self):
        named = encoder_weights(self.generator, "generator")
        named.update(named_weights(self.checkpoint_parts()))
        return named
