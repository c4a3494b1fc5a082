"""The masked-LM baseline: always predict the most frequent masked token.

A pretrained BERT's `masked_lm_accuracy` means little alone; beside the
accuracy of this constant guess it shows what the model learned.

Example:

    accuracy, token_id = masked_lm_baseline(train_fn, eval_fn, max_eval_batches=100,
                                            train_batch_size=32)
"""

import numpy as np
import tensorflow as tf

# Training records counted to find the most frequent masked token.
TRAINING_RECORDS_COUNTED = 20000


def _add_counts(counts, new):
    """Element-wise sum of two bincounts of different lengths (`counts` may be None)."""
    if counts is None:
        return new
    size = max(len(counts), len(new))
    return np.pad(counts, (0, size - len(counts))) + np.pad(new, (0, size - len(new)))


def most_frequent_masked_token(train_fn, train_batch_size):
    """The masked-LM label most frequent in the first ~20000 training records."""
    counts = None
    batches = max(1, TRAINING_RECORDS_COUNTED // train_batch_size)
    for batch in train_fn(tf.distribute.InputContext()).take(batches):
        ids = batch["masked_lm_ids"].numpy()[batch["masked_lm_weights"].numpy() > 0]
        counts = _add_counts(counts, np.bincount(ids))
    return int(np.argmax(counts))


def masked_lm_baseline(train_fn, eval_fn, max_eval_batches, train_batch_size):
    """`(accuracy, token id)` of always predicting the most frequent masked token.

    Args:
      train_fn, eval_fn: `input_context -> tf.data.Dataset` of BERT pretraining
        batches (`masked_lm_ids`, `masked_lm_weights`: `[batch, predictions]`).
      max_eval_batches: evaluation batches read (as the model's evaluation).
      train_batch_size: records per training batch (sets how many are counted).
    The accuracy is weighted by `masked_lm_weights`, as the model's.
    """
    most_frequent = most_frequent_masked_token(train_fn, train_batch_size)
    hits = total = 0.0
    for batch in eval_fn(tf.distribute.InputContext()).take(max_eval_batches):
        weights = batch["masked_lm_weights"].numpy()
        hits += float(((batch["masked_lm_ids"].numpy() == most_frequent) * weights).sum())
        total += float(weights.sum())
    return hits / max(total, 1.0), most_frequent
