"""GPT-2-small generation speed: cached vs uncached, and tfgpt vs keras-hub side by side.

    /work/venv/bin/python bench/gpt_generation_speed.py [--part all|cache|throughput] [--reps 3]

GPT-2-small shapes (12 layers, 768 hidden, 12 heads, vocab 50257), random weights,
float32, prompt 32 tokens, greedy, no end token (every row makes all its tokens).

- cache: batch 1, 256 new tokens. tfgpt's cached `generate` against an uncached greedy
  loop (one compiled full forward over the whole sequence per new token, logits of the
  last position only); both must give the same tokens. Target: >= 5x faster.
- throughput: 128 new tokens at batch 1 and 8: tfgpt `generate` (XLA and not) and
  keras-hub `GPT2CausalLM.generate` built from `GPT2Backbone` with the SAME weights
  (their greedy outputs are compared too), interleaved A B C A B C in one process;
  medians (and bests) of --reps runs after one warm-up each. Targets: >= 1.2x
  keras-hub at batch 1, >= 1.5x at batch 8. An extra row runs tfgpt with bfloat16
  weights (`GPTLanguageModel(config, dtype="bfloat16")`), outside the comparison.

Prints the machine's float32 / bf16 matmul ceilings (2048^3 in TF) and memory read
bandwidth, and /proc/pressure/cpu before and after (the machine is shared).
"""

import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tfgpt import GPTConfig, GPTLanguageModel  # noqa: E402
from tfgpt.generation import generate  # noqa: E402

PROMPT = 32


def pressure():
    try:
        with open("/proc/pressure/cpu") as f:
            return f.readline().strip()
    except OSError:
        return "n/a"


