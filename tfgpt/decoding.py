"""Cached, compiled decoding: `generate(model, token_ids, max_new_tokens=...)`.

Prompts of different lengths are right-padded (a `padding_mask`, or a
`tf.RaggedTensor`). The output buffer is `[batch, P + N]` for padded prompt
width P and N = `max_new_tokens`, and one fixed-size KV cache per block is
two float32 `[batch * heads, P + N, head_size]` (keys, values), updated in place at each step
(`dynamic_update_slice`). After a prefill of the P prompt columns, step p
runs the model on column p - 1 and fills column p for every row: a row
whose prompt is longer than p keeps its own token (its cache entry is
rewritten with the same values), the others get the sampler's choice. So
each row continues from its own end, at its own positions, with the same
result as decoding it alone. A row stops after N new tokens or after
`end_token_id` (which is kept); later columns hold `pad_token_id`. The loop
stops early when every row has stopped.

Prefill and loop are ONE `tf.function`, XLA-compiled when `jit_compile` is True
(the default: the faster one measured here, see `DEFAULT_JIT_COMPILE`).

Too long: P + N > max_position_embeddings raises a ValueError naming the
sizes (the SavedModel in `tfgpt.export` left-truncates prompts instead).

Example:

    ids = lm.generate(tf.ragged.constant([[464, 3290], [40, 588, 257]]),
                      max_new_tokens=20, sampler="top_k", temperature=0.7, seed=1)
    # int32 [2, 3 + 20]: prompt, 20 new tokens (fewer after an end token), padding
"""

import random
import weakref

import keras
import numpy as np
import tensorflow as tf

from tfcore.samplers import get_sampler

# Whether XLA compiles the decode loop by default: 1.6x (batch 1) and 1.3x (batch 8)
# the plain graph's speed for GPT-2 small in float32 on the 2-vCPU machine
# (`python -m bench generate_cache`, bench/RESULTS.md). XLA compiles once per prompt
# width and max_new_tokens; the plain graph traces once for all of them.
DEFAULT_JIT_COMPILE = True
# end_token_id that never matches (no end token).
NO_END_TOKEN = -1

_DECODERS = weakref.WeakKeyDictionary()


def decode_loop(lm, prompt, lengths, max_new_tokens, sampler, temperature, seed,
                end_token_id, pad_token_id):
    """The graph of prefill + decode loop (call it inside a `tf.function`).

    Args:
      lm: a GPTLanguageModel. prompt: int32 `[b, P]` right-padded with pad ids.
      lengths: int32 `[b]`, each >= 1. max_new_tokens: int or int32 scalar N.
      sampler: from `tfcore.samplers.get_sampler`. temperature: float scalar.
      seed: int32 scalar. end_token_id, pad_token_id: int32 scalars.
    Returns:
      `(token_ids int32 [b, P + N], new_lengths int32 [b])`.
    """
    batch, width = tf.shape(prompt)[0], tf.shape(prompt)[1]
    total = width + max_new_tokens
    tokens = tf.concat([prompt, tf.fill([batch, max_new_tokens], pad_token_id)], axis=1)
    caches = lm.gpt.empty_cache(batch, total)
    _, caches = lm.gpt.call_with_cache(prompt, caches, 0)
    done = tf.fill([batch], max_new_tokens <= 0)
    counts = tf.zeros([batch], tf.int32)

    def cond(step, tokens, caches, done, counts):
        return tf.logical_and(step < total, tf.logical_not(tf.reduce_all(done)))

    def body(step, tokens, caches, done, counts):
        # tf.slice with a static size, not tokens[:, step - 1:step] (whose length is
        # unknown to the graph): under XLA that version gave wrong logits in this
        # loop (tests/tfgpt: cached XLA == uncached).
        previous = tf.slice(tokens, [0, step - 1], [-1, 1])
        hidden, caches = lm.gpt.call_with_cache(previous, caches, step - 1)
        logits = tf.cast(lm.next_token_logits(hidden[:, 0]), tf.float32)
        chosen = sampler(logits, tf.stack([seed, step]), temperature)
        in_prompt = step < lengths
        generating = tf.logical_and(tf.logical_not(in_prompt), tf.logical_not(done))
        new = tf.where(generating, chosen, pad_token_id)
        token = tf.where(in_prompt, tf.slice(tokens, [0, step], [-1, 1])[:, 0], new)
        tokens = keras.ops.slice_update(tokens, [0, step], token[:, None])
        counts += tf.cast(generating, tf.int32)
        finished = tf.logical_or(tf.equal(chosen, end_token_id), counts >= max_new_tokens)
        done = tf.logical_or(done, tf.logical_and(generating, finished))
        return step + 1, tokens, caches, done, counts

    start = tf.reduce_min(lengths)
    _, tokens, _, _, counts = tf.while_loop(
        cond, body, (start, tokens, caches, done, counts))
    return tokens, counts


