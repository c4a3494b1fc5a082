"""BERT sentence-pair packing: documents of sentences -> (A, B, is_random_next).

The algorithm is Google's (google-research/bert `create_pretraining_data.py`,
`create_instances_from_document`), restated over token offsets instead of
token lists so that an instance is four integers:

* Each document gets a target length `max_seq_length - 3` ([CLS] A [SEP] B
  [SEP]); with probability `short_seq_prob` a random one in
  `[2, max_seq_length - 3]` instead (short inputs as in fine-tuning).
* Sentences accumulate into a chunk until the target is reached or the
  document ends. A random prefix of the chunk's sentences is segment A.
* Segment B is the rest of the chunk, or, with probability 1/2 and always for
  a one-sentence chunk, sentences from a random point of another document;
  the chunk's unused sentences are then put back for the next chunk.
* The longer segment loses a token from its front or back (a fair coin)
  until the pair fits.

Differences from Google's script, by design:
* The random document comes from the current window of documents (a block of
  the input, see `create_pretraining_data --block_bytes`), not the whole
  corpus, so the corpus is never held in memory. It is uniform over the
  window's other documents (Google retries 10 times to avoid the same one);
  a window of one document draws from itself.
* Truncation draws how many of a segment's trimmed tokens come off the front
  as one Binomial(k, 1/2) (same distribution as k coin flips).

Otherwise the instances are Google's: tests/tfrecords/test_packing.py runs a
transcription of Google's loop (with our draws only where the two differences
above draw differently) on the same generator and gets the same spans. The
random-next fraction is not a constant of the algorithm: the short target is
drawn once per document, and a document drawn short yields many one-sentence
chunks, all random next. On WikiText-2's test split (62 documents,
`--dupe_factor=3`) it has a standard deviation of ~1.8 points over seeds, for
Google's script as for this module, around the same mean
(`python -m bench nsp_seeds`).

Example:

    rng = random.Random(0)
    spans = pack_documents([(0, 3), (3, 5)], starts, max_seq_length=128,
                           short_seq_prob=0.1, rng=rng)
    # spans: int64 [n, 5] rows of (a_start, a_len, b_start, b_len, is_random_next)
"""

import numpy as np

# Google's pair layout: [CLS] A [SEP] B [SEP].
NUM_SPECIAL_TOKENS = 3
# Google: "if len(current_chunk) == 1 or rng.random() < 0.5" -> random next.
RANDOM_NEXT_PROB = 0.5


def trim_counts(len_a, len_b, max_tokens):
    """Tokens Google's `truncate_seq_pair` removes from A and from B.

    It removes one token at a time from the longer segment (B on ties) until
    `len_a + len_b <= max_tokens`; this is that loop in closed form.
    """
    excess = len_a + len_b - max_tokens
    if excess <= 0:
        return 0, 0
    gap = len_a - len_b
    if gap > 0:
        if excess <= gap:
            return excess, 0
        rest = excess - gap  # Equal now; B goes first, then they alternate.
        return gap + rest // 2, (rest + 1) // 2
    if excess <= -gap:
        return 0, excess
    rest = excess + gap
    return rest // 2, -gap + (rest + 1) // 2


def _random_segment(doc, docs, starts, target_len, rng):
    """Token span [b0, b1) of whole sentences from a random other document."""
    if len(docs) > 1:
        other = rng.randrange(len(docs) - 1)
        other += other >= doc  # Uniform over the other documents.
    else:
        other = doc
    first, end = docs[other]
    sentence = rng.randrange(first, end)
    b0 = starts[sentence]
    while sentence < end:
        sentence += 1
        if starts[sentence] - b0 >= target_len:
            break
    return b0, starts[sentence]


def _emit(a0, a1, b0, b1, is_random, max_tokens, rng, out):
    """Truncates the pair (random front/back) and appends its row to `out`."""
    trim_a, trim_b = trim_counts(a1 - a0, b1 - b0, max_tokens)
    front_a = rng.getrandbits(trim_a).bit_count() if trim_a else 0
    front_b = rng.getrandbits(trim_b).bit_count() if trim_b else 0
    out.append((a0 + front_a, a1 - a0 - trim_a, b0 + front_b, b1 - b0 - trim_b, is_random))


