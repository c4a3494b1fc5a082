"""Inference over token-classification features: one row of logits per word.

Windows of one sentence (`tftasks.ner.features`) are put back together, so
every word of every sentence gets the logits at its first piece.

Example:

    logits = word_logits(model, features, num_sentences=len(sentences), batch_size=8)
    logits[0].shape            # [words of sentence 0, num_labels]
    tags = decode_tags(logits, tag_set.names)
"""

import weakref

import numpy as np
import tensorflow as tf

from tfbert.model import BERT_INPUT_NAMES
from tftasks.ner.features import make_dataset

_FORWARD = weakref.WeakKeyDictionary()


def _forward(model):
    if model not in _FORWARD:
        spec = {k: tf.TensorSpec([None, None], tf.int32) for k in BERT_INPUT_NAMES}
        _FORWARD[model] = tf.function(
            lambda features: tf.cast(model(features, training=False), tf.float32),
            input_signature=[spec])
    return _FORWARD[model]


def word_logits(model, features, num_sentences, batch_size):
    """float32 `[words, num_labels]` per sentence (a list), from the first piece of each word."""
    forward = _forward(model)
    sizes = np.zeros(num_sentences, np.int64)
    for i, s in enumerate(features.sentence):
        sizes[s] = max(sizes[s], features.word_index[i].max() + 1)
    out = [np.zeros([n, model.num_labels], np.float32) for n in sizes]
    row = 0
    for batch in make_dataset(features, batch_size):
        logits = forward({k: batch[k] for k in BERT_INPUT_NAMES}).numpy()
        for r in range(len(logits)):
            where = features.word_index[row, :logits.shape[1]]
            positions = np.flatnonzero(where >= 0)
            out[features.sentence[row]][where[positions]] = logits[r, positions]
            row += 1
    return out


def decode_tags(logits, names):
    """Tag names (lists of str) of the most probable tag of each word."""
    return [[names[i] for i in np.argmax(x, axis=-1)] for x in logits]


def mean_cross_entropy(logits, tag_ids):
    """Mean over all words of -log softmax(logits)[gold tag]."""
    total, count = 0.0, 0
    for x, gold in zip(logits, tag_ids):
        x = x.astype(np.float64)
        log_z = np.log(np.sum(np.exp(x - x.max(axis=-1, keepdims=True)), axis=-1)) + x.max(-1)
        total += float(np.sum(log_z - x[np.arange(len(gold)), gold]))
        count += len(gold)
    return total / count if count else 0.0
