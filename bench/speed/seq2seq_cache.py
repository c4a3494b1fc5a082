"""Seq2SeqModel: cached greedy `generate` against an uncached greedy loop, batch 8 and 1.

    python -m bench seq2seq_cache [--new_tokens=64 --repeats=5 --run=RUN_FOLDER]
    python -m bench seq2seq_cache --new_tokens=8 --repeats=1          # smoke

The run's model size (`--run`'s seq2seq_config.json; by default d_model
256, 3+3 layers, 4 heads, FFN 1024, vocab 8000), random weights (std
d^-0.5, as run_translation.py initialises), float32, random sources of
`--source_length` ids. Cached: `model.generate(..., num_beams=1)` (one
compiled loop: the source encoded and projected once, one token per step
against fixed-size self-attention caches). Uncached: the source encoded
once, then per new token one compiled `model.decode(prefix, encoded,
mask)` over the whole prefix (start token + tokens so far), logits of the
last position only. Both suppress the pad and the eos ids, so every row
gets exactly `--new_tokens` tokens, and both must give the same tokens
(asserted). Each round times the two one after the other, the first
alternating; reported: the median of the per-round ratios uncached / cached
(issue #18 asks >= 5x at 64 new tokens), each side's tokens/s, the matmul
ceiling, the CPU pressure before and after.
"""

import inspect
import json
import os
import time

from absl import flags
import numpy as np

from bench.speed import ceiling, common

FLAGS = flags.FLAGS
TARGET_RATIO = 5.0


def define_flags():
    """This benchmark's flags (python -m bench calls it before parsing)."""
    if "source_length" in FLAGS:
        return
    flags.DEFINE_string("run", None, "A run_translation.py folder whose model size to use.")
    flags.DEFINE_integer("new_tokens", 64, "Tokens generated per row.")
    flags.DEFINE_integer("source_length", 24, "Source ids per row.")
    flags.DEFINE_list("batch_sizes", ["8", "1"], "Batch sizes, each measured on its own.")
    flags.DEFINE_integer("repeats", 5, "Timed rounds per batch size (cached + uncached each).")
    flags.DEFINE_integer("threads", 2, "TensorFlow threads.")
    flags.DEFINE_integer("seed", 1, "Weights and sources seed.")
    flags.DEFINE_bool("jit_compile", False, "Pass jit_compile=True to generate (when it has it).")


def model_config():
    from tfseq2seq.config import Seq2SeqConfig
    fields = dict(vocab_size=8000, hidden_size=256, num_hidden_layers=3, num_decoder_layers=3,
                  num_attention_heads=4, intermediate_size=1024)
    if FLAGS.run:
        with open(os.path.join(FLAGS.run, "seq2seq_config.json"), encoding="utf-8") as f:
            values = json.load(f)
        values.pop("initializer_range", None)
        fields = values
    fields.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                  initializer_range=fields["hidden_size"] ** -0.5)
    return Seq2SeqConfig(**fields)


def uncached_greedy(model, banned):
    """`fn(source [b, S], new) -> ids [b, new]`: the whole prefix decoded again per token."""
    import tensorflow as tf
    c = model.config
    encode = tf.function(lambda ids: model.encode(ids, training=False),
                         input_signature=[tf.TensorSpec([None, None], tf.int32)])
    vocab = c.output_vocab_size
    penalty = tf.constant(np.where(np.isin(np.arange(vocab), banned), -np.inf, 0.0), tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32),
                                  tf.TensorSpec([None, None, c.hidden_size], tf.float32),
                                  tf.TensorSpec([None, None], tf.int32)])
    def next_token(prefix, encoded, mask):
        logits = model.decode(prefix, encoded, mask, training=False)[:, -1]
        return tf.argmax(tf.cast(logits, tf.float32) + penalty, -1, output_type=tf.int32)

    def run(source, new):
        encoded, mask = encode(source)
        prefix = tf.fill([tf.shape(source)[0], 1], c.decoder_start_token_id)
        for _ in range(new):
            prefix = tf.concat([prefix, next_token(prefix, encoded, mask)[:, None]], axis=1)
        return prefix[:, 1:].numpy()

    return run


