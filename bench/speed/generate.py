"""Greedy generation, GPT-2-small size: batch 1 and 8, prompt 32, 128 new tokens.

- ours: `tfgpt.decoding.generate(lm, prompt, max_new_tokens=128, jit_compile=...)`
  on `GPTLanguageModel(config, dtype=float32|bfloat16)`;
- keras-hub: `GPT2CausalLM(GPT2Backbone(dtype=...), preprocessor=None)`,
  `compile(sampler="greedy", jit_compile=...)`, `generate` on token-id dicts
  (prompt + 128 padding columns, `stop_token_ids=None`);
- HF PyTorch: `GPT2LMHeadModel.generate(do_sample=False, min_new_tokens=max_new_tokens=128)`,
  float32 or bf16 weights.

No end token: every row makes all its tokens; tokens/s = batch x 128 / seconds
(prefill included). Decoding at batch 1 streams every weight once per token, so
beside each result: the bytes of the weights as served (layers + the tied
LM-head table, at the weights' precision) and the tokens/s ceiling that the
measured memory read bandwidth allows (batch x bandwidth / bytes). Then the same
for the bytes the decode loop actually reads: XLA on CPU has no bf16
matrix-vector kernel, so it converts bf16 weights to float32 once, before its
while loop (OperandUpcaster and loop-invariant code motion; the loop's tuple holds
`f32[768,768]` kernels in the optimized HLO, `XLA_FLAGS=--xla_dump_to=DIR
--xla_dump_hlo_as_text`), and every XLA setting streams float32 weights.
"""

import time

import numpy as np

from bench.speed import common, harness, peer
from bench.speed.gpt_train import MAX_POSITIONS, SIZES, gpt_config, keras_hub_lm

BYTES = {"float32": 4, "bfloat16": 2}


def served_params(size):
    """Weights read per decoded token: blocks, final LayerNorm, LM-head (token) table."""
    s = SIZES[size]
    return (s["layers"] * common.layer_params(s["hidden"], 4 * s["hidden"]) + 2 * s["hidden"]
            + s["vocab"] * s["hidden"])


def _timed(fn):
    def run():
        start = time.perf_counter()
        np.asarray(fn())
        return [time.perf_counter() - start]
    return run


def _ours(size, weights, xla, prompt, new):
    def build():
        import keras
        from tfgpt import GPTLanguageModel
        from tfgpt.decoding import generate
        keras.utils.set_random_seed(0)
        lm = GPTLanguageModel(gpt_config(size, dropout=0.0), dtype=weights)
        fn = lambda: generate(lm, prompt, max_new_tokens=new, jit_compile=xla)  # noqa: E731
        out = np.asarray(fn())  # trace / compile
        assert out.shape == (prompt.shape[0], prompt.shape[1] + new), out.shape
        return _timed(fn), None
    return build


def _keras_hub(size, weights, xla, prompt, new):
    def build():
        import keras
        keras.utils.set_random_seed(0)
        lm = keras_hub_lm(size, weights, dropout=0.0)
        lm.compile(sampler="greedy", jit_compile=xla)
        batch, width = prompt.shape
        inputs = {"token_ids": np.concatenate([prompt, np.zeros((batch, new), np.int32)], 1),
                  "padding_mask": np.arange(width + new)[None].repeat(batch, 0) < width}
        fn = lambda: lm.generate(inputs, stop_token_ids=None)["token_ids"]  # noqa: E731
        fn()
        return _timed(fn), None
    return build


def _groups(args, size, batch):
    from bench.speed import data
    s = SIZES[size]
    prompt = data.token_ids(batch, args.prompt, s["vocab"], seed=batch)
    new = args.new_tokens
    work = batch * new
    groups = []
    for xla in args.xla:
        for weights in args.weights or ("float32", "bfloat16"):
            if weights not in BYTES:
                continue
            label = weights + " weights" + (" + XLA" if xla else "")
            meta = {"weights": weights, "streamed": "float32" if xla else weights}
            entries = [
                harness.Entry("ours", "ours tfgpt generate", label,
                              _ours(size, weights, xla, prompt, new), work, **meta),
                harness.Entry("keras-hub", "keras-hub GPT2CausalLM.generate", label,
                              _keras_hub(size, weights, xla, prompt, new), work, **meta)]
            if not xla and not args.no_torch:
                spec = {"model": dict(s, max_positions=MAX_POSITIONS), "precision": weights}
                run_cmd = {"batch": batch, "prompt": args.prompt, "new": new}
                entries.append(harness.Entry(
                    "HF PyTorch", "HF PyTorch generate", weights + " weights",
                    peer.builder(args, "generate", spec, run_cmd, run_cmd, warmup_repeats=2), work,
                    **meta))
            groups.append((label, entries))
    return groups


def run(args, report, ceilings):
    size = args.gpt_size
    bandwidth = ceilings["read_gbps"] * 1e9
    params = served_params(size)

    def ceiling_rate(entry, batch, bytes_of="weights"):
        return batch * bandwidth / (params * BYTES[entry.meta[bytes_of]])

    for batch in args.gen_batches:
        groups = _groups(args, size, batch)
        title = f"GPT-2-{size} generation, batch {batch}"
        entries, finals = harness.compare(groups, args.repeats, title, final=not args.no_final)
        extras = [
            ("weights MB", lambda e, r: f"{params * BYTES[e.meta['weights']] / 1e6:,.0f}"),
            ("bandwidth ceiling tok/s", lambda e, r, b=batch: common.fmt(ceiling_rate(e, b))),
            ("% of ceiling", lambda e, r, b=batch: f"{100 * r / ceiling_rate(e, b):.0f}%"),
            ("weights as read", lambda e, r: e.meta["streamed"]),
            ("% of ceiling for the bytes read",
             lambda e, r, b=batch: f"{100 * r / ceiling_rate(e, b, 'streamed'):.0f}%")]
        lines = [f"prompt {args.prompt}, {args.new_tokens} new tokens, greedy, no end token, "
                 f"batch {batch}; {args.repeats} repetitions per side, interleaved. Memory read "
                 f"{ceilings['read_gbps']:.1f} GB/s; weights read per step: "
                 f"{params / 1e6:.1f}M parameters (blocks + LM-head table) -> batch-{batch} "
                 f"ceiling {batch * bandwidth / (params * 4):.0f} tok/s with float32 weights, "
                 f"{batch * bandwidth / (params * 2):.0f} with bf16 weights.", ""]
        lines += harness.throughput_lines(entries, finals, extras)
        report.block(f"generate:{size}:b{batch}", f"GPT-2-{size} generation, batch {batch}", lines)
