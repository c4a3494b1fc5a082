"""Batches of BERT features: padding trimmed per batch; inference over a dataset.

Text tokenized a batch at a time is trimmed to the longest row of the batch
(rounded up to a multiple of `PAD_MULTIPLE`): padding positions are masked,
so trimming does not change the outputs, only the time (SST-2 phrases
average 13 tokens, a batch of 32 about 40, against `--max_seq_length=64`).

Example:

    features = trim_padding(tokenizer(text_a, text_b, 128))   # [b, s' <= 128]
    logits = predict_logits(model, dataset)                   # float32 [n, num_labels]
"""

import weakref

import numpy as np
import tensorflow as tf

from tfbert.model import BERT_INPUT_NAMES

# Trimmed lengths are multiples of this: few distinct shapes (one XLA
# compilation each with --jit_compile) and vector-friendly sizes.
PAD_MULTIPLE = 8


def trim_padding(features, multiple=PAD_MULTIPLE):
    """Cuts `[b, s]` features to `[b, s']`, s' = longest row rounded up to `multiple`."""
    full = tf.shape(features["input_ids"])[1]
    longest = tf.reduce_max(tf.reduce_sum(features["input_mask"], axis=1))
    length = tf.minimum(full, tf.maximum((longest + multiple - 1) // multiple * multiple, 1))
    return {k: v[:, :length] for k, v in features.items()}


def model_inputs(batch):
    """The model's three token features (int32 `[b, s]`) from a batch dict."""
    return {k: batch[k] for k in BERT_INPUT_NAMES}


# One traced inference function per model (weakly held), reused by every evaluation.
_FORWARD = weakref.WeakKeyDictionary()


def _forward_function(model):
    if model not in _FORWARD:
        spec = {k: tf.TensorSpec([None, None], tf.int32) for k in BERT_INPUT_NAMES}
        _FORWARD[model] = tf.function(
            lambda features: tf.cast(model(features, training=False), tf.float32),
            input_signature=[spec])
    return _FORWARD[model]


def predict_logits(model, dataset):
    """Runs `model` (inference mode) over a finite dataset: float32 `[n, num_labels]`."""
    forward = _forward_function(model)
    outputs = [forward(model_inputs(batch)).numpy() for batch in dataset]
    if not outputs:
        return np.zeros([0, model.num_labels], np.float32)
    return np.concatenate(outputs, axis=0)
