"""Cached generation against an uncached greedy loop, GPT-2-small shapes, batch 1.

    python -m bench generate_cache [--new_tokens=256 --repeats=3]

GPT-2-small (12 layers, 768 hidden, 12 heads, vocab 50257), random weights,
float32, prompt 32 tokens, greedy, no end token. tfgpt's cached `generate`
(XLA and plain graph) against an uncached loop: one compiled full forward
over the whole sequence per new token, logits of the last position only
(which favours the baseline). Both must give the same tokens. Prints the
machine's ceilings (`python -m bench ceiling`'s) and the CPU pressure before
and after. Side-by-side throughput against keras-hub and PyTorch is
`python -m bench generate`.
"""

import time

from absl import flags
import numpy as np

from bench.speed import ceiling, common

flags.DEFINE_integer("new_tokens", 256, "Tokens to generate.")
flags.DEFINE_integer("repeats", 3, "Timed runs of each cached setting (median).")
flags.DEFINE_integer("prompt", 32, "Prompt tokens.")
FLAGS = flags.FLAGS
GPT2_VOCAB = 50257


def _timed(fn, repeats=1):
    """(median seconds, last result) over `repeats` calls, each fetched to NumPy."""
    results = []
    times = common.time_calls(lambda: results.append(np.asarray(fn())), repeats)
    return float(np.median(times)), results[-1]


def uncached_greedy(lm, prompt, new):
    """A full forward pass over the whole sequence per new token."""
    import tensorflow as tf
    forward = tf.function(
        lambda ids: tf.argmax(lm.next_token_logits(lm.gpt({"token_ids": ids})[:, -1]), -1,
                              output_type=tf.int32),
        input_signature=[tf.TensorSpec([None, None], tf.int32)])
    ids = tf.constant(prompt, tf.int32)
    for _ in range(new):
        ids = tf.concat([ids, forward(ids)[:, None]], axis=1)
    return ids.numpy()


def main(argv):
    del argv
    common.setup_threads(2)
    import keras
    from tfgpt import GPTConfig, GPTLanguageModel
    from tfgpt.decoding import generate
    common.check_pressure("before")
    ceiling.measure()
    keras.utils.set_random_seed(0)
    lm = GPTLanguageModel(GPTConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                                    embedding_dropout_prob=0.0))
    new = FLAGS.new_tokens
    prompt = np.random.default_rng(1).integers(0, GPT2_VOCAB, (1, FLAGS.prompt)).astype(np.int32)
    print(f"\n== cached vs uncached, batch 1, prompt {FLAGS.prompt}, {new} new tokens ==")
    results = {}
    for jit in (False, True):
        generate(lm, prompt, max_new_tokens=new, jit_compile=jit)  # trace / compile
        results[jit] = _timed(lambda: generate(lm, prompt, max_new_tokens=new, jit_compile=jit),
                              FLAGS.repeats)
    uncached_greedy(lm, prompt, 2)  # trace
    start = time.perf_counter()
    reference = uncached_greedy(lm, prompt, new)
    seconds = time.perf_counter() - start
    for jit, (cached_s, tokens) in results.items():
        print(f"cached (jit_compile={jit}): {cached_s:.2f} s, {new / cached_s:.1f} tok/s; "
              f"uncached: {seconds:.1f} s; speed-up {seconds / cached_s:.1f}x; "
              f"token-for-token identical: {np.array_equal(tokens, reference)}")
    common.check_pressure("after")
