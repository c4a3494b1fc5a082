"""Token-by-token decoding for streaming output (the CLI), with the same KV cache.

`stream(lm, prompt_ids, ...)` yields each new token id as soon as it is
chosen. It runs one compiled prefill and one compiled step function per
token (instead of one compiled loop), and draws with the same per-position
seeds as `tfgpt.decoding.generate`, so with the same seed it yields the
tokens `generate` returns for that prompt alone.

Example:

    for token in stream(lm, [464, 3290], max_new_tokens=20, sampler="top_k", seed=1):
        sys.stdout.buffer.write(tokenizer.token_bytes_of(token)); sys.stdout.flush()
"""

import random

import tensorflow as tf

from tfcore.samplers import get_sampler


def stream(lm, prompt_ids, max_new_tokens=32, sampler="greedy", temperature=1.0, seed=None,
           end_token_id=None, **sampler_kwargs):
    """Yields up to `max_new_tokens` int token ids continuing one prompt (a list of ids).

    Stops after `end_token_id` (which is yielded). Raises ValueError if the
    prompt is empty or prompt + max_new_tokens exceeds max_position_embeddings.
    """
    prompt_ids = [int(i) for i in prompt_ids]
    window = lm.config.max_position_embeddings
    if not prompt_ids:
        raise ValueError("the prompt is empty: generation continues at least one token.")
    total = len(prompt_ids) + max_new_tokens
    if total > window:
        raise ValueError(f"prompt length {len(prompt_ids)} + max_new_tokens {max_new_tokens} "
                         f"= {total} exceeds max_position_embeddings {window}.")
    sampler = get_sampler(sampler, **sampler_kwargs)
    seed = random.SystemRandom().randrange(2 ** 31) if seed is None else seed

    @tf.function
    def prefill(ids, caches):
        hidden, caches = lm.gpt.call_with_cache(ids, caches, 0)
        return tf.cast(lm.next_token_logits(hidden[:, -1]), tf.float32), caches

    @tf.function
    def step(token, caches, index):
        hidden, caches = lm.gpt.call_with_cache(token[None, None], caches, index)
        return tf.cast(lm.next_token_logits(hidden[:, 0]), tf.float32), caches

    @tf.function
    def choose(logits, position):
        return sampler(logits, tf.stack([tf.constant(seed, tf.int32), position]),
                       tf.constant(temperature, tf.float32))[0]

    logits, caches = prefill(tf.constant([prompt_ids], tf.int32), lm.gpt.empty_cache(1, total))
    for position in range(len(prompt_ids), total):
        token = choose(logits, tf.constant(position, tf.int32))
        yield int(token)
        if end_token_id is not None and int(token) == end_token_id:
            return
        if position + 1 < total:
            logits, caches = step(token, caches, tf.constant(position, tf.int32))
