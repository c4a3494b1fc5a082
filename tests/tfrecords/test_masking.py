"""Static masking invariants on generated batches (NumPy only)."""

import numpy as np
import pytest

from tfrecords import masking

CLS, SEP, PAD, MASK = 2, 3, 0, 4
VOCAB_SIZE = 60
# Ids 40..59 are `##` pieces; 10..59 are ordinary tokens (random replacements).
IS_CONTINUATION = np.arange(VOCAB_SIZE) >= 40
RANDOM_IDS = np.arange(10, VOCAB_SIZE)


def _batch(rng, n=400, length=64):
    """[CLS] A [SEP] B [SEP] pad..., with words of 1-3 pieces."""
    ids = np.full((n, length), PAD)
    candidates = np.zeros((n, length), bool)
    for row in range(n):
        a, b = rng.integers(1, 25, 2)
        body = rng.integers(10, 40, a + b)
        pieces = rng.random(a + b) < 0.35
        body[pieces] = rng.integers(40, VOCAB_SIZE, pieces.sum())
        seq = [CLS, *body[:a], SEP, *body[a:], SEP]
        ids[row, :len(seq)] = seq
        candidates[row, 1:a + 1] = True
        candidates[row, a + 2:a + b + 2] = True
    return ids, candidates


@pytest.mark.parametrize("whole_word", [False, True])
def test_masking_invariants(whole_word):
    rng = np.random.default_rng(0)
    ids, candidates = _batch(rng)
    out = masking.mask_tokens(ids, candidates, rng, MASK, RANDOM_IDS, 0.15, 20,
                              IS_CONTINUATION if whole_word else None)
    positions, weights = out["masked_lm_positions"], out["masked_lm_weights"]
    real = weights > 0
    budget = masking.num_to_predict(candidates.sum(1), 0.15, 20)
    counts = real.sum(1)
    assert (counts <= budget).all()
    if not whole_word:
        np.testing.assert_array_equal(counts, np.minimum(budget, candidates.sum(1)))
    # Real slots first, sorted, never on [CLS]/[SEP]/padding; empty slots zero.
    assert (np.diff(real.astype(int), axis=1) <= 0).all()
    assert all((np.diff(p[r]) > 0).all() for p, r in zip(positions, real))
    assert np.take_along_axis(candidates, positions, 1)[real].all()
    assert (positions[~real] == 0).all() and (out["masked_lm_ids"][~real] == 0).all()
    np.testing.assert_array_equal(out["masked_lm_ids"][real],
                                  np.take_along_axis(ids, positions, 1)[real])
    # Only chosen positions change; [CLS]/[SEP] stay.
    changed = out["input_ids"] != ids
    chosen = np.zeros_like(changed)
    np.put_along_axis(chosen, positions, real, axis=1)
    assert not (changed & ~chosen).any()
    assert (out["input_ids"][:, 0] == CLS).all()


def test_eighty_ten_ten_split_and_fraction():
    rng = np.random.default_rng(1)
    ids, candidates = _batch(rng, n=3000)
    out = masking.mask_tokens(ids, candidates, rng, MASK, RANDOM_IDS, 0.15, 20)
    outcome = out["outcome"][out["masked_lm_weights"] > 0]
    shares = np.bincount(outcome, minlength=4)[1:] / len(outcome)
    np.testing.assert_allclose(shares, [0.8, 0.1, 0.1], atol=0.015)
    assert abs(len(outcome) / candidates.sum() - 0.15) < 0.01
    replaced = out["input_ids"][np.nonzero(out["outcome"] == 3)[0],
                                out["masked_lm_positions"][out["outcome"] == 3]]
    assert np.isin(replaced, RANDOM_IDS).all()


def test_whole_words_share_one_outcome():
    rng = np.random.default_rng(2)
    ids, candidates = _batch(rng)
    out = masking.mask_tokens(ids, candidates, rng, MASK, RANDOM_IDS, 0.15, 20, IS_CONTINUATION)
    starts = masking.word_starts(ids, candidates, IS_CONTINUATION)
    word = np.cumsum(starts, axis=1)
    for row in range(len(ids)):
        real = out["masked_lm_weights"][row] > 0
        pos = out["masked_lm_positions"][row][real]
        outcomes = out["outcome"][row][real]
        for w in np.unique(word[row, pos]):
            members = np.flatnonzero(candidates[row] & (word[row] == w))
            assert set(members) <= set(pos), "a chosen word is missing pieces"
            assert len(set(outcomes[np.isin(pos, members)])) == 1


def test_zero_probability_masks_nothing():
    rng = np.random.default_rng(3)
    ids, candidates = _batch(rng, n=20)
    out = masking.mask_tokens(ids, candidates, rng, MASK, RANDOM_IDS, 0.0, 20)
    assert out["masked_lm_weights"].sum() == 0
    np.testing.assert_array_equal(out["input_ids"], ids)


def test_num_to_predict_rounds_half_up_and_caps():
    got = masking.num_to_predict(np.array([0, 3, 10, 30, 125, 500]), 0.15, 20)
    np.testing.assert_array_equal(got, [1, 1, 2, 5, 19, 20])
