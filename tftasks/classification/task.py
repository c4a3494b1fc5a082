"""`ClassifierTask`: the Trainer's task protocol (`tfcore.training.TrainingTask`) for BERT.

Loss and metrics are sums over a batch, divided by the number of examples of
the global batch:

- classification: cross-entropy of `label_ids` (int32 `[b]`) and accuracy;
- multilabel: binary cross-entropy averaged over labels (float32 `[b, k]`)
  and per-label accuracy;
- regression: squared error of the score (float32 `[b]`).

Example:

    trainer = Trainer(classifier, optimizer, ClassifierTask("classification"))
"""

import tensorflow as tf

from tfcore.training import TrainingTask
from tftasks.common.batches import model_inputs

LOSS_NAMES = {"classification": ("cross_entropy",),
              "multilabel": ("binary_cross_entropy",),
              "regression": ("mean_squared_error",)}


class ClassifierTask(TrainingTask):
    """Loss and metrics of `BertClassifier` as ratios of sums (see the module doc)."""

    def __init__(self, task_type):
        self.task_type = task_type
        self.loss_names = LOSS_NAMES[task_type]

    def denominators(self, batch):
        """`{name: examples in the batch}` (float32 scalars) for the losses and accuracy."""
        examples = tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)
        names = self.loss_names + (() if self.task_type == "regression" else ("accuracy",))
        return {name: examples for name in names}

    def numerators(self, model, batch, training):
        """`{name: sum over the batch}` (float32 scalars) of the losses and accuracy."""
        logits = tf.cast(model(model_inputs(batch), training=training), tf.float32)
        labels = batch["label_ids"]
        if self.task_type == "regression":
            error = logits[:, 0] - tf.cast(labels, tf.float32)
            return {"mean_squared_error": tf.reduce_sum(tf.square(error))}
        if self.task_type == "multilabel":
            labels = tf.cast(labels, tf.float32)
            bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
            hits = tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), labels), tf.float32)
            return {"binary_cross_entropy": tf.reduce_sum(tf.reduce_mean(bce, axis=1)),
                    "accuracy": tf.reduce_sum(tf.reduce_mean(hits, axis=1))}
        labels = tf.cast(labels, tf.int32)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels)
        return {"cross_entropy": tf.reduce_sum(ce),
                "accuracy": tf.reduce_sum(tf.cast(hits, tf.float32))}
