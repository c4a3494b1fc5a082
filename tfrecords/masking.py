"""Masked-LM choices for a batch of packed sequences, vectorized with NumPy.

Google's rule (`create_masked_lm_predictions`), per sequence: predict
`min(max_predictions_per_seq, max(1, round(n * masked_lm_prob)))` tokens
chosen in random order; each chosen token becomes `[MASK]` 80% of the time, a
random token 10%, itself 10%.

Corrected here, by design:
* `n` counts the real tokens only: `[CLS]`, `[SEP]` and padding are never
  counted nor chosen (Google counts the special tokens in `n`). Rounding is
  half up (Python 3's `round` rounds half to even).
* Whole-word masking draws the 80/10/10 outcome once per word and applies it
  to all of the word's pieces (Google draws per piece, so a word could come
  out half `[MASK]`, half kept); a word never spans a `[SEP]` (Google appends
  a leading `##` piece of segment B to the last word of A).
* Random replacements are ordinary vocabulary tokens (`random_ids`), never
  `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]`, `[UNK]` or `[unused..]` entries.
* `masked_lm_prob == 0` predicts nothing (Google forces one per sequence):
  unmasked records for dynamic masking in the reader.

Example:

    out = mask_tokens(ids, candidates, rng, mask_id=103, random_ids=ids_pool,
                      masked_lm_prob=0.15, max_predictions_per_seq=20)
    out["input_ids"], out["masked_lm_positions"], out["masked_lm_weights"]
"""

import numpy as np

# Google's 80% [MASK] / 10% kept / 10% random split.
MASK_PROB = 0.8
KEEP_PROB = 0.1
# Sort key of positions that are not word starts: after every real key in [0, 1).
_NOT_A_START = 2.0


def num_to_predict(num_real, masked_lm_prob, max_predictions_per_seq):
    """Predictions per sequence: `min(max, max(1, round_half_up(n * p)))`, 0 if p == 0."""
    if masked_lm_prob <= 0:
        return np.zeros_like(num_real)
    wanted = np.floor(num_real * masked_lm_prob + 0.5).astype(np.int64)
    return np.minimum(max_predictions_per_seq, np.maximum(1, wanted))


def word_starts(ids, candidates, is_continuation):
    """True where a candidate token begins a word (not a `##` piece after one)."""
    follows = np.zeros_like(candidates)
    follows[:, 1:] = candidates[:, :-1]  # The previous token is in the same segment.
    return candidates & ~(is_continuation[ids] & follows)


def _sorted_slots(chosen_positions, valid, length):
    """Chosen positions in random order -> sorted, invalid ones last as `length`."""
    return np.sort(np.where(valid, chosen_positions, length), axis=1)


def _choose_tokens(candidates, budget, width, rng):
    """Single-token masking: `budget` candidates a row in random order.

    Returns int32 `[n, width]` sorted positions, `length` marking empty slots.
    """
    n, length = candidates.shape
    keys = rng.random((n, length), dtype=np.float32)
    keys[~candidates] = _NOT_A_START
    order = np.argsort(keys, axis=1)[:, :width].astype(np.int32)
    if order.shape[1] < width:
        order = np.pad(order, ((0, 0), (0, width - order.shape[1])))
    slot = np.arange(width)[None, :]
    valid = (slot < budget[:, None]) & (slot < candidates.sum(axis=1)[:, None])
    return _sorted_slots(order, valid, length)


def _choose_whole_words(ids, candidates, is_continuation, budget, width, rng):
    """Google's greedy whole-word choice: words in random order while they fit.

    Returns `(positions, start_of)`: int32 `[n, width]` sorted positions
    (`length` marks empty slots) and int `[n, length]`, each position's word start.
    """
    n, length = ids.shape
    starts = word_starts(ids, candidates, is_continuation)
    pos = np.arange(length)[None, :]
    start_of = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    flat_start = (np.arange(n)[:, None] * length + start_of)[candidates]
    word_len = np.bincount(flat_start, minlength=n * length).reshape(n, length)
    keys = np.where(starts, rng.random((n, length)), _NOT_A_START)
    order = np.argsort(keys, axis=1, kind="stable")
    lengths = np.take_along_axis(word_len, order, axis=1)
    chosen_sorted = np.zeros((n, length), bool)
    used = np.zeros(n, np.int64)
    for rank in range(int(starts.sum(axis=1).max(initial=0))):
        fits = (lengths[:, rank] > 0) & (used + lengths[:, rank] <= budget)
        used += np.where(fits, lengths[:, rank], 0)
        chosen_sorted[:, rank] = fits
    chosen_start = np.zeros((n, length), bool)
    np.put_along_axis(chosen_start, order, chosen_sorted, axis=1)
    chosen = candidates & np.take_along_axis(chosen_start, start_of, axis=1)
    keys = np.where(chosen, pos, length)
    positions = np.sort(keys, axis=1)[:, :width].astype(np.int32)
    if positions.shape[1] < width:
        positions = np.pad(positions, ((0, 0), (0, width - positions.shape[1])),
                           constant_values=length)
    return positions, start_of


def mask_tokens(ids, candidates, rng, mask_id, random_ids, masked_lm_prob,
                max_predictions_per_seq, is_continuation=None):
    """Chooses and applies the masked-LM predictions of `n` sequences.

    Args:
      ids: int `[n, L]` token ids.
      candidates: bool `[n, L]`, the real (non-special, non-pad) tokens.
      rng: `numpy.random.Generator`.
      mask_id: id of `[MASK]`.
      random_ids: int array of the ids random replacements are drawn from.
      masked_lm_prob, max_predictions_per_seq: Google's flags.
      is_continuation: bool `[vocab_size]` (True for `##` pieces) for
        whole-word masking; None masks single tokens.

    Returns:
      dict: "input_ids" `[n, L]` (masked), "masked_lm_positions",
      "masked_lm_ids" int32 `[n, P]` (sorted, zero padded),
      "masked_lm_weights" float32 `[n, P]`, and "outcome" int8 `[n, P]`
      (0 empty slot, 1 `[MASK]`, 2 kept, 3 random) for statistics.
    """
    n, length = ids.shape
    width = max_predictions_per_seq
    budget = num_to_predict(candidates.sum(axis=1), masked_lm_prob, width)
    if is_continuation is None:
        positions = _choose_tokens(candidates, budget, width, rng)
        draw = rng.random((n, width))
    else:
        positions, start_of = _choose_whole_words(ids, candidates, is_continuation,
                                                  budget, width, rng)
        # One draw per word, at its start, shared by its pieces.
        word_draw = rng.random((n, length))
        draw = np.take_along_axis(word_draw, np.take_along_axis(
            start_of, np.minimum(positions, length - 1), axis=1), axis=1)
    real = positions < length
    positions = np.where(real, positions, 0)
    labels = np.where(real, np.take_along_axis(ids, positions, axis=1), 0)
    outcome = np.where(draw < MASK_PROB, 1, np.where(draw < MASK_PROB + KEEP_PROB, 2, 3))
    outcome = np.where(real, outcome, 0).astype(np.int8)
    replacement = np.asarray(random_ids)[rng.integers(0, len(random_ids), (n, width))]
    new_ids = np.where(outcome == 1, mask_id, np.where(outcome == 3, replacement, labels))
    masked = ids.copy()
    rows = np.nonzero(real)
    masked[rows[0], positions[rows]] = new_ids[rows]
    return {"input_ids": masked, "masked_lm_positions": positions,
            "masked_lm_ids": labels, "masked_lm_weights": real.astype(np.float32),
            "outcome": outcome}
