"""`SpanTask`: the span-prediction loss of Google's run_squad.py for the Trainer.

Loss = (cross-entropy of `start_positions` + cross-entropy of
`end_positions`) / 2, averaged over the examples of the global batch, each
a softmax over the batch's positions (padding trimmed per batch; Google's
softmax also runs over every padding position up to max_seq_length). Also
reports start and end accuracy.

Example:

    trainer = Trainer(BertSpanLabeler(config), optimizer, SpanTask())
"""

import tensorflow as tf

from tfcore.training import TrainingTask
from tftasks.common.batches import model_inputs

METRICS = ("cross_entropy", "start_accuracy", "end_accuracy")


class SpanTask(TrainingTask):
    """Mean start/end cross-entropy and accuracies as ratios of batch sums."""

    loss_names = ("cross_entropy",)

    def denominators(self, batch):
        examples = tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)
        return {name: examples for name in METRICS}

    def numerators(self, model, batch, training):
        out = model(model_inputs(batch), training=training)
        sums = {}
        total = 0.0
        for side in ("start", "end"):
            logits = tf.cast(out[f"{side}_logits"], tf.float32)
            labels = tf.cast(batch[f"{side}_positions"], tf.int32)
            total += tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels)
            sums[f"{side}_accuracy"] = tf.reduce_sum(tf.cast(hits, tf.float32))
        sums["cross_entropy"] = tf.reduce_sum(total) / 2.0
        return sums
