"""The next-token loss of GPT records, for `model.fit` and `tfcore.training.Trainer`.

A GPT record is `{"token_ids": [batch, seq + 1]}` (tfrecords.features.gpt_schema):
inputs are `token_ids[:, :-1]`, targets `token_ids[:, 1:]`. An optional
`padding_mask [batch, seq + 1]` (1 = real token, right padding) gives each
target the weight of its own position; without it every target weighs 1.

Example:

    trainer = tfcore.training.Trainer(lm, optimizer, LMTask(), strategy)
    trainer.fit(dataset_fn, num_train_steps=5000, checkpoint_dir="out")
    # metrics: lm_loss (mean next-token cross-entropy, nats), accuracy
"""

import tensorflow as tf

from tfcore.training import TrainingTask, ratios

TOKEN_IDS = "token_ids"
PADDING_MASK = "padding_mask"


def split_record(data):
    """A record dict -> `(inputs, targets[, weights])`; tuples pass through.

    `{"token_ids": [b, s + 1]}` -> `({"token_ids": [b, s]}, targets [b, s])`,
    plus weights `[b, s]` (float32) when the record has a `padding_mask`.
    """
    if not isinstance(data, dict):
        return data
    if TOKEN_IDS not in data:
        raise ValueError(f"A GPT record needs the feature {TOKEN_IDS!r}; got {sorted(data)}.")
    ids = tf.cast(data[TOKEN_IDS], tf.int32)
    inputs, targets = {TOKEN_IDS: ids[:, :-1]}, ids[:, 1:]
    if PADDING_MASK in data:
        return inputs, targets, tf.cast(data[PADDING_MASK], tf.float32)[:, 1:]
    return inputs, targets


def lm_sums(logits, targets, weights=None):
    """Weighted sums over a batch: `(cross-entropy, hits, weight)`, float32 scalars.

    Args:
      logits: `[b, s, vocab]`; targets: int `[b, s]`; weights: `[b, s]` or None (all 1).
    """
    logits = tf.cast(logits, tf.float32)
    targets = tf.cast(targets, tf.int32)
    if weights is None:
        weights = tf.ones(tf.shape(targets), tf.float32)
    weights = tf.cast(weights, tf.float32)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    hits = tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == targets, tf.float32)
    return (tf.reduce_sum(ce * weights), tf.reduce_sum(hits * weights),
            tf.reduce_sum(weights))


def lm_metrics(logits, targets, weights=None):
    """`{"lm_loss", "accuracy"}` (ratios to the weight sum) and `"weight"` (the sum)."""
    ce, hits, weight = lm_sums(logits, targets, weights)
    result = ratios({"lm_loss": ce, "accuracy": hits},
                    {"lm_loss": weight, "accuracy": weight})
    result["weight"] = weight
    return result


class LMTask(TrainingTask):
    """Next-token loss for `tfcore.training.Trainer`: ratios of sums over the batch.

    `lm_loss` = sum(cross-entropy * weight) / sum(weight), `accuracy` =
    sum(hit * weight) / sum(weight); the Trainer sums both over replicas and
    micro-batches, so the figures are those of the global batch.
    """

    loss_names = ("lm_loss",)

    def denominators(self, batch):
        split = split_record(batch)
        weights = split[2] if len(split) == 3 else tf.ones(tf.shape(split[1]), tf.float32)
        total = tf.reduce_sum(weights)
        return {"lm_loss": total, "accuracy": total}

    def numerators(self, model, batch, training):
        split = split_record(batch)
        inputs, targets = split[0], split[1]
        weights = split[2] if len(split) == 3 else None
        ce, hits, _ = lm_sums(model(inputs, training=training), targets, weights)
        return {"lm_loss": ce, "accuracy": hits}
