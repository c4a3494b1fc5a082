"""token_batches: token budget, every pair exactly once, zero padding, determinism, static shapes."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from tftasks.common.errors import ConfigError
from tftasks.translation.batching import bucket_batch_sizes, default_boundaries, token_batches


def random_pairs(count=300, max_length=64, seed=0):
    """(source, target) id lists: lengths 1..max_length, ids 3..99 with eos (1) last."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        lengths = rng.integers(1, max_length + 1, size=2)
        pairs.append(tuple(rng.integers(3, 100, size=n - 1).tolist() + [1] for n in lengths))
    return pairs


def as_dataset(pairs):
    return tf.data.Dataset.from_tensor_slices({
        "source_ids": tf.ragged.constant([s for s, _ in pairs], tf.int64),
        "target_ids": tf.ragged.constant([t for _, t in pairs], tf.int64)})


def unpad(row):
    """A padded row -> the ids up to and including eos (ids are never 0)."""
    row = row.tolist()
    return row[:row.index(1) + 1]


def batches(pairs, **options):
    return [(b["source_ids"], b["target_ids"]) for b in
            token_batches(as_dataset(pairs), **options).as_numpy_iterator()]


def test_budget_padding_and_every_pair_once():
    pairs = random_pairs()
    result = batches(pairs, max_tokens=256, max_length=64, shuffle_buffer=100, seed=1)
    seen = collections.Counter()
    for source, target in result:
        assert source.dtype == target.dtype == np.int32
        assert source.shape[0] == target.shape[0] >= 1
        assert source.shape[0] * max(source.shape[1], target.shape[1]) <= 256
        assert source.shape[1] % 8 == 0 and target.shape[1] % 8 == 0
        for s, t in zip(source, target):
            s_ids, t_ids = unpad(s), unpad(t)
            assert not s[len(s_ids):].any() and not t[len(t_ids):].any()  # padding is 0
            seen[(tuple(s_ids), tuple(t_ids))] += 1
        # No wider than needed: the longest row, rounded up to a multiple of 8.
        assert source.shape[1] == -(-max(len(unpad(r)) for r in source) // 8) * 8
        assert target.shape[1] == -(-max(len(unpad(r)) for r in target) // 8) * 8
    assert seen == collections.Counter((tuple(s), tuple(t)) for s, t in pairs)
    # Buckets make batches of similar lengths: far fewer padded ids than one big shuffle.
    padded = sum(s.size + t.size for s, t in result)
    real = sum(len(s) + len(t) for s, t in pairs)
    assert real / padded > 0.6


def test_same_seed_same_batches_and_other_seed_differs():
    pairs = random_pairs(count=200)
    options = dict(max_tokens=256, max_length=64, shuffle_buffer=200)
    first, again = batches(pairs, seed=7, **options), batches(pairs, seed=7, **options)
    other = batches(pairs, seed=8, **options)
    assert len(first) == len(again) and all(
        (a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(first, again))
    assert [a[0].tolist() for a in first] != [b[0].tolist() for b in other]


def test_longer_pairs_are_skipped():
    pairs = random_pairs(count=50, max_length=20) + [([5] * 40 + [1], [1])]
    result = batches(pairs, max_tokens=128, max_length=32)
    assert sum(s.shape[0] for s, _ in result) == 50
    assert max(s.shape[1] for s, _ in result) <= 32


def test_static_shapes_with_drop_remainder():
    pairs = random_pairs(count=400, max_length=30)
    boundaries = [8, 16, 30]
    sizes = bucket_batch_sizes(boundaries, 128)
    assert sizes == [16, 8, 4]
    result = batches(pairs, max_tokens=128, bucket_boundaries=boundaries, static_shapes=True,
                     drop_remainder=True)
    shapes = collections.Counter((s.shape, t.shape) for s, t in result)
    assert set(shapes) == {((16, 8), (16, 8)), ((8, 16), (8, 16)), ((4, 32), (4, 32))}
    # Only the remainders are dropped: fewer than one batch per bucket.
    assert 400 - 3 * 16 < sum(s.shape[0] for s, _ in result) <= 400


def test_default_boundaries_and_errors():
    assert default_boundaries(256) == [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
    assert default_boundaries(100) == [8, 12, 16, 24, 32, 48, 64, 96, 100]
    with pytest.raises(ConfigError, match="--max_tokens 100 is below the longest padded pair"):
        token_batches(as_dataset(random_pairs(3)), max_tokens=100, max_length=128)
    with pytest.raises(ConfigError, match="increasing"):
        token_batches(as_dataset(random_pairs(3)), bucket_boundaries=[16, 8])