def _decoder(lm, sampler, jit_compile):
    """The compiled decode function of (model, sampler, jit), built once."""
    per_model = _DECODERS.setdefault(lm, {})
    key = (sampler.cache_key(), bool(jit_compile))
    if key not in per_model:
        model = weakref.ref(lm)  # a strong reference would keep `lm` alive forever

        def run(prompt, lengths, max_new_tokens, temperature, seed, end_token_id, pad_id):
            return decode_loop(model(), prompt, lengths, max_new_tokens, sampler, temperature,
                               seed, end_token_id, pad_id)
        if jit_compile:  # XLA needs static shapes: one compilation per (shape, N).
            function = tf.function(run, jit_compile=True)
        else:  # One trace for every batch, width and N.
            scalar = lambda dtype: tf.TensorSpec([], dtype)
            function = tf.function(run, input_signature=[
                tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                scalar(tf.int32), scalar(tf.float32), scalar(tf.int32), scalar(tf.int32),
                scalar(tf.int32)])
        per_model[key] = (function, sampler)
    return per_model[key][0]


def normalize_prompts(token_ids, padding_mask=None, pad_token_id=0):
    """Ragged or padded prompts -> `(int32 [b, P] right-padded with pad ids, int32 [b] lengths)`.

    A `padding_mask` must be 1 on a prefix of each row (right padding).
    """
    if isinstance(token_ids, tf.RaggedTensor):
        lengths = tf.cast(token_ids.row_lengths(), tf.int32)
        return tf.cast(token_ids.to_tensor(default_value=pad_token_id), tf.int32), lengths
    ids = tf.cast(tf.convert_to_tensor(token_ids), tf.int32)
    if ids.shape.rank == 1:
        ids = ids[None]
        padding_mask = None if padding_mask is None else tf.reshape(padding_mask, [1, -1])
    if ids.shape.rank != 2:
        raise ValueError(f"token_ids must be [batch, length] (or [length]), got {ids.shape}.")
    if padding_mask is None:
        return ids, tf.fill([tf.shape(ids)[0]], tf.shape(ids)[1])
    mask = tf.cast(tf.cast(padding_mask, tf.bool), tf.int32)
    lengths = tf.reduce_sum(mask, axis=1)
    prefix = tf.sequence_mask(lengths, tf.shape(ids)[1], dtype=tf.int32)
    tf.debugging.assert_equal(mask, prefix, message="padding_mask must be right padding: "
                              "1 for each prompt's tokens, then 0")
    return tf.where(prefix > 0, ids, pad_token_id), lengths


def _check_sizes(lengths, width, max_new_tokens, window):
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}.")
    if width is not None and width + max_new_tokens > window:
        raise ValueError(f"prompt length {width} + max_new_tokens {max_new_tokens} = "
                         f"{width + max_new_tokens} exceeds max_position_embeddings {window}.")
    if tf.executing_eagerly():
        empty = np.flatnonzero(lengths.numpy() <= 0)
        if lengths.shape[0] == 0 or empty.size:
            raise ValueError(f"prompt(s) {empty.tolist() or '(none given)'} are empty: "
                             "generation continues at least one token (e.g. the end-of-text id).")
        return
    tf.debugging.assert_positive(lengths, message="a prompt is empty")
    if width is None:
        tf.debugging.assert_less_equal(
            tf.reduce_max(lengths) + max_new_tokens, window,
            message=f"prompt length + max_new_tokens exceeds max_position_embeddings {window}")


def generate(lm, token_ids, max_new_tokens=32, sampler="greedy", temperature=1.0, seed=None,
             padding_mask=None, end_token_id=None, jit_compile=None, return_lengths=False,
             **sampler_kwargs):
    """Continues each prompt by up to `max_new_tokens` tokens with a KV cache.

    Args:
      lm: a `GPTLanguageModel`.
      token_ids: int `[batch, P]` right-padded (with `padding_mask`), `[P]`, or a
        `tf.RaggedTensor` `[batch, (length)]`; every prompt has >= 1 token.
      max_new_tokens: int N >= 0; P + N must not exceed max_position_embeddings.
      sampler: "greedy", "random" (= "temperature"), "top_k", "top_p", a
        `tfcore.samplers` object or a keras-hub sampler object; `k=`/`p=` go
        to named samplers.
      temperature: softmax temperature of the random samplers (<= 0: greedy).
      seed: int for reproducible sampling (None: a fresh random seed).
      padding_mask: `[batch, P]`, 1 for prompt tokens (a prefix of each row).
      end_token_id: stop a row after this id (kept in the output); None: never.
      jit_compile: XLA-compile the loop (None: `DEFAULT_JIT_COMPILE`).
      return_lengths: also return int32 `[batch]` counts of new tokens.
    Returns:
      int32 `[batch, P + N]`: each prompt, its new tokens, then `pad_token_id`.
    """
    config = lm.config
    prompt, lengths = normalize_prompts(token_ids, padding_mask, config.pad_token_id)
    _check_sizes(lengths, prompt.shape[1], int(max_new_tokens), config.max_position_embeddings)
    sampler = get_sampler(sampler, **sampler_kwargs)
    if seed is None:
        seed = random.SystemRandom().randrange(2 ** 31)
    jit_compile = DEFAULT_JIT_COMPILE if jit_compile is None else bool(jit_compile)
    decoder = _decoder(lm, sampler, jit_compile)
    new = int(max_new_tokens) if jit_compile else tf.constant(int(max_new_tokens), tf.int32)
    tokens, counts = decoder(
        prompt, lengths, new, tf.constant(temperature, tf.float32),
        tf.constant(seed, tf.int32),
        tf.constant(NO_END_TOKEN if end_token_id is None else end_token_id, tf.int32),
        tf.constant(config.pad_token_id, tf.int32))
    return (tokens, counts) if return_lengths else tokens
