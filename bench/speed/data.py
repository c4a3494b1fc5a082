"""Synthetic batches (NumPy only: the PyTorch peer imports this file too).

Every side of a comparison trains on the same repeated batch, built from a
fixed seed, so no input pipeline is timed.
"""

import numpy as np

# Ids below this are special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) in a BERT vocab.
FIRST_WORD_ID = 5


def bert_pretraining_batch(batch, seq, predictions, vocab, seed=0):
    """Google's pretraining features: every row full length, `predictions` masked positions."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(FIRST_WORD_ID, vocab, (batch, seq)).astype(np.int32)
    ids[:, 0], ids[:, seq // 2], ids[:, -1] = 2, 3, 3  # [CLS] A [SEP] B [SEP]
    segments = np.zeros((batch, seq), np.int32)
    segments[:, seq // 2 + 1:] = 1
    positions = np.stack([np.sort(rng.choice(np.arange(1, seq - 1), predictions, replace=False))
                          for _ in range(batch)]).astype(np.int32)
    return {
        "input_ids": ids,
        "segment_ids": segments,
        "input_mask": np.ones((batch, seq), np.int32),
        "masked_lm_positions": positions,
        "masked_lm_ids": np.take_along_axis(ids, positions, 1).astype(np.int32),
        "masked_lm_weights": np.ones((batch, predictions), np.float32),
        "next_sentence_labels": rng.integers(0, 2, (batch, 1)).astype(np.int32),
    }


def token_ids(batch, length, vocab, seed=0):
    """Random ids `[batch, length]` in `[0, vocab - 1)` (never the end-of-text id)."""
    return np.random.default_rng(seed).integers(0, vocab - 1, (batch, length)).astype(np.int32)
