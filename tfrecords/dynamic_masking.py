"""Dynamic (RoBERTa-style) masking of parsed BERT batches, in the graph.

Records written with `--masked_lm_prob=0` carry no predictions; each read
masks them anew with the writer's rule (`tfrecords.masking`): per sequence
`min(P, max(1, round_half_up(n * masked_lm_prob)))` of its `n` real tokens
(`input_mask` 1 and not a special id), 80% `[MASK]`, 10% kept, 10% a random
ordinary token. Single tokens only (no whole-word masking here). The output
has the same keys, dtypes and shapes as the static records.

Randomness is stateless, seeded per batch, so a seeded pipeline repeats
exactly, and every epoch (every read) draws new masks.

Example:

    masker = DynamicMasker.create(vocab_file="vocab.txt", max_predictions_per_seq=20)
    masked = masker(features, tf.constant([1, 2], tf.int64))
"""

import numpy as np
import tensorflow as tf

from tfrecords.masking import KEEP_PROB, MASK_PROB


def _vocab_facts(vocab_file):
    """vocab.txt -> (size, [MASK] id, ids of `[...]`-bracketed tokens)."""
    with tf.io.gfile.GFile(vocab_file, "r") as f:
        vocab = f.read().splitlines()
    if "[MASK]" not in vocab:
        raise ValueError(f"vocab file {vocab_file!r} has no [MASK] token")
    special = [i for i, t in enumerate(vocab) if t.startswith("[") and t.endswith("]")]
    return len(vocab), vocab.index("[MASK]"), special


class DynamicMasker:
    """Callable `(features, seed [2]) -> features` (see module doc)."""

    def __init__(self, vocab_size, mask_id, special_ids, masked_lm_prob,
                 max_predictions_per_seq):
        special = np.unique(np.asarray(list(special_ids) + [mask_id], np.int32))
        ordinary = np.setdiff1d(np.arange(vocab_size, dtype=np.int32), special)
        if not ordinary.size:
            raise ValueError("dynamic masking: no ordinary token ids to draw replacements from")
        self.mask_id = int(mask_id)
        is_special = np.zeros(max(vocab_size, int(special.max()) + 1), bool)
        is_special[special] = True
        self.is_special = tf.constant(is_special)  # A lookup: cheaper than comparisons.
        self.random_ids = tf.constant(ordinary)
        self.masked_lm_prob = float(masked_lm_prob)
        self.max_predictions = int(max_predictions_per_seq)

    @classmethod
    def create(cls, vocab_file=None, vocab_size=None, mask_id=None, special_ids=(),
               masked_lm_prob=0.15, max_predictions_per_seq=20):
        """From a vocab.txt, or from `vocab_size`, `mask_id` and the special ids."""
        if vocab_file:
            vocab_size, mask_id, special_ids = _vocab_facts(vocab_file)
        elif vocab_size is None or mask_id is None or not len(special_ids):
            raise ValueError("dynamic masking needs vocab_file, or vocab_size, mask_id and "
                             "special_ids (at least the [PAD], [CLS] and [SEP] ids)")
        return cls(vocab_size, mask_id, special_ids, masked_lm_prob, max_predictions_per_seq)

    def _budget(self, candidates):
        real = tf.reduce_sum(tf.cast(candidates, tf.float32), axis=1)
        wanted = tf.cast(tf.floor(real * self.masked_lm_prob + 0.5), tf.int32)
        return tf.minimum(self.max_predictions, tf.maximum(1, wanted))

    def __call__(self, feats, seed):
        ids = feats["input_ids"]
        batch, length = tf.shape(ids)[0], ids.shape[1]
        width = self.max_predictions
        seeds = tf.random.experimental.stateless_split(seed, 4)
        candidates = (feats["input_mask"] > 0) & ~tf.gather(self.is_special, ids)
        keys = tf.where(candidates, tf.random.stateless_uniform(tf.shape(ids), seeds[0]), -1.0)
        top = tf.math.top_k(keys, k=width)
        slot = tf.range(width)[None, :]
        real = (slot < self._budget(candidates)[:, None]) & (top.values >= 0)
        positions = tf.sort(tf.where(real, top.indices, length), axis=1)
        real = positions < length
        positions = tf.where(real, positions, 0)
        labels = tf.where(real, tf.gather(ids, positions, batch_dims=1), 0)
        draw = tf.random.stateless_uniform([batch, width], seeds[1])
        pick = tf.random.stateless_uniform([batch, width], seeds[2], maxval=tf.size(
            self.random_ids), dtype=tf.int32)
        new = tf.where(draw < MASK_PROB, self.mask_id,
                       tf.where(draw < MASK_PROB + KEEP_PROB, labels,
                                tf.gather(self.random_ids, pick)))
        coords = tf.where(real)
        updates = tf.gather_nd(new, coords)
        rows_positions = tf.stack([coords[:, 0], tf.cast(tf.gather_nd(positions, coords),
                                                         tf.int64)], axis=1)
        out = dict(feats)
        out["input_ids"] = tf.tensor_scatter_nd_update(ids, rows_positions, updates)
        out["masked_lm_positions"] = positions
        out["masked_lm_ids"] = labels
        out["masked_lm_weights"] = tf.cast(real, tf.float32)
        return out
