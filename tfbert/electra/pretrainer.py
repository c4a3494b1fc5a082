"""ElectraPretrainer: generator + discriminator on shared embeddings, fit()-able.

Replaced-token detection (Clark et al., 2020): the generator, a small masked
LM, fills the masked positions of Google's BERT pretraining records with
tokens *sampled* from its softmax (Gumbel-max with a Keras SeedGenerator; no
gradient flows through the sample); the discriminator labels every real
token of the result as replaced (it differs from the original) or not. A
sample equal to the original is not a replacement, so per batch

    replaced tokens == masked tokens - sampled hits, i.e.
    replaced_fraction == mask_rate * (1 - sampled_accuracy).

Loss: Google's masked-LM loss (weighted by `masked_lm_weights`) plus
`discriminator_weight` (50) times the mean sigmoid cross-entropy over the real
(`input_mask`) tokens.

Example:

    pretrainer = ElectraPretrainer(discriminator_config)   # generator: 1/4 of the width
    pretrainer.compile(optimizer=keras.optimizers.AdamW(5e-4))
    pretrainer.fit(dataset_of_feature_dicts, epochs=1)
    pretrainer.discriminator.export_bert_encoder("electra_as_bert", vocab_file="vocab.txt")
"""

import os

import keras
import tensorflow as tf
from absl import logging

from tfbert.config import BertConfig, as_bert_config
from tfbert.electra.checkpoints import (ALL_PARTS, GENERATOR_CONFIG, ElectraPretrainedMixin,
                                        save_google_names)
from tfbert.electra.config import HEAD_SIZE
from tfbert.electra.config import generator_config as derived_generator_config
from tfbert.electra.models import ElectraDiscriminator, ElectraGenerator
from tfbert.model import BERT_INPUT_NAMES
from tfbert.pretrainer import _scale_for_replicas
from tfcore.modeling import ConfigModel
from tfcore.training import TrainingTask, ratios

DISCRIMINATOR_WEIGHT = 50.0
# Keeps log(-log(u)) finite at u = 0 and u = 1 (Google's sample_from_softmax does the same).
GUMBEL_EPSILON = 1e-9


def gumbel_sample(logits, seed, temperature=1.0):
    """One token id per row of `logits [..., vocab]`, drawn from softmax(logits / temperature).

    Gumbel-max: argmax(logits / t + g), g = -log(-log(u)), u ~ U(0, 1) from
    `seed` (a `keras.random.SeedGenerator` or an int). Returns int32 `[...]`.
    """
    logits = tf.stop_gradient(tf.cast(logits, tf.float32)) / temperature
    uniform = keras.random.uniform(tf.shape(logits), seed=seed)
    gumbel = -tf.math.log(-tf.math.log(uniform + GUMBEL_EPSILON) + GUMBEL_EPSILON)
    return tf.argmax(logits + gumbel, -1, output_type=tf.int32)


def replace_tokens(batch, sampled_ids):
    """Writes `sampled_ids [b, P]` at the masked positions; returns the corrupted ids and labels.

    Google's records hold `[MASK]` (or a random or the original token) at
    `masked_lm_positions`, the originals in `masked_lm_ids`; predictions with
    weight 0 are padding and change nothing. Positions must be distinct.
    Returns `(corrupted_ids [b, s], replaced_labels [b, s])`: a label is 1
    where a real token differs from the original.
    """
    input_ids = tf.cast(batch["input_ids"], tf.int32)
    real = tf.cast(tf.cast(batch["masked_lm_weights"], tf.float32) > 0, tf.int32)
    at = tf.one_hot(tf.cast(batch["masked_lm_positions"], tf.int32), tf.shape(input_ids)[1],
                    dtype=tf.int32) * real[..., None]                        # [b, P, s]
    masked = tf.reduce_max(at, axis=1) > 0                                   # [b, s]

    def spread(values):  # [b, P] -> [b, s] at the masked positions
        return tf.reduce_sum(at * tf.cast(values, tf.int32)[..., None], axis=1)

    original = tf.where(masked, spread(batch["masked_lm_ids"]), input_ids)
    corrupted = tf.where(masked, spread(sampled_ids), input_ids)
    input_mask = batch.get("input_mask")
    input_mask = tf.ones_like(input_ids) if input_mask is None else tf.cast(input_mask, tf.int32)
    return corrupted, tf.cast(corrupted != original, tf.int32) * input_mask