def main(argv):
    del argv
    common.setup_threads(FLAGS.threads)
    import keras
    import tensorflow as tf
    from tfseq2seq import generation
    from tfseq2seq.model import Seq2SeqModel
    common.check_pressure("before")
    ceilings = ceiling.measure(with_bandwidth=False, repeats=5)
    keras.utils.set_random_seed(FLAGS.seed)
    config = model_config()
    model = Seq2SeqModel(config)
    banned = (config.pad_token_id, config.eos_token_id)
    new = FLAGS.new_tokens
    rng = np.random.default_rng(FLAGS.seed)
    uncached = uncached_greedy(model, banned)

    options = {}
    if FLAGS.jit_compile:
        if "jit_compile" not in inspect.signature(generation.generate).parameters:
            raise SystemExit("--jit_compile: tfseq2seq.generation.generate has no jit_compile "
                             "argument (yet)")
        options["jit_compile"] = True

    def cached(source):
        return model.generate(source, max_new_tokens=new, suppress_token_ids=banned,
                              **options).numpy()

    rows = []
    for batch in [int(b) for b in FLAGS.batch_sizes]:
        source = tf.constant(rng.integers(3, config.vocab_size, (batch, FLAGS.source_length)),
                             tf.int32)
        reference, tokens = uncached(source, new), cached(source)  # traces, and the check
        if not np.array_equal(tokens, reference):
            same = int(np.sum(np.all(tokens == reference, axis=1)))
            raise SystemExit(f"batch {batch}: cached and uncached tokens differ ({same}/{batch} "
                             f"rows equal); first rows: {tokens[0][:16]} vs {reference[0][:16]}")
        print(f"\n== batch {batch}, source {FLAGS.source_length} ids, {new} new tokens: "
              "cached and uncached tokens identical ==", flush=True)
        times = {"cached": [], "uncached": []}
        ratios = []
        for r in range(FLAGS.repeats):
            figures = {}
            for side in (("cached", "uncached") if r % 2 == 0 else ("uncached", "cached")):
                started = time.perf_counter()
                cached(source) if side == "cached" else uncached(source, new)
                figures[side] = time.perf_counter() - started
                times[side].append(figures[side])
            ratios.append(figures["uncached"] / figures["cached"])
            print(f"  round {r + 1}/{FLAGS.repeats}: cached {figures['cached']:.3f} s, uncached "
                  f"{figures['uncached']:.3f} s, ratio {ratios[-1]:.2f}x", flush=True)
        ratio = float(np.median(ratios))
        rows.append([str(batch), f"{batch * new / np.median(times['cached']):,.0f}",
                     f"{batch * new / np.median(times['uncached']):,.0f}",
                     f"{ratio:.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f})",
                     "yes" if ratio >= TARGET_RATIO else "NO"])
    common.check_pressure("after")
    header = ["batch", "cached tok/s (median)", "uncached tok/s (median)",
              "speed-up (median of per-round ratios)", f">= {TARGET_RATIO:g}x"]
    lines = [ceiling.describe(ceilings), "",
             f"Model: d_model {config.hidden_size}, {config.num_hidden_layers}+"
             f"{config.num_decoder_layers} layers, {config.num_attention_heads} heads, FFN "
             f"{config.intermediate_size}, vocab {config.vocab_size}; greedy, {new} new tokens "
             f"(pad and eos suppressed), source {FLAGS.source_length} ids, {FLAGS.repeats} "
             f"alternating round(s), {FLAGS.threads} thread(s), cached jit_compile "
             f"{FLAGS.jit_compile}; tokens identical.", ""]
    lines += common.markdown_table(header, rows)
    print("\n### seq2seq_cache: cached generate vs an uncached decode loop\n\n" + "\n".join(lines),
          flush=True)
