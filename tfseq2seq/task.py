"""The translation loss for `tfcore.training.Trainer`: label-smoothed token cross-entropy.

A batch is `{"source_ids": [b, S], "target_ids": [b, T]}` padded with the
pad id; every non-pad target token weighs 1. Metrics are ratios of sums
over the global batch: `loss` (label-smoothed), `nll` (plain cross-entropy,
whose exp is the perplexity) and `accuracy` (next-token, teacher forced).

Example:

    trainer = Trainer(model, optimizer, TranslationTask(), strategy)
"""

import tensorflow as tf

from tfcore.training import TrainingTask
from tfseq2seq.model import TARGET_IDS


class TranslationTask(TrainingTask):
    """Label-smoothed cross-entropy over non-pad target tokens (the model's `label_smoothing`)."""

    loss_names = ("smoothed_loss",)

    def __init__(self, pad_id=0):
        self.pad_id = pad_id

    def denominators(self, batch):
        tokens = tf.reduce_sum(tf.cast(tf.not_equal(batch[TARGET_IDS], self.pad_id), tf.float32))
        return {"smoothed_loss": tokens, "nll": tokens, "accuracy": tokens}

    def numerators(self, model, batch, training):
        logits = model(batch, training=training)
        loss, nll, weights, correct = model.token_losses(batch[TARGET_IDS], logits)
        return {"smoothed_loss": tf.reduce_sum(loss * weights),
                "nll": tf.reduce_sum(nll * weights),
                "accuracy": tf.reduce_sum(correct * weights)}