def _pack_document(doc, docs, starts, max_tokens, short_seq_prob, rng, out):
    """Appends the instances of document `doc` to `out` (see module doc)."""
    first, end = docs[doc]
    target = max_tokens
    if rng.random() < short_seq_prob:
        target = rng.randint(2, max_tokens)
    chunk_start, i = first, first
    while i < end:
        if i == end - 1 or starts[i + 1] - starts[chunk_start] >= target:
            count = i - chunk_start + 1
            a_end = chunk_start + (rng.randint(1, count - 1) if count >= 2 else 1)
            a0, a1 = starts[chunk_start], starts[a_end]
            if count == 1 or rng.random() < RANDOM_NEXT_PROB:
                b0, b1 = _random_segment(doc, docs, starts, target - (a1 - a0), rng)
                _emit(a0, a1, b0, b1, 1, max_tokens, rng, out)
                i = a_end - 1  # The chunk's unused sentences start the next one.
            else:
                _emit(a0, a1, a1, starts[i + 1], 0, max_tokens, rng, out)
            chunk_start = i + 1
        i += 1


def pack_documents(docs, starts, max_seq_length, short_seq_prob, rng, dupe_factor=1):
    """All instances of a window of documents, `dupe_factor` times over.

    Args:
      docs: list of `(first_sentence, end_sentence)` per document; every
        sentence has at least one token.
      starts: token offset of each sentence in the flat token array, plus the
        total at the end (`len(starts) == num_sentences + 1`).
      max_seq_length: length of a record, special tokens included (>= 5).
      short_seq_prob: probability of a random shorter target per document.
      rng: `random.Random`.
      dupe_factor: passes over the documents (each with new random choices).

    Returns:
      int64 `[n, 5]`: `(a_start, a_len, b_start, b_len, is_random_next)`;
      segments index the flat token array.
    """
    max_tokens = max_seq_length - NUM_SPECIAL_TOKENS
    if max_tokens < 2:
        raise ValueError(f"max_seq_length={max_seq_length} leaves no room for two "
                         f"segments and {NUM_SPECIAL_TOKENS} special tokens")
    starts = list(starts)
    out = []
    for _ in range(dupe_factor):
        for doc in range(len(docs)):
            _pack_document(doc, docs, starts, max_tokens, short_seq_prob, rng, out)
    return np.asarray(out, np.int64).reshape(-1, 5)


def assemble_pairs(spans, tokens, max_seq_length, cls_id, sep_id, pad_id):
    """Spans -> padded `[CLS] A [SEP] B [SEP]` arrays.

    Args:
      spans: int `[n, 5]` from `pack_documents`.
      tokens: int `[num_tokens]`, the flat token array the spans index.

    Returns:
      dict of `[n, max_seq_length]` arrays: "input_ids", "input_mask",
      "segment_ids" (int32) and "candidates" (bool: the positions of A and B
      tokens, the only ones masking may choose).
    """
    a_start, a_len, b_start, b_len = (spans[:, j:j + 1].astype(np.int32) for j in range(4))
    pos = np.arange(max_seq_length, dtype=np.int32)[None, :]
    b_first = a_len + 2
    b_end = b_first + b_len
    in_b = (pos >= b_first) & (pos < b_end)
    candidates = ((pos >= 1) & (pos <= a_len)) | in_b
    source = np.where(pos < b_first, a_start - 1, b_start - b_first) + pos
    ids = np.asarray(tokens, np.int32)[np.where(candidates, source, 0)]
    ids[~candidates] = pad_id
    rows = np.arange(len(spans))
    ids[:, 0] = cls_id
    ids[rows, b_first[:, 0] - 1] = sep_id
    ids[rows, b_end[:, 0]] = sep_id
    input_mask = pos <= b_end
    return {"input_ids": ids, "input_mask": input_mask.astype(np.int32),
            "segment_ids": (input_mask & (pos >= b_first)).astype(np.int32),
            "candidates": candidates}
