"""Flags and entry point of `python -m bench ceiling|bert_train|...|all|profile` (bench/speed).

    python -m bench ceiling                      # float32/bf16 2048^3 matmul, memory read GB/s
    python -m bench bert_train --size=mini       # BERT pretraining step (base and/or mini)
    python -m bench gpt_train                    # GPT-2-small training step, seq 256
    python -m bench generate                     # GPT-2-small greedy, batch 1 and 8, 128 new
    python -m bench serving                      # BERT encoder SavedModel latency, batch 1/32
    python -m bench all --threads=1 --write      # everything; update bench/RESULTS.md
    python -m bench profile --model=bert --size=mini --side=ours   # op-type self times

Every run first prints /proc/pressure/cpu and the machine's ceilings at the
run's thread count (`--threads`: TensorFlow's intra/inter-op pools and
torch's threads). Within a comparison the sides run in one process,
interleaved (rotated order, `--repeats` rounds), each in every setting asked
for (`--precisions`, `--xla`); the PyTorch peer runs under `--torch_python`
as a subprocess with its own timing loop (`--no-torch` skips it). Then each
side's best setting is rebuilt and timed head to head (`--no-final` skips
it). `--write` replaces this run's blocks in bench/RESULTS.md (see
bench/speed/results.py).

Smoke runs (minutes, not figures): `--size=tiny --gpt-size=tiny --serve-size=tiny
--steps=2 --repeats=1 --new-tokens=16`. The PyTorch peer runs with
OMP_WAIT_POLICY=PASSIVE (`--torch-omp-wait`): with libgomp's default spinning, its
2 threads lost 4-8x here whenever other work shared the CPU.
"""

import os
import shlex
import sys
import types

from absl import flags

from bench import paths

FLAGS = flags.FLAGS
COMPARISONS = ("bert_train", "gpt_train", "generate", "serving")
LISTS = {  # list flag -> allowed values (None: any integer)
    "size": ("base", "mini", "tiny"), "precisions": ("float32", "mixed_bfloat16"),
    "xla": ("off", "on"), "ours_loops": ("fit", "trainer"),
    "weights": ("float32", "bfloat16", "mixed_bfloat16"), "gen_batches": None,
    "serve_batches": None}


def _define(kind, name, default, help_text, alias=True, enum_values=None):
    if kind == "enum":
        flags.DEFINE_enum(name, default, enum_values, help_text)
    else:
        getattr(flags, "DEFINE_" + kind)(name, default, help_text)
    if alias and "_" in name:  # the hyphenated spelling RESULTS.md's commands use
        flags.DEFINE_alias(name.replace("_", "-"), name)


_define("enum", "threads", "2", "threads per side: TF intra/inter-op pools, torch's threads",
        enum_values=["1", "2"])
_define("integer", "repeats", 3, "interleaved rounds per side")
_define("integer", "steps", None, "training steps per repetition (default: per size)")
_define("list", "size", ["base", "mini"], "BERT sizes for bert_train (tiny: smoke runs)")
_define("enum", "gpt_size", "small", "GPT size of gpt_train and generate (tiny: smoke runs)",
        enum_values=["small", "tiny"])
_define("enum", "serve_size", "base", "BERT size of the serving comparison",
        enum_values=["base", "mini", "tiny"])
_define("list", "precisions", ["float32", "mixed_bfloat16"], "training precisions to try")
_define("list", "xla", ["off", "on"], "XLA settings to try (off,on)")
_define("list", "ours_loops", ["fit", "trainer"],
        "our training paths: fit (train_step) and/or trainer (run_pretraining's)")
_define("integer", "gpt_batch", 8, "GPT training batch (seq 256)")
_define("list", "gen_batches", ["1", "8"], "generation batches")
_define("integer", "prompt", 32, "prompt tokens (generate)")
_define("integer", "new_tokens", 128, "new tokens (generate)")
_define("list", "serve_batches", ["1", "32"], "serving batches")
_define("integer", "calls", None, "serving calls per side per round (default 40 at batch 1, "
        "5 above)")