def inferred_generator_config(config, canonical, source=""):
    """The generator config of a Google joint checkpoint, read off its weights' shapes.

    Width, layers and feed-forward size come from `generator/layer_N/...`;
    the heads, which no shape shows, follow Google's rule (`hidden // 64`,
    at least 1), named in a warning. Other fields are the discriminator's.
    """
    layers = {name.split("/")[1] for name in canonical
              if name.startswith("generator/layer_")}
    query = canonical.get("generator/layer_0/attention/query/kernel")
    inner = canonical.get("generator/layer_0/feed_forward/intermediate/kernel")
    if query is None or inner is None:
        raise ValueError(f"{source}: no generator weights (generator/encoder/layer_0/...) "
                         f"and no {GENERATOR_CONFIG}: pass generator_config.")
    hidden = int(query.shape[1])
    heads = max(1, hidden // HEAD_SIZE)
    logging.warning("%s has no %s: generator hidden_size=%d, %d layers, intermediate_size=%d "
                    "from the weights; num_attention_heads=%d by Google's rule (hidden // 64).",
                    source, GENERATOR_CONFIG, hidden, len(layers), int(inner.shape[1]), heads)
    return config.replace(hidden_size=hidden, num_hidden_layers=len(layers),
                          intermediate_size=int(inner.shape[1]), num_attention_heads=heads,
                          embedding_size=config.embedding_width)


class ElectraPretrainingTask(TrainingTask):
    """ELECTRA's loss and metrics as ratios of batch sums (see `tfcore.training`).

    Losses: `masked_lm_loss` (Google's, weighted by `masked_lm_weights`) and
    `weighted_replaced_token_loss` (`discriminator_weight` x the mean sigmoid
    cross-entropy over real tokens). Metrics: `masked_lm_accuracy` (argmax),
    `sampled_accuracy` (samples equal to the original), `replaced_token_loss`,
    `replaced_accuracy`, `replaced_precision`, `replaced_recall` (the
    discriminator's, logit > 0 = replaced), `replaced_fraction` (replaced /
    real tokens) and `mask_rate` (masked / real tokens).
    """

    loss_names = ("masked_lm_loss", "weighted_replaced_token_loss")

    def __init__(self, discriminator_weight=DISCRIMINATOR_WEIGHT):
        self.discriminator_weight = discriminator_weight

    def denominators(self, batch, outputs=None):
        masked = tf.reduce_sum(tf.cast(batch["masked_lm_weights"], tf.float32))
        real = tf.reduce_sum(tf.cast(batch["input_mask"], tf.float32))
        dens = {name: masked for name in ("masked_lm_loss", "masked_lm_accuracy",
                                          "sampled_accuracy")}
        dens.update({name: real for name in ("weighted_replaced_token_loss",
                                             "replaced_token_loss", "replaced_accuracy",
                                             "replaced_fraction", "mask_rate")})
        if outputs is not None:
            real_mask = tf.cast(batch["input_mask"], tf.float32)
            predicted = tf.cast(tf.cast(outputs["replaced_logits"], tf.float32) > 0, tf.float32)
            labels = tf.cast(outputs["replaced_labels"], tf.float32)
            dens["replaced_precision"] = tf.reduce_sum(predicted * real_mask)
            dens["replaced_recall"] = tf.reduce_sum(labels * real_mask)
        return dens

    def numerators(self, model, batch, training):
        return self.numerators_from_outputs(model(batch, training=training), batch)

    def numerators_from_outputs(self, outputs, batch):
        logits = tf.cast(outputs["masked_lm_logits"], tf.float32)
        labels = tf.cast(batch["masked_lm_ids"], tf.int32)
        weights = tf.cast(batch["masked_lm_weights"], tf.float32)
        mlm_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        argmax_hit = tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == labels, tf.float32)
        sampled_hit = tf.cast(tf.cast(outputs["sampled_ids"], tf.int32) == labels, tf.float32)

        real = tf.cast(batch["input_mask"], tf.float32)
        replaced = tf.cast(outputs["replaced_labels"], tf.float32)
        disc_logits = tf.cast(outputs["replaced_logits"], tf.float32)
        disc_ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=replaced, logits=disc_logits)
        predicted = tf.cast(disc_logits > 0, tf.float32)
        disc_loss = tf.reduce_sum(disc_ce * real)
        true_positives = tf.reduce_sum(predicted * replaced * real)
        return {"masked_lm_loss": tf.reduce_sum(mlm_ce * weights),
                "masked_lm_accuracy": tf.reduce_sum(argmax_hit * weights),
                "sampled_accuracy": tf.reduce_sum(sampled_hit * weights),
                "weighted_replaced_token_loss": self.discriminator_weight * disc_loss,
                "replaced_token_loss": disc_loss,
                "replaced_accuracy": tf.reduce_sum(tf.cast(predicted == replaced, tf.float32)
                                                   * real),
                "replaced_precision": true_positives,
                "replaced_recall": true_positives,
                "replaced_fraction": tf.reduce_sum(replaced * real),
                "mask_rate": tf.reduce_sum(weights)}

    def ratios(self, outputs, batch):
        """`{metric: numerator / denominator}` of one batch."""
        return ratios(self.numerators_from_outputs(outputs, batch),
                      self.denominators(batch, outputs))


