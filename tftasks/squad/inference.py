"""Start/end logits of in-memory SQuAD features, batched by length.

Features are sorted by length so that a batch pads little, padded to the
batch's longest (a multiple of `PAD_MULTIPLE`), run through one traced
forward function, and returned in the features' order, each cut to its
real length.

Example:

    logits = span_logits(model, features, batch_size=8)
    start_logits, end_logits = logits[0]      # float32 [n_0] each
"""

import time
import weakref

import numpy as np
import tensorflow as tf
from absl import logging

from tfbert.model import BERT_INPUT_NAMES
from tftasks.common.batches import PAD_MULTIPLE

_FORWARD = weakref.WeakKeyDictionary()
# Seconds between progress lines.
PROGRESS_SECONDS = 10.0


def _forward(model):
    if model not in _FORWARD:
        spec = {k: tf.TensorSpec([None, None], tf.int32) for k in BERT_INPUT_NAMES}

        def forward(features):
            out = model(features, training=False)
            return tf.stack([tf.cast(out["start_logits"], tf.float32),
                             tf.cast(out["end_logits"], tf.float32)], axis=1)

        _FORWARD[model] = tf.function(forward, input_signature=[spec])
    return _FORWARD[model]


def padded_batch(features):
    """Model inputs (int32 `[b, s]`) of a list of `Feature`s, padded to a multiple of 8."""
    longest = max(len(f.input_ids) for f in features)
    width = -(-longest // PAD_MULTIPLE) * PAD_MULTIPLE
    batch = {k: np.zeros([len(features), width], np.int32) for k in BERT_INPUT_NAMES}
    for row, f in enumerate(features):
        n = len(f.input_ids)
        batch["input_ids"][row, :n] = f.input_ids
        batch["segment_ids"][row, :n] = f.segment_ids
        batch["input_mask"][row, :n] = 1
    return batch


def span_logits(model, features, batch_size):
    """`[(start_logits, end_logits)]` float32 `[n_i]`, one pair per feature."""
    forward = _forward(model)
    order = sorted(range(len(features)), key=lambda i: len(features[i].input_ids))
    out = [None] * len(features)
    started = last = time.perf_counter()
    for first in range(0, len(order), batch_size):
        if time.perf_counter() - last > PROGRESS_SECONDS:
            last = time.perf_counter()
            logging.info("Predicting: %d of %d features, %.0f s.", first, len(order),
                         last - started)
        rows = order[first:first + batch_size]
        logits = forward(padded_batch([features[i] for i in rows])).numpy()
        for row, i in enumerate(rows):
            n = len(features[i].input_ids)
            out[i] = (logits[row, 0, :n], logits[row, 1, :n])
    return out