_define("list", "weights", None, "served precisions (generate: float32,bfloat16; serving: "
        "float32,mixed_bfloat16,bfloat16)")
_define("enum", "model", "bert", "profile: which model", enum_values=["bert", "gpt"])
_define("enum", "side", "ours", "profile: ours (fit step), trainer (tfcore Trainer), keras-hub",
        enum_values=["ours", "trainer", "keras-hub"])
_define("integer", "top", 25, "profile: rows to print")
_define("integer", "ceiling_repeats", 7, "repetitions of each ceiling measurement")
_define("bool", "no_torch", False, "skip HF PyTorch")
_define("enum", "torch_omp_wait", "passive", "OMP_WAIT_POLICY of the PyTorch peer (passive: "
        "its spinning OpenMP threads lose 4-8x on a shared 2-vCPU machine)",
        enum_values=["passive", "active", "default"])
_define("bool", "no_final", False, "skip the head-to-head rerun of each side's best setting")
_define("bool", "write", False, "update bench/RESULTS.md")
_define("string", "results", None, "file --write updates (default bench/RESULTS.md)")
paths.define_torch_python()


def _validate_lists(values):
    for name, allowed in LISTS.items():
        for v in values[name] or ():
            if allowed is not None and v not in allowed:
                return False
            if allowed is None and not v.isdigit():
                return False
    return True


flags.register_multi_flags_validator(
    list(LISTS), _validate_lists,
    message="; ".join(f"--{k}: {'/'.join(v) if v else 'integers'}" for k, v in LISTS.items()))


def settings():
    """The flags as the attribute bag the speed modules read (`args.xla` as booleans)."""
    return types.SimpleNamespace(
        threads=int(FLAGS.threads), repeats=FLAGS.repeats, steps=FLAGS.steps, size=FLAGS.size,
        gpt_size=FLAGS.gpt_size, serve_size=FLAGS.serve_size, precisions=FLAGS.precisions,
        xla=[v == "on" for v in FLAGS.xla], ours_loops=FLAGS.ours_loops,
        gpt_batch=FLAGS.gpt_batch, gen_batches=[int(v) for v in FLAGS.gen_batches],
        prompt=FLAGS.prompt, new_tokens=FLAGS.new_tokens,
        serve_batches=[int(v) for v in FLAGS.serve_batches], calls=FLAGS.calls,
        weights=FLAGS.weights, model=FLAGS.model, side=FLAGS.side, top=FLAGS.top,
        ceiling_repeats=FLAGS.ceiling_repeats, no_torch=FLAGS.no_torch,
        torch_python=FLAGS.torch_python, torch_omp_wait=FLAGS.torch_omp_wait,
        no_final=FLAGS.no_final)


def main(argv):
    """`argv[0]` is `python -m bench NAME` (bench/__main__.py); NAME picks the comparison."""
    name = argv[0].split()[-1]
    if len(argv) > 1 or name not in COMPARISONS + ("ceiling", "all", "profile"):
        raise SystemExit(f"usage: python -m bench {'|'.join(COMPARISONS)}|ceiling|all|profile "
                         f"[--flags]; got {' '.join(argv)!r}")
    args = settings()
    os.chdir(paths.REPO_ROOT)
    from bench.speed import common
    common.setup_threads(args.threads)
    from bench.speed import ceiling, peer, results
    typed = sys.argv[2:] if sys.argv[1:2] == [name] else []  # as typed after NAME
    report = results.Report(" ".join(["python -m bench", name] + [shlex.quote(a) for a in typed]))
    common.check_pressure("at start")
    if name == "profile":
        from bench.speed import op_profile
        return op_profile.run(args, report, None)
    ceilings = ceiling.run(args, report)
    todo = COMPARISONS if name == "all" else () if name == "ceiling" else (name,)
    try:
        for comparison in todo:
            module = __import__(f"bench.speed.{comparison}", fromlist=["run"])
            module.run(args, report, ceilings)
        machine = common.machine_line(peer.versions())
        print(f"\nmachine: {machine}")
        common.check_pressure("at the end")
        if FLAGS.write:
            report.write(machine, FLAGS.results or results.RESULTS)
    finally:
        peer.close()
