"""Sentence-pair packing: Google's loops (chunks, put-back, truncation) and invariants."""

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


def _google_document_loop(documents, index, max_seq_length, short_seq_prob, rng, out):
    """google-research/bert `create_instances_from_document`, restated on token lists.

    A token is its offset in the flat token array, so the instances compare with
    `pack_documents`' spans. The chunk loop (targets, `a_end`, the forced random
    next of one-sentence chunks, `i -= num_unused_segments`) is Google's, draw
    for draw. Where our documented deviations draw differently, the draws are
    ours: the random document (uniform over the others, not 10 tries over all),
    and truncation's front/back coins (one Binomial per segment).
    """
    document = documents[index]
    max_num_tokens = max_seq_length - 3
    target_seq_length = max_num_tokens
    if rng.random() < short_seq_prob:
        target_seq_length = rng.randint(2, max_num_tokens)
    current_chunk, current_length, i = [], 0, 0
    while i < len(document):
        segment = document[i]
        current_chunk.append(segment)
        current_length += len(segment)
        if i == len(document) - 1 or current_length >= target_seq_length:
            if current_chunk:
                a_end = 1
                if len(current_chunk) >= 2:
                    a_end = rng.randint(1, len(current_chunk) - 1)
                tokens_a = [t for s in current_chunk[:a_end] for t in s]
                tokens_b = []
                if len(current_chunk) == 1 or rng.random() < 0.5:
                    is_random_next = 1
                    target_b_length = target_seq_length - len(tokens_a)
                    other = rng.randrange(len(documents) - 1)
                    random_document = documents[other + (other >= index)]
                    random_start = rng.randrange(len(random_document))
                    for j in range(random_start, len(random_document)):
                        tokens_b.extend(random_document[j])
                        if len(tokens_b) >= target_b_length:
                            break
                    num_unused_segments = len(current_chunk) - a_end
                    i -= num_unused_segments
                else:
                    is_random_next = 0
                    tokens_b = [t for s in current_chunk[a_end:] for t in s]
                trim_a, trim_b = _google_style_trim(len(tokens_a), len(tokens_b),
                                                    max_num_tokens)
                front_a = rng.getrandbits(trim_a).bit_count() if trim_a else 0
                front_b = rng.getrandbits(trim_b).bit_count() if trim_b else 0
                out.append((tokens_a[front_a], len(tokens_a) - trim_a, tokens_b[front_b],
                            len(tokens_b) - trim_b, is_random_next))
            current_chunk, current_length = [], 0
        i += 1


@pytest.mark.parametrize("seed", range(6))
def test_instances_are_those_of_googles_loop(seed):
    rng = random.Random(seed)
    docs, starts = _layout(rng, num_docs=12)
    docs.append((docs[-1][1], docs[-1][1] + 1))  # A one-sentence document.
    starts.append(starts[-1] + 300)  # ... longer than any target.
    documents = [[list(range(starts[k], starts[k + 1])) for k in range(first, end)]
                 for first, end in docs]
    for max_seq_length, short_seq_prob in [(128, 0.1), (32, 0.5), (16, 1.0)]:
        expected = []
        reference_rng = random.Random(seed)
        for _ in range(3):
            for index in range(len(documents)):
                _google_document_loop(documents, index, max_seq_length, short_seq_prob,
                                      reference_rng, expected)
        spans = packing.pack_documents(docs, starts, max_seq_length, short_seq_prob,
                                       random.Random(seed), dupe_factor=3)
        assert spans.tolist() == [list(e) for e in expected]


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
