"""`TokenClassificationTask`: masked token cross-entropy for the Trainer (`tfcore.training`).

Only positions whose `label_ids` is a tag id (>= 0: the first piece of each
word) count; the others (`IGNORE`, -100) are masked out. Loss and accuracy
are sums over the labelled tokens of a batch divided by the number of
labelled tokens of the global batch: the mean over labelled tokens.

Example:

    trainer = Trainer(BertTokenClassifier(config, num_labels=13), optimizer,
                      TokenClassificationTask())
"""

import tensorflow as tf

from tfcore.training import TrainingTask
from tftasks.common.batches import model_inputs


class TokenClassificationTask(TrainingTask):
    """Cross-entropy and accuracy over labelled tokens (see the module doc)."""

    loss_names = ("cross_entropy",)

    def denominators(self, batch):
        labelled = tf.reduce_sum(tf.cast(batch["label_ids"] >= 0, tf.float32))
        return {"cross_entropy": labelled, "accuracy": labelled}

    def numerators(self, model, batch, training):
        logits = tf.cast(model(model_inputs(batch), training=training), tf.float32)
        labels = batch["label_ids"]
        mask = tf.cast(labels >= 0, tf.float32)
        safe = tf.maximum(labels, 0)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=logits)
        hits = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), safe),
                       tf.float32)
        return {"cross_entropy": tf.reduce_sum(ce * mask),
                "accuracy": tf.reduce_sum(hits * mask)}
