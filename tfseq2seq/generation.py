"""Cached decoding of a Seq2SeqModel: greedy, sampling and beam search in one compiled loop.

The source is encoded once and each decoder block's cross-attention keys and
values are projected once (`Seq2SeqStack.project_source`); the decoder then
runs one token per step against fixed-size self-attention caches (float32
`[rows * heads, N, head_size]`, updated in place), as `tfgpt.decoding` does.

Beam search follows Hugging Face `generate`'s (transformers 5) rules, so the
same model gives the same tokens: at each step the 2k best continuations of
all beams (accumulated log-probabilities), the best k of them that did not
just end become the running beams, and those among the first k that ended
(with `eos_token_id`, or at the length limit) compete for the k finished
slots with score / generated_length ** length_penalty (generated length
counts the end token). With `early_stopping=False` a row stops when its best
running beam, normalised by its current length, cannot beat its worst
finished one; `True` stops once k hypotheses are finished.

Logit rules applied to every step's log-probabilities: `suppress_token_ids`
never generated (default: the pad id, the decoder start); with
`force_eos_at_max_length` the last allowed step must be `eos_token_id`
(Marian's `forced_eos_token_id`).

Example:

    ids = model.generate(source_ids, max_new_tokens=64, num_beams=4, length_penalty=1.0)
    # int32 [batch, <= 64]: each row's tokens up to and including its end token, then pad
"""

import keras
import tensorflow as tf

from tfcore.samplers import get_sampler

NEG_INF = -1e9  # Hugging Face's mask value for scores (finite: arithmetic stays exact)
# XLA by default: cached greedy decoding of 64 tokens is 10x (batch 8) and 15x (batch 1)
# a loop recomputing the prefix, against 3.1x / 2.1x in the plain graph (d 256, 3 + 3
# layers; `python -m bench seq2seq_cache`, bench/RESULTS.md). XLA compiles once per
# (batch, source length, max_new_tokens): callers decoding many shapes once each
# (run_translation's evaluation, the SavedModel) use the plain graph.
DEFAULT_JIT_COMPILE = True


def _banned(suppress, vocab):
    """bool `[vocab]`: the ids of `suppress` (built once, before the decode loop), or None."""
    if suppress is None:
        return None
    return tf.reduce_any(tf.equal(tf.range(vocab)[:, None], suppress[None, :]), axis=1)


def _processed(log_probs, step, max_new_tokens, banned, force_eos, eos_id):
    """Applies the logit rules to `[rows, vocab]` log-probabilities at output position `step`."""
    vocab = tf.shape(log_probs)[-1]
    if banned is not None:
        log_probs = tf.where(banned[None], -float("inf"), log_probs)
    if force_eos:
        only_eos = tf.where(tf.equal(tf.range(vocab), eos_id), 0.0, -float("inf"))
        last = tf.equal(step, max_new_tokens - 1)
        log_probs = tf.where(last, tf.broadcast_to(only_eos, tf.shape(log_probs)), log_probs)
    return log_probs


def _step_logits(model, token, caches, step, source_caches, source_mask):
    """One decoder step: `token [rows]` at position `step` -> `(float32 logits [rows, V], caches)`."""
    embedded = model.target_embedding(token[:, None])
    hidden, caches = model.decoder.call_with_cache(embedded, caches, step, source_caches,
                                                   source_mask)
    return tf.cast(model.output_logits(hidden[:, 0]), tf.float32), caches


def _encode(model, source_ids, copies):
    """Encodes once; each row repeated `copies` times (beams): `(source caches, mask)`."""
    encoded, mask = model.encode(source_ids, training=False)
    if copies > 1:
        encoded, mask = tf.repeat(encoded, copies, axis=0), tf.repeat(mask, copies, axis=0)
    return model.decoder.project_source(encoded), mask


def sample_loop(model, source_ids, max_new_tokens, sampler, temperature, seed, suppress,
                force_eos):
    """Greedy or sampled decoding: `source_ids [b, S]` -> `(ids [b, N], lengths [b])`."""
    c = model.config
    batch = tf.shape(source_ids)[0]
    source_caches, mask = _encode(model, source_ids, 1)
    caches = model.decoder.empty_cache(batch, max_new_tokens)
    tokens = tf.fill([batch, max_new_tokens], c.pad_token_id)
    banned = _banned(suppress, c.output_vocab_size)

    def body(step, previous, tokens, caches, done, lengths):
        logits, caches = _step_logits(model, previous, caches, step, source_caches, mask)
        logits = _processed(logits, step, max_new_tokens, banned, force_eos, c.eos_token_id)
        chosen = sampler(logits, tf.stack([seed, step]), temperature)
        chosen = tf.where(done, c.pad_token_id, chosen)
        tokens = keras.ops.slice_update(tokens, [0, step], chosen[:, None])
        lengths += tf.cast(tf.logical_not(done), tf.int32)
        done = tf.logical_or(done, tf.equal(chosen, c.eos_token_id))
        return step + 1, chosen, tokens, caches, done, lengths

    def cond(step, previous, tokens, caches, done, lengths):
        return tf.logical_and(step < max_new_tokens, tf.logical_not(tf.reduce_all(done)))

    start = tf.fill([batch], c.decoder_start_token_id)
    _, _, tokens, _, _, lengths = tf.while_loop(
        cond, body, (0, start, tokens, caches, tf.zeros([batch], tf.bool),
                     tf.zeros([batch], tf.int32)))
    return tokens, lengths


