"""Token-budget batches of translation pairs, bucketed by length.

Pairs `{"source_ids": int32 [n], "target_ids": int32 [m]}` are grouped by
their length `max(n, m)` into buckets (tf.data's `bucket_by_sequence_length`);
bucket k holds lengths in `(boundaries[k-1], boundaries[k]]` and its batches
have `max_tokens // padded(boundaries[k])` pairs, so every batch
`{"source_ids": int32 [b, S], "target_ids": int32 [b, T]}` keeps
`b * max(S, T) <= max_tokens`. S and T are the batch's longest source and
target, rounded up to a multiple of `pad_to_multiple` (tensor-core friendly
shapes, fewer retraces); padding is `pad_id` (0). Pairs longer than
`max_length` are skipped (the record writer already drops them).

Default boundaries: 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, ... below
`max_length`, then `max_length` itself.

Determinism: with a `seed`, the shuffle (when `shuffle_buffer` is set) and so
the batches are the same on every run; tf.data keeps element order.

Distribution: batches differ in size and shape. With `tf.distribute`, build
one pipeline per replica through
`strategy.distribute_datasets_from_function(lambda ctx: token_batches(
read_pairs(..., input_context=ctx), max_tokens=per_replica_tokens))`: each
replica gets its own token budget, and the loss must be normalised by the
global count of target tokens (the Trainer's numerator/denominator does).
For static shapes (TPU, XLA), `static_shapes=True` pads every batch of a
bucket to the bucket's length and `drop_remainder=True` keeps its batch size
fixed: one shape per bucket.

Example:

    ds = token_batches(read_pairs("records/train-*.tfrecord", is_training=True),
                       max_tokens=4096, shuffle_buffer=10_000, seed=1)
    batch = next(iter(ds))   # {"source_ids": int32 [b, S], "target_ids": int32 [b, T]}
"""

import tensorflow as tf

from tftasks.common.errors import ConfigError
from tftasks.translation.records import SOURCE_IDS, TARGET_IDS

DEFAULT_MAX_LENGTH = 256


def default_boundaries(max_length=DEFAULT_MAX_LENGTH):
    """8, 12, 16, 24, 32, 48, ... (x1.5 then x4/3 alternately) below `max_length`, then it."""
    boundaries, low = [], 8
    while low < max_length:
        boundaries += [low, low * 3 // 2]
        low *= 2
    return [b for b in boundaries if b < max_length] + [max_length]


def _round_up(length, multiple):
    return -(-length // multiple) * multiple


def bucket_batch_sizes(boundaries, max_tokens, pad_to_multiple=8):
    """Pairs per batch of each bucket: `max_tokens // padded bucket length`."""
    return [max_tokens // _round_up(b, pad_to_multiple) for b in boundaries]


def token_batches(dataset, max_tokens=4096, bucket_boundaries=None, max_length=None,
                  shuffle_buffer=None, seed=None, drop_remainder=False, pad_to_multiple=8,
                  pad_id=0, static_shapes=False):
    """Pairs -> padded batches within a token budget.

    Args:
      dataset: elements `{"source_ids": int [n], "target_ids": int [m]}`.
      max_tokens: bound on `batch_size * max(S, T)` of every batch.
      bucket_boundaries: increasing inclusive length limits of the buckets
        (None: `default_boundaries(max_length)`); the last is the longest pair kept.
      max_length: the longest pair kept (default: the last boundary, or 256).
      shuffle_buffer: pairs shuffled before bucketing (None / 0: no shuffle).
      seed: shuffle seed (same seed: same batches).
      drop_remainder: drop each bucket's last, smaller batch.
      pad_to_multiple: round S and T up to a multiple of this.
      pad_id: the padding id.
      static_shapes: pad S and T to the bucket's (rounded) length instead of the batch's.

    Returns:
      `tf.data.Dataset` of `{"source_ids": int32 [b, S], "target_ids": int32 [b, T]}`.

    Raises:
      ConfigError: boundaries not increasing, or `max_tokens` below the padded longest length.
    """
    if pad_to_multiple < 1:
        raise ConfigError(f"pad_to_multiple must be >= 1, got {pad_to_multiple}")
    if bucket_boundaries is None:
        boundaries = default_boundaries(max_length or DEFAULT_MAX_LENGTH)
    else:
        boundaries = [int(b) for b in bucket_boundaries]
        if max_length is not None:
            boundaries = [b for b in boundaries if b < max_length] + [max_length]
    if not boundaries or boundaries[0] < 1 or any(a >= b for a, b in zip(boundaries, boundaries[1:])):
        raise ConfigError(f"bucket boundaries must be positive and increasing, got {boundaries}")
    sizes = bucket_batch_sizes(boundaries, max_tokens, pad_to_multiple)
    if sizes[-1] < 1:
        raise ConfigError(f"--max_tokens {max_tokens} is below the longest padded pair "
                          f"({_round_up(boundaries[-1], pad_to_multiple)} ids); raise it or "
                          "lower the maximum length")
    longest = boundaries[-1]

    def length(pair):
        return tf.maximum(tf.size(pair[SOURCE_IDS]), tf.size(pair[TARGET_IDS]))

    ds = dataset.map(lambda pair: {SOURCE_IDS: tf.cast(pair[SOURCE_IDS], tf.int32),
                                   TARGET_IDS: tf.cast(pair[TARGET_IDS], tf.int32)})
    ds = ds.filter(lambda pair: length(pair) <= longest)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    # tf.data's boundaries are exclusive; its bucket past the last one stays empty (filtered).
    ds = ds.bucket_by_sequence_length(
        length, [b + 1 for b in boundaries], sizes + [1],
        padded_shapes={SOURCE_IDS: [None], TARGET_IDS: [None]},
        padding_values={SOURCE_IDS: pad_id, TARGET_IDS: pad_id},
        pad_to_bucket_boundary=static_shapes, drop_remainder=drop_remainder)

    def pad(batch):
        return {name: _pad_to_multiple(ids, pad_to_multiple, pad_id) for name, ids in batch.items()}

    return ds.map(pad)


def _pad_to_multiple(ids, multiple, pad_id):
    """`[b, n]` -> `[b, n']`, n' = n rounded up to a multiple of `multiple`, padded with `pad_id`."""
    extra = -tf.shape(ids)[1] % multiple
    return tf.pad(ids, [[0, 0], [0, extra]], constant_values=pad_id)