def timed(fn, reps=1):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        np.asarray(result)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def machine_ceilings():
    """float32 and bf16 2048^3 matmul GFLOP/s and memory read GB/s (medians)."""
    out = {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.cast(tf.random.normal([2048, 2048]), dtype)
        mm = tf.function(lambda x: tf.matmul(x, x))
        mm(a).numpy()
        seconds, _ = timed(lambda: mm(a), reps=7)
        out[dtype.name] = 2 * 2048 ** 3 / seconds / 1e9
    big = tf.Variable(tf.ones([256 * 1024 * 1024 // 4 * 4], tf.float32))  # 1 GiB
    total = tf.function(lambda: tf.reduce_sum(big))
    total()
    seconds, _ = timed(total, reps=7)
    out["read_gbps"] = big.shape[0] * 4 / seconds / 1e9
    return out


def gpt2_small():
    import keras
    keras.utils.set_random_seed(0)
    config = GPTConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                       embedding_dropout_prob=0.0)
    return GPTLanguageModel(config)


def uncached_greedy(lm, prompt, new):
    """No cache: a full forward pass over the whole sequence per new token (only the
    last position's logits are computed, which favours this baseline)."""
    forward = tf.function(
        lambda ids: tf.argmax(lm.next_token_logits(lm.gpt({"token_ids": ids})[:, -1]), -1,
                              output_type=tf.int32),
        input_signature=[tf.TensorSpec([None, None], tf.int32)])
    ids = tf.constant(prompt, tf.int32)
    for _ in range(new):
        ids = tf.concat([ids, forward(ids)[:, None]], axis=1)
    return ids.numpy()


def part_cache(lm, new=256):
    prompt = np.random.default_rng(1).integers(0, 50257, (1, PROMPT)).astype(np.int32)
    print(f"\n== cached vs uncached, batch 1, prompt {PROMPT}, {new} new tokens ==")
    for jit in (False, True):
        generate(lm, prompt, max_new_tokens=new, jit_compile=jit)  # trace/compile
    results = {}
    for jit in (False, True):
        results[jit] = timed(lambda: generate(lm, prompt, max_new_tokens=new, jit_compile=jit),
                             reps=3)
    uncached_greedy(lm, prompt, 2)  # trace
    seconds, reference = timed(lambda: uncached_greedy(lm, prompt, new))
    for jit, (cached_s, tokens) in results.items():
        same = np.array_equal(np.asarray(tokens), reference)
        print(f"cached (jit_compile={jit}): {cached_s:.2f} s, {new / cached_s:.1f} tok/s; "
              f"uncached: {seconds:.1f} s; speed-up {seconds / cached_s:.1f}x; "
              f"token-for-token identical: {same}")


def bf16_copy(lm):
    """The same model with bfloat16 weights (an extra row: not part of the comparison)."""
    copy = GPTLanguageModel(lm.config, dtype="bfloat16")
    for ours, theirs in zip(copy.weights, lm.weights):
        ours.assign(tf.cast(theirs, ours.dtype))
    return copy


def part_throughput(lm, reps, new=128):
    from tests.tfgpt.test_model import keras_hub_with_weights_of
    ref = keras_hub_with_weights_of(lm)
    ref.compile(sampler="greedy")
    lm_bf16 = bf16_copy(lm)
    for batch in (1, 8):
        prompt = np.random.default_rng(batch).integers(0, 50257, (batch, PROMPT)).astype(np.int32)
        padded = np.concatenate([prompt, np.zeros((batch, new), np.int32)], 1)
        mask = np.arange(PROMPT + new)[None].repeat(batch, 0) < PROMPT
        runners = {
            "keras-hub GPT2CausalLM.generate": lambda: ref.generate(
                {"token_ids": padded, "padding_mask": mask}, stop_token_ids=None)["token_ids"],
            "tfgpt generate (jit_compile=False)": lambda: generate(
                lm, prompt, max_new_tokens=new, jit_compile=False),
            "tfgpt generate (jit_compile=True)": lambda: generate(
                lm, prompt, max_new_tokens=new, jit_compile=True),
            "extra: tfgpt, bfloat16 weights": lambda: generate(
                lm_bf16, prompt, max_new_tokens=new, jit_compile=False),
        }
        times = {name: [] for name in runners}
        outputs = {name: np.asarray(fn()) for name, fn in runners.items()}  # warm-up
        for _ in range(reps):
            for name, fn in runners.items():
                times[name].append(timed(fn)[0])
        print(f"\n== batch {batch}, prompt {PROMPT}, {new} new tokens, median of {reps} "
              f"(runs: s) ==")
        base = np.median(times["keras-hub GPT2CausalLM.generate"])
        best_base = np.min(times["keras-hub GPT2CausalLM.generate"])
        for name, values in times.items():
            median, best = float(np.median(values)), float(np.min(values))
            print(f"{name:38s} median {batch * new / median:6.1f} tok/s {base / median:4.2f}x | "
                  f"best {batch * new / best:6.1f} tok/s {best_base / best:4.2f}x  "
                  f"{[round(v, 2) for v in values]}")
        ours = outputs["tfgpt generate (jit_compile=False)"]
        same = np.array_equal(ours, outputs["keras-hub GPT2CausalLM.generate"])
        print(f"greedy tokens identical to keras-hub's: {same}; XLA == no XLA: "
              f"{np.array_equal(ours, outputs['tfgpt generate (jit_compile=True)'])}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", default="all", choices=["all", "cache", "throughput"])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"cpu pressure before: {pressure()}")
    ceilings = machine_ceilings()
    print(f"machine: float32 matmul {ceilings['float32']:.0f} GFLOP/s, bf16 matmul "
          f"{ceilings['bfloat16']:.0f} GFLOP/s (2048^3), memory read {ceilings['read_gbps']:.1f} "
          f"GB/s; GPT-2 small float32 weights 0.50 GB -> batch-1 decode ceiling "
          f"{ceilings['read_gbps'] / 0.498:.0f} tok/s")
    lm = gpt2_small()
    if args.part in ("all", "throughput"):
        part_throughput(lm, args.reps)
    if args.part in ("all", "cache"):
        part_cache(lm)
    print(f"\ncpu pressure after: {pressure()}")


if __name__ == "__main__":
    main()
