"""BertClassifier: a classification or regression head on the pooled output."""

import keras
import tensorflow as tf

from tfbert.checkpoints import PretrainedMixin
from tfbert.config import BertConfig, as_bert_config
from tfbert.model import BERT_INPUT_NAMES, BertModel
from tfcore.modeling import ConfigModel

TASK_TYPES = ("classification", "regression", "multilabel")
# "pooler": Google's tanh(Dense(h[CLS])); "mean": the mask-weighted mean of the
# token vectors (sentence-transformers' pooling, e.g. all-MiniLM-L6-v2).
POOLINGS = ("pooler", "mean")


@keras.saving.register_keras_serializable(package="tfbert")
class BertClassifier(PretrainedMixin, ConfigModel):
    """`BertModel -> pooled_output -> Dropout -> Dense(num_labels)`: logits `[b, num_labels]`.

    With `pooling="mean"` the head reads the mean of the token vectors over
    `input_mask` instead of `pooled_output` (for sentence-transformers
    checkpoints, whose pooler is untrained).

    Google's `run_classifier.py` head. `task_type` says how the logits are
    read: "classification" (softmax; loss
    `SparseCategoricalCrossentropy(from_logits=True)`), "multilabel" (sigmoid
    per label; `BinaryCrossentropy(from_logits=True)`) or "regression"
    (`num_labels=1`, the raw score; `MeanSquaredError`).

    Example:

        clf = BertClassifier(config, num_labels=2)
        clf.compile(optimizer="adam",
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        logits = clf({"input_ids": ids, "input_mask": mask, "segment_ids": seg})
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES

    def __init__(self, config, num_labels=2, task_type="classification",
                 dropout_rate=None, pooling="pooler", **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        if task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}.")
        if task_type == "regression" and num_labels != 1:
            raise ValueError(f"regression needs num_labels=1, got {num_labels}.")
        if num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}.")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        self.num_labels = num_labels
        self.task_type = task_type
        self.pooling = pooling
        self.dropout_rate = (self.config.hidden_dropout_prob
                             if dropout_rate is None else dropout_rate)
        self.bert = BertModel(self.config, name="bert", dtype=self.dtype_policy)
        if pooling == "mean":  # the pooler gets no gradient: keep it out of training
            self.bert.pooler.trainable = False
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)
        self.classifier = keras.layers.Dense(
            num_labels, name="classifier", dtype=self.dtype_policy,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=self.config.initializer_range))
        self.build(None)

    def build(self, inputs_shape=None):
        self.classifier.build((None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        outputs = self.bert(inputs, training=training)
        pooled = outputs["pooled_output"]
        if self.pooling == "mean":
            sequence = tf.cast(outputs["sequence_output"], tf.float32)
            mask = inputs.get("input_mask")
            mask = tf.ones(tf.shape(sequence)[:2]) if mask is None else tf.cast(mask, tf.float32)
            pooled = tf.reduce_sum(sequence * mask[..., None], axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        return self.classifier(self.dropout(pooled, training=training))

    def checkpoint_parts(self):
        return [("bert/", self.bert), ("classifier/", self.classifier)]

    @classmethod
    def _kwargs_from_checkpoint(cls, canonical, kwargs):
        # A saved classifier knows its number of labels; a plain encoder does not.
        if "num_labels" not in kwargs and "classifier/kernel" in canonical:
            kwargs = dict(kwargs, num_labels=canonical["classifier/kernel"].shape[1])
        return kwargs

    def get_config(self):
        config = super().get_config()
        config.update(num_labels=self.num_labels, task_type=self.task_type,
                      dropout_rate=self.dropout_rate, pooling=self.pooling)
        return config