def _gather_beams(values, indices):
    """`values [b, k2, ...]`, `indices [b, k]` -> `[b, k, ...]`."""
    return tf.gather(values, indices, batch_dims=1)


def _reorder_caches(caches, rows, heads):
    """Caches of `[rows * heads, L, d]` with rows reordered by `rows [R]` (flat beam indices)."""
    def reorder(cache):
        shape = tf.shape(cache)
        grouped = tf.reshape(cache, [-1, heads, shape[1], shape[2]])
        return tf.reshape(tf.gather(grouped, rows), shape)
    return tuple(tuple(reorder(part) for part in pair) for pair in caches)


def beam_search_loop(model, source_ids, max_new_tokens, num_beams, length_penalty,
                     early_stopping, suppress, force_eos):
    """Beam search (see the module doc): `source_ids [b, S]` -> `(ids [b, N], lengths [b], scores [b])`."""
    c = model.config
    k, n = num_beams, max_new_tokens
    batch = tf.shape(source_ids)[0]
    source_caches, mask = _encode(model, source_ids, k)
    caches = model.decoder.empty_cache(batch * k, n)
    heads = c.num_attention_heads
    # Hypotheses hold the generated tokens only (the start token is implicit).
    running = tf.fill([batch, k, n], c.pad_token_id)
    running_scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], NEG_INF)], 0)[None], [batch, 1])
    finished = tf.fill([batch, k, n], c.pad_token_id)
    finished_scores = tf.fill([batch, k], NEG_INF)
    finished_flags = tf.zeros([batch, k], tf.bool)
    improvable = tf.ones([batch, 1], tf.bool)
    first_k = tf.concat([tf.ones([k], tf.bool), tf.zeros([k], tf.bool)], 0)
    length_penalty = tf.cast(length_penalty, tf.float32)
    batch_offset = tf.range(batch)[:, None] * k
    banned = _banned(suppress, c.output_vocab_size)

    def body(step, previous, running, running_scores, finished, finished_scores,
             finished_flags, improvable, caches, all_ended):
        logits, caches = _step_logits(model, previous, caches, step, source_caches, mask)
        log_probs = _processed(tf.nn.log_softmax(logits), step, n, banned, force_eos,
                               c.eos_token_id)
        vocab = tf.shape(log_probs)[-1]
        scores = tf.reshape(log_probs, [batch, k, vocab]) + running_scores[:, :, None]
        top_scores, top_index = tf.math.top_k(tf.reshape(scores, [batch, k * vocab]), 2 * k)
        top_beam, top_token = top_index // vocab, top_index % vocab
        top_sequences = _gather_beams(running, top_beam)                       # [b, 2k, n]
        top_sequences = keras.ops.slice_update(
            top_sequences, [0, 0, step], top_token[:, :, None])
        ended = tf.logical_or(tf.equal(top_token, c.eos_token_id), step + 1 >= n)
        # Running beams: the best k continuations that did not end.
        alive_scores = top_scores + tf.cast(ended, tf.float32) * NEG_INF
        _, keep = tf.math.top_k(alive_scores, k)
        running = _gather_beams(top_sequences, keep)
        running_scores = _gather_beams(alive_scores, keep)
        source_beam = _gather_beams(top_beam, keep)
        # Finished hypotheses: those of the first k that ended, by normalised score.
        just_ended = tf.logical_and(ended, first_k[None])
        generated = tf.cast(step + 1, tf.float32)
        normalised = top_scores / generated ** length_penalty
        full = tf.logical_and(tf.reduce_all(finished_flags, axis=1, keepdims=True),
                              early_stopping)
        normalised += tf.cast(full, tf.float32) * NEG_INF
        normalised += tf.cast(tf.logical_not(improvable), tf.float32) * NEG_INF
        normalised += tf.cast(tf.logical_not(just_ended), tf.float32) * NEG_INF
        merged_scores = tf.concat([finished_scores, normalised], axis=1)
        _, best = tf.math.top_k(merged_scores, k)
        finished = _gather_beams(tf.concat([finished, top_sequences], axis=1), best)
        finished_scores = _gather_beams(merged_scores, best)
        finished_flags = _gather_beams(tf.concat([finished_flags, just_ended], axis=1), best)
        caches = _reorder_caches(caches, tf.reshape(source_beam + batch_offset, [-1]), heads)
        previous = tf.reshape(tf.gather(running, step, axis=2), [-1])
        # Can a running beam still beat the worst finished one? (early_stopping=False)
        best_running = running_scores[:, :1] / generated ** length_penalty
        worst = tf.where(finished_flags,
                         tf.reduce_min(finished_scores, axis=1, keepdims=True), NEG_INF)
        improvable = tf.logical_and(improvable, tf.reduce_any(best_running > worst, axis=1,
                                                              keepdims=True))
        return (step + 1, previous, running, running_scores, finished, finished_scores,
                finished_flags, improvable, caches, tf.reduce_all(ended))

    def cond(step, previous, running, running_scores, finished, finished_scores,
             finished_flags, improvable, caches, all_ended):
        done_early = tf.logical_and(tf.reduce_all(finished_flags), early_stopping)
        return tf.logical_and(
            step < n, tf.logical_and(tf.reduce_any(improvable),
                                     tf.logical_not(tf.logical_or(done_early, all_ended))))

    start = tf.fill([batch * k], c.decoder_start_token_id)
    state = tf.while_loop(cond, body, (
        0, start, running, running_scores, finished, finished_scores, finished_flags,
        improvable, caches, tf.constant(False)))
    finished, finished_scores = state[4][:, 0], state[5][:, 0]
    lengths = tf.reduce_sum(tf.cast(tf.not_equal(finished, c.pad_token_id), tf.int32), axis=1)
    return finished, lengths, finished_scores


