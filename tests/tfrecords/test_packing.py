"""Sentence-pair packing: Google's truncation loop and instance invariants."""

import random

import numpy as np
import pytest

from tfrecords import packing


def _google_style_trim(len_a, len_b, max_tokens):
    """The one-token-at-a-time loop of Google's truncate_seq_pair (counts only)."""
    trim_a = trim_b = 0
    while len_a + len_b > max_tokens:
        if len_a > len_b:
            len_a, trim_a = len_a - 1, trim_a + 1
        else:
            len_b, trim_b = len_b - 1, trim_b + 1
    return trim_a, trim_b


def test_trim_counts_match_the_loop():
    for len_a in range(0, 40):
        for len_b in range(0, 40):
            for max_tokens in (1, 5, 17, 30):
                assert packing.trim_counts(len_a, len_b, max_tokens) == \
                    _google_style_trim(len_a, len_b, max_tokens), (len_a, len_b, max_tokens)


def _layout(rng, num_docs=30):
    lengths = [[rng.randint(1, 40) for _ in range(rng.randint(1, 15))] for _ in range(num_docs)]
    flat = [n for doc in lengths for n in doc]
    starts = np.concatenate([[0], np.cumsum(flat)]).tolist()
    ends = np.cumsum([len(d) for d in lengths]).tolist()
    docs = list(zip([0] + ends[:-1], ends))
    return docs, starts


@pytest.mark.parametrize("max_seq_length", [16, 64, 128])
def test_instances_fit_and_follow_google_rules(max_seq_length):
    rng = random.Random(max_seq_length)
    docs, starts = _layout(rng)
    spans = packing.pack_documents(docs, starts, max_seq_length, 0.1, rng, dupe_factor=2)
    a_start, a_len, b_start, b_len, is_random = spans.T
    assert len(spans) > 50
    assert (a_len >= 1).all() and (b_len >= 1).all()
    assert (a_len + b_len <= max_seq_length - 3).all()
    doc_of_token = np.searchsorted([starts[d[1]] for d in docs], np.arange(starts[-1]),
                                   side="right")
    same_doc = doc_of_token[a_start] == doc_of_token[b_start]
    # Random next: another document; actual next: the same one, right after A
    # unless truncation took tokens from A's back or B's front.
    assert not same_doc[is_random == 1].any()
    assert same_doc[is_random == 0].all()
    assert (b_start[is_random == 0] >= a_start[is_random == 0] + a_len[is_random == 0]).all()
    if max_seq_length >= 64:  # Shorter targets make most chunks one (forced random) sentence.
        assert 0.3 < is_random.mean() < 0.8


def test_one_sentence_documents_always_get_a_random_next():
    docs = [(i, i + 1) for i in range(10)]
    starts = list(range(0, 11 * 5, 5))
    spans = packing.pack_documents(docs, starts, 128, 0.0, random.Random(0))
    assert len(spans) == 10 and spans[:, 4].all()


def test_seeded_packing_repeats():
    docs, starts = _layout(random.Random(3))
    first = packing.pack_documents(docs, starts, 64, 0.1, random.Random(7))
    again = packing.pack_documents(docs, starts, 64, 0.1, random.Random(7))
    np.testing.assert_array_equal(first, again)


def test_assemble_pairs_layout():
    tokens = np.arange(100, 200)
    spans = np.array([[0, 3, 50, 2, 1], [10, 1, 11, 4, 0]])
    pairs = packing.assemble_pairs(spans, tokens, 10, cls_id=2, sep_id=3, pad_id=0)
    np.testing.assert_array_equal(pairs["input_ids"][0], [2, 100, 101, 102, 3, 150, 151, 3, 0, 0])
    np.testing.assert_array_equal(pairs["segment_ids"][0], [0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(pairs["input_mask"][1], [1] * 8 + [0, 0])
    np.testing.assert_array_equal(pairs["input_ids"][1], [2, 110, 3, 111, 112, 113, 114, 3, 0, 0])
    assert pairs["candidates"].sum(axis=1).tolist() == [5, 5]