@keras.saving.register_keras_serializable(package="tfbert")
class ElectraPretrainer(ElectraPretrainedMixin, ConfigModel):
    """ELECTRA pretraining; `compile(optimizer)` + `fit(ds)` on Google's BERT records.

    Args:
      config: the discriminator's BertConfig (`embedding_size` optional).
      generator_config: the generator's; default `generator_config(config)`
        (a quarter of the width, Google's default). Its embedding width must
        be the discriminator's: the tables are shared.
      discriminator_weight: the discriminator loss's weight (Google: 50).
      temperature: the sampling temperature (Google: 1).
      seed: the sampling seed (an int; None: random).

    Call on `input_ids`, `input_mask`, `segment_ids` `[b, s]`,
    `masked_lm_positions`, `masked_lm_ids`, `masked_lm_weights` `[b, P]`;
    returns `masked_lm_logits [b, P, vocab]`, `sampled_ids [b, P]`,
    `corrupted_ids [b, s]`, `replaced_labels [b, s]` and `replaced_logits
    [b, s]`. Metrics: see `ElectraPretrainingTask`.
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES + ("masked_lm_positions", "masked_lm_ids",
                                      "masked_lm_weights")
    PARTS = ALL_PARTS
    METRICS = ("masked_lm_loss", "replaced_token_loss", "masked_lm_accuracy",
               "sampled_accuracy", "replaced_accuracy", "replaced_precision",
               "replaced_recall", "replaced_fraction", "mask_rate")

    def __init__(self, config, generator_config=None, discriminator_weight=DISCRIMINATOR_WEIGHT,
                 temperature=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        self.generator_config = (derived_generator_config(self.config) if generator_config is None
                                 else as_bert_config(generator_config))
        self.discriminator_weight = float(discriminator_weight)
        self.temperature = float(temperature)
        self.seed = seed
        self.task = ElectraPretrainingTask(self.discriminator_weight)
        self.discriminator = ElectraDiscriminator(self.config, name="discriminator",
                                                  dtype=self.dtype_policy)
        self.generator = ElectraGenerator(self.generator_config,
                                          embedding=self.discriminator.electra.embedding,
                                          name="generator", dtype=self.dtype_policy)
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        for name in self.METRICS:
            setattr(self, f"{name}_tracker", keras.metrics.Mean(name=name))
        self.built = True

    def call(self, inputs, training=None):
        mlm_logits = self.generator(inputs, training=training)
        sampled = gumbel_sample(mlm_logits, self.seed_generator, self.temperature)
        corrupted, labels = replace_tokens(inputs, sampled)
        fake = {"input_ids": corrupted, "input_mask": inputs.get("input_mask"),
                "segment_ids": inputs.get("segment_ids")}
        replaced_logits = self.discriminator({k: v for k, v in fake.items() if v is not None},
                                             training=training)
        return {"masked_lm_logits": mlm_logits, "sampled_ids": sampled,
                "corrupted_ids": corrupted, "replaced_labels": labels,
                "replaced_logits": replaced_logits}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        metrics = self.task.ratios(y_pred, x)
        total = metrics["masked_lm_loss"] + metrics["weighted_replaced_token_loss"]
        if self.losses:
            total += tf.add_n([tf.cast(term, tf.float32) for term in self.losses])
        return _scale_for_replicas(total)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        metrics = self.task.ratios(y_pred, x)
        dens = self.task.denominators(x, y_pred)
        for name in self.METRICS:
            getattr(self, f"{name}_tracker").update_state(metrics[name], dens[name])
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def named_checkpoint_weights(self):
        named = self.discriminator.named_checkpoint_weights()
        named.update(self.generator.named_checkpoint_weights())
        return named

    def get_config(self):
        config = super().get_config()
        config.update(generator_config=self.generator_config.to_dict(),
                      discriminator_weight=self.discriminator_weight,
                      temperature=self.temperature, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(BertConfig.from_dict(config.pop("config")),
                   generator_config=BertConfig.from_dict(config.pop("generator_config")),
                   **config)

    @classmethod
    def from_pretrained(cls, path, config=None, generator_config=None, **kwargs):
        """Builds both models from a Google ELECTRA checkpoint (or our `save_pretrained` folder).

        `config`: the discriminator's (default: `bert_config.json` beside the
        weights); `generator_config`: default `generator_config.json` beside
        them, else read off the checkpoint's generator shapes
        (`inferred_generator_config`).
        """
        config, stored, folder = cls._read_pretrained(path, config)
        canonical, unexpected, mismatched = cls._to_canonical(stored, config)
        if generator_config is None:
            candidate = os.path.join(folder, GENERATOR_CONFIG)
            generator_config = (candidate if os.path.exists(candidate)
                                else inferred_generator_config(config, canonical, folder))
        model = cls(config, generator_config=generator_config, **kwargs)
        model._assign_pretrained(canonical, unexpected, mismatched, path, folder)
        return model

    @classmethod
    def _to_canonical(cls, stored, config):
        if stored[0] == "hf":
            raise ValueError("A Hugging Face folder holds one ELECTRA model: load it with "
                             "ElectraGenerator or ElectraDiscriminator.from_pretrained.")
        return super()._to_canonical(stored, config)

    def save_pretrained(self, folder, vocab_file=None):
        """Google's ELECTRA names for both models, `bert_config.json`, `generator_config.json`."""
        save_google_names(self.named_checkpoint_weights(), self.config, folder,
                          vocab_file or getattr(self, "vocab_file", None),
                          generator=self.generator_config)
