"""BertPretrainer: BertModel + masked-LM and next-sentence heads, fit()-able."""

import keras
import tensorflow as tf

from tfbert.checkpoints import PretrainedMixin
from tfbert.config import BertConfig, as_bert_config
from tfbert.heads import MaskedLanguageModel, NextSentencePrediction
from tfbert.model import BERT_INPUT_NAMES, BertModel
from tfcore.modeling import ConfigModel
from tfcore.training import TrainingTask, ratios


class BertPretrainingTask(TrainingTask):
    """MLM + NSP loss and metrics as ratios of batch sums (see `tfcore.training`).

    The MLM loss is Google's: cross-entropy at the masked positions weighted
    by `masked_lm_weights`, divided by the sum of the weights (over the
    global batch when run by `tfcore.training.Trainer`); the NSP loss is the
    mean cross-entropy of `next_sentence_labels` (0 = B follows A).
    """

    loss_names = ("masked_lm_loss", "next_sentence_loss")

    def denominators(self, batch):
        weights = tf.reduce_sum(tf.cast(batch["masked_lm_weights"], tf.float32))
        examples = tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)
        return {"masked_lm_loss": weights, "masked_lm_accuracy": weights,
                "next_sentence_loss": examples, "next_sentence_accuracy": examples}

    def numerators(self, model, batch, training):
        return self.numerators_from_outputs(model(batch, training=training), batch)

    @staticmethod
    def numerators_from_outputs(outputs, batch):
        logits = tf.cast(outputs["masked_lm_logits"], tf.float32)
        labels = tf.cast(batch["masked_lm_ids"], tf.int32)
        weights = tf.cast(batch["masked_lm_weights"], tf.float32)
        mlm_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        mlm_hit = tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == labels, tf.float32)
        nsp_logits = tf.cast(outputs["next_sentence_logits"], tf.float32)
        nsp_labels = tf.reshape(tf.cast(batch["next_sentence_labels"], tf.int32), [-1])
        nsp_ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=nsp_labels,
                                                                logits=nsp_logits)
        nsp_hit = tf.cast(tf.argmax(nsp_logits, -1, output_type=tf.int32) == nsp_labels,
                          tf.float32)
        return {"masked_lm_loss": tf.reduce_sum(mlm_ce * weights),
                "masked_lm_accuracy": tf.reduce_sum(mlm_hit * weights),
                "next_sentence_loss": tf.reduce_sum(nsp_ce),
                "next_sentence_accuracy": tf.reduce_sum(nsp_hit)}


def _scale_for_replicas(loss):
    """Keras sums replica gradients: a per-replica mean must be divided by their number."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


@keras.saving.register_keras_serializable(package="tfbert")
class BertPretrainer(PretrainedMixin, ConfigModel):
    """BERT with MLM and NSP heads; trains with `compile(optimizer)` + `fit(ds)`.

    Call on a dict with `input_ids`, `segment_ids`, `input_mask` (`[b, s]`) and
    `masked_lm_positions` (`[b, P]`); returns
    `{"masked_lm_logits": [b, P, vocab], "next_sentence_logits": [b, 2]}`.
    `fit` takes datasets of Google's TFRecord feature dicts (also
    `masked_lm_ids`, `masked_lm_weights`, `next_sentence_labels`) with no
    separate labels: the loss is MLM + NSP, the MLM part weighted by
    `masked_lm_weights`. Metrics: `masked_lm_accuracy`,
    `next_sentence_accuracy`, `masked_lm_loss`, `next_sentence_loss`.

    Example:

        pretrainer = BertPretrainer(config)
        pretrainer.compile(optimizer=keras.optimizers.AdamW(1e-4))
        pretrainer.fit(dataset_of_feature_dicts, epochs=1)
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES + ("masked_lm_positions",)

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        c = self.config
        self.bert = BertModel(c, name="bert", dtype=self.dtype_policy)
        self.masked_lm = MaskedLanguageModel(
            vocab_size=c.vocab_size, activation=c.hidden_act,
            layer_norm_epsilon=c.layer_norm_eps, initializer_range=c.initializer_range,
            embedding_size=c.embedding_size, name="masked_lm", dtype=self.dtype_policy)
        self.next_sentence = NextSentencePrediction(
            initializer_range=c.initializer_range, name="next_sentence",
            dtype=self.dtype_policy)
        self.masked_lm_loss_tracker = keras.metrics.Mean(name="masked_lm_loss")
        self.next_sentence_loss_tracker = keras.metrics.Mean(name="next_sentence_loss")
        self.masked_lm_accuracy = keras.metrics.Mean(name="masked_lm_accuracy")
        self.next_sentence_accuracy = keras.metrics.Mean(name="next_sentence_accuracy")
        self.build(None)

    def build(self, inputs_shape=None):
        self.masked_lm.build((None, None, self.config.hidden_size))
        self.next_sentence.build((None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        outputs = self.bert(inputs, training=training)
        mlm_logits = self.masked_lm(outputs["sequence_output"],
                                    inputs["masked_lm_positions"],
                                    self.bert.embedding.word_embeddings)
        nsp_logits = self.next_sentence(outputs["pooled_output"])
        return {"masked_lm_logits": mlm_logits, "next_sentence_logits": nsp_logits}

    def _task_metrics(self, x, y_pred):
        nums = BertPretrainingTask.numerators_from_outputs(y_pred, x)
        return ratios(nums, BertPretrainingTask().denominators(x))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        metrics = self._task_metrics(x, y_pred)
        self.masked_lm_loss_tracker.update_state(metrics["masked_lm_loss"])
        self.next_sentence_loss_tracker.update_state(metrics["next_sentence_loss"])
        total = metrics["masked_lm_loss"] + metrics["next_sentence_loss"]
        if self.losses:
            total += tf.add_n([tf.cast(term, tf.float32) for term in self.losses])
        return _scale_for_replicas(total)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        metrics = self._task_metrics(x, y_pred)
        weights = tf.reduce_sum(tf.cast(x["masked_lm_weights"], tf.float32))
        self.masked_lm_accuracy.update_state(metrics["masked_lm_accuracy"], weights)
        self.next_sentence_accuracy.update_state(metrics["next_sentence_accuracy"],
                                                 tf.cast(tf.shape(x["input_ids"])[0], tf.float32))
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def checkpoint_parts(self):
        return [("bert/", self.bert), ("masked_lm/", self.masked_lm),
                ("next_sentence/", self.next_sentence)]