def _as_ids(source_ids, pad_id):
    if isinstance(source_ids, tf.RaggedTensor):
        return tf.cast(source_ids.to_tensor(default_value=pad_id), tf.int32)
    ids = tf.cast(tf.convert_to_tensor(source_ids), tf.int32)
    if ids.shape.rank == 1:
        ids = ids[None]
    if ids.shape.rank != 2:
        raise ValueError(f"source_ids must be [batch, length] (or [length]), got {ids.shape}.")
    return ids


def generate(model, source_ids, max_new_tokens=64, num_beams=1, length_penalty=1.0,
             early_stopping=False, sampler="greedy", temperature=1.0, seed=0,
             suppress_token_ids=None, force_eos_at_max_length=False, return_scores=False,
             jit_compile=DEFAULT_JIT_COMPILE, **sampler_kwargs):
    """Decodes `source_ids [b, S]` (pad-padded or ragged) into at most `max_new_tokens` ids per row.

    Returns int32 `[b, L]`, L <= max_new_tokens the longest row: each row's
    tokens up to and including its end token, then `pad_token_id` (no start
    token). `num_beams > 1` runs beam search (`sampler` ignored);
    `return_scores` adds the beam's normalised log-probability `[b]`.
    `suppress_token_ids` default: `(pad_token_id,)`. `jit_compile`: XLA
    (default, see DEFAULT_JIT_COMPILE) compiles the loop once per (batch,
    source length, max_new_tokens); False: the plain graph, traced once for all.
    """
    c = model.config
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}.")
    if num_beams < 1:
        raise ValueError(f"num_beams must be >= 1, got {num_beams}.")
    ids = _as_ids(source_ids, c.pad_token_id)
    suppress = (c.pad_token_id,) if suppress_token_ids is None else tuple(suppress_token_ids)
    suppress = tf.constant(suppress, tf.int32) if suppress else None
    if num_beams > 1:
        function = _compiled(model, ("beam", num_beams, float(length_penalty),
                                     bool(early_stopping), bool(force_eos_at_max_length),
                                     None if suppress is None else tuple(suppress.numpy())),
                             lambda ids, n: beam_search_loop(
                                 model, ids, n, num_beams, length_penalty, early_stopping,
                                 suppress, force_eos_at_max_length), jit_compile=jit_compile)
        tokens, lengths, scores = function(ids, _length(max_new_tokens, jit_compile))
    else:
        chosen = get_sampler(sampler, **sampler_kwargs)
        function = _compiled(model, ("sample", chosen.cache_key(), bool(force_eos_at_max_length),
                                     None if suppress is None else tuple(suppress.numpy())),
                             lambda ids, n, t, s: sample_loop(
                                 model, ids, n, chosen, t, s, suppress,
                                 force_eos_at_max_length), extra=2, jit_compile=jit_compile)
        tokens, lengths = function(ids, _length(max_new_tokens, jit_compile),
                                   tf.constant(temperature, tf.float32),
                                   tf.constant(seed, tf.int32))
        scores = None
    width = tf.reduce_max(tf.concat([lengths, [0]], 0))
    tokens = tokens[:, :width]
    return (tokens, scores) if return_scores and scores is not None else tokens


def _length(max_new_tokens, jit_compile):
    """N as the loop takes it: a Python int for XLA (shapes are compile-time constants)."""
    return int(max_new_tokens) if jit_compile else tf.constant(max_new_tokens)


def _compiled(model, key, run, extra=0, jit_compile=False):
    """One `tf.function` per (model, decoding options): the plain graph for any batch,
    length and N; with `jit_compile`, XLA (one compilation per shape and N)."""
    functions = model.__dict__.setdefault("_decoders", {})
    key = key + (bool(jit_compile),)
    if key not in functions:
        if jit_compile:
            functions[key] = tf.function(run, jit_compile=True)
        else:
            specs = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32)]
            specs += [tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32)][:extra]
            functions[key] = tf.function(run, input_signature=specs)
    return functions[key]
