"""The byte-pair merge loop of GPT-2's tokenizer, in TensorFlow ops.

Symbols are vocabulary ids. A pair `(a, b)` is looked up by the int64 key
`a * vocab_size + b` in two hash tables built from merges.txt: its rank (the
line number: lower merges first) and the id of the merged symbol `a + b`.
All pieces of a batch are merged together in one `tf.while_loop`: each
iteration finds, in every piece, the lowest-ranked pair present, and merges
all its non-overlapping occurrences from left to right, which is what
GPT-2's `bpe()` does one piece at a time.

Example:

    merger = BpeMerger(vocab, merges)             # {token: id}, [("Ġ", "t"), ...]
    ids = merger.merge(byte_ids)                  # RaggedTensor [pieces, (symbols)]
"""

import numpy as np
import tensorflow as tf

# merges.txt is read without TensorFlow, shared with the writer's Python encoder.
from tfcore.text.bpe import read_merges  # noqa: F401  (kept importable from here)

# Rank of a pair that is not in merges.txt.
NO_MERGE = np.iinfo(np.int32).max


def _table(keys, values, default):
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(keys, tf.int64),
                                            tf.constant(values, tf.int32)), default)


def _first_of_runs(best):
    """Left-to-right non-overlapping choice: in each run of consecutive True, every other one."""
    positions = tf.range(tf.size(best))
    starts = tf.logical_and(best, tf.logical_not(tf.concat([[False], best[:-1]], 0)))
    run = tf.maximum(tf.cumsum(tf.cast(starts, tf.int32)) - 1, 0)
    start_positions = tf.concat([tf.boolean_mask(positions, starts), [0]], 0)  # never empty
    offset = positions - tf.gather(start_positions, run)
    return tf.logical_and(best, offset % 2 == 0)


class BpeMerger(tf.Module):
    """Merges byte-symbol ids of pieces into BPE token ids (see module doc)."""

    def __init__(self, vocab, merges, name=None):
        super().__init__(name=name)
        self.vocab_size = len(vocab)
        left = np.array([vocab[a] for a, _ in merges], np.int64)
        right = np.array([vocab[b] for _, b in merges], np.int64)
        keys = left * self.vocab_size + right
        if len(np.unique(keys)) != len(keys):
            raise ValueError("merges.txt lists a pair twice")
        self.ranks = _table(keys, np.arange(len(merges), dtype=np.int32), NO_MERGE)
        self.merged = _table(keys, np.array([vocab[a + b] for a, b in merges], np.int32), -1)

    def _step(self, symbols, splits):
        """One merge round over all pieces: `(symbols, splits, any_merged)`."""
        rows = tf.ragged.row_splits_to_segment_ids(splits)
        keys = (tf.cast(symbols[:-1], tf.int64) * self.vocab_size
                + tf.cast(symbols[1:], tf.int64))
        same_piece = tf.equal(rows[:-1], rows[1:])
        ranks = tf.where(same_piece, self.ranks.lookup(keys), NO_MERGE)
        pair_rows = rows[:-1]
        lowest = tf.math.unsorted_segment_min(ranks, pair_rows, tf.size(splits) - 1)
        best = tf.logical_and(ranks < NO_MERGE, tf.equal(ranks, tf.gather(lowest, pair_rows)))
        chosen = _first_of_runs(best)
        merged = self.merged.lookup(keys)
        chosen_at = tf.concat([chosen, [False]], 0)          # symbol starts a merge
        dropped = tf.concat([[False], chosen], 0)            # symbol is absorbed
        symbols = tf.where(chosen_at, tf.concat([merged, [0]], 0), symbols)
        symbols = tf.boolean_mask(symbols, tf.logical_not(dropped))
        removed = tf.math.unsorted_segment_sum(tf.cast(chosen, tf.int32), pair_rows,
                                               tf.size(splits) - 1)
        splits = tf.concat([[0], tf.cumsum(splits[1:] - splits[:-1] - removed)], 0)
        return symbols, splits, tf.reduce_any(chosen)

    def merge(self, symbols):
        """RaggedTensor int32 `[pieces, (byte symbols)]` -> `[pieces, (token ids)]`."""
        values = tf.cast(symbols.flat_values, tf.int32)
        splits = tf.cast(symbols.row_splits, tf.int32)

        def body(values, splits, _):
            return self._step(values, splits)

        values, splits, _ = tf.while_loop(
            lambda v, s, more: more, body, (values, splits, tf.size(values) > 1),
            shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]),
                              tf.TensorShape([])))
        return tf.RaggedTensor.from_row_splits(values, tf.cast(splits, tf.int64), validate=False)
