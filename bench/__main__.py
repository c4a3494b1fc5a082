"""`python -m bench <subcommand>`: ours vs keras-hub vs Hugging Face PyTorch, side by side.

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
for (`--precisions`, `--xla`); the PyTorch peer runs in /work/refvenv as a
subprocess with its own timing loop (`--no-torch` skips it). Then each side's
best setting is rebuilt and timed head to head (`--no-final` skips it).
`--write` replaces this run's blocks in bench/RESULTS.md between
`<!-- perf:begin -->` and `<!-- perf:end -->`.

Smoke runs (minutes, not figures): `--size=tiny --gpt-size=tiny --serve-size=tiny
--steps=2 --repeats=1 --new-tokens=16`. The PyTorch peer runs with
OMP_WAIT_POLICY=PASSIVE (`--torch-omp-wait`): with libgomp's default spinning, its
2 threads lost 4-8x here whenever other work shared the CPU.
"""

import argparse
import os
import shlex
import sys

SUBCOMMANDS = ("ceiling", "bert_train", "gpt_train", "generate", "serving", "all", "profile")


def _list(kind=str, choices=None):
    def parse(text):
        values = [kind(v) for v in text.split(",") if v.strip()]
        for v in values:
            if choices and v not in choices:
                raise argparse.ArgumentTypeError(f"{v!r} is not one of {', '.join(choices)}")
        return values
    return parse


def _xla(text):
    return [{"off": False, "on": True}[v] for v in _list(choices=("off", "on"))(text)]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("subcommand", choices=SUBCOMMANDS)
    p.add_argument("--threads", type=int, default=2, choices=(1, 2),
                   help="threads per side: TF intra/inter-op pools, torch.set_num_threads")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds per side")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps per repetition (default: per size, see bench/perf)")
    p.add_argument("--size", type=_list(choices=("base", "mini", "tiny")), default=["base", "mini"],
                   help="BERT sizes for bert_train (comma list; tiny is for smoke runs)")
    p.add_argument("--gpt_size", "--gpt-size", choices=("small", "tiny"), default="small",
                   help="GPT size for gpt_train and generate (tiny is for smoke runs)")
    p.add_argument("--serve_size", "--serve-size", choices=("base", "mini", "tiny"),
                   default="base", help="BERT size of the serving comparison")
    p.add_argument("--precisions", type=_list(choices=("float32", "mixed_bfloat16")),
                   default=["float32", "mixed_bfloat16"], help="training precisions to try")
    p.add_argument("--xla", type=_xla, default=[False, True], help="off,on: XLA settings to try")
    p.add_argument("--ours_loops", "--ours-loops", type=_list(choices=("fit", "trainer")),
                   default=["fit", "trainer"],
                   help="our training paths: fit (train_step) and/or trainer (run_pretraining's)")
    p.add_argument("--gpt_batch", "--gpt-batch", type=int, default=8,
                   help="GPT training batch (seq 256)")
    p.add_argument("--gen_batches", "--gen-batches", type=_list(int), default=[1, 8])
    p.add_argument("--prompt", type=int, default=32, help="prompt tokens (generate)")
    p.add_argument("--new_tokens", "--new-tokens", type=int, default=128)
    p.add_argument("--serve_batches", "--serve-batches", type=_list(int), default=[1, 32])
    p.add_argument("--calls", type=int, default=None,
                   help="serving calls per side per round (default: 40 at batch 1, 5 above)")
    p.add_argument("--weights", type=_list(choices=("float32", "bfloat16", "mixed_bfloat16")),
                   default=None, help="served precisions (generate: float32,bfloat16; serving: "
                   "float32,mixed_bfloat16,bfloat16)")
    p.add_argument("--model", choices=("bert", "gpt"), default="bert", help="profile: which model")
    p.add_argument("--side", choices=("ours", "trainer", "keras-hub"), default="ours",
                   help="profile: ours (fit step), trainer (ours under tfcore Trainer), keras-hub")
    p.add_argument("--top", type=int, default=25, help="profile: rows to print")
    p.add_argument("--ceiling_repeats", "--ceiling-repeats", type=int, default=7)
    p.add_argument("--no_torch", "--no-torch", action="store_true", help="skip HF PyTorch")
    p.add_argument("--torch_omp_wait", "--torch-omp-wait", default="passive",
                   choices=("passive", "active", "default"),
                   help="OMP_WAIT_POLICY of the PyTorch peer (default passive: its spinning "
                   "OpenMP threads lose 4-8x on this shared 2-vCPU machine at 2 threads)")
    p.add_argument("--no_final", "--no-final", action="store_true",
                   help="skip the head-to-head rerun of each side's best setting")
    p.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    p.add_argument("--results", default=None, help="file --write updates (default bench/RESULTS.md)")
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.perf import common
    common.setup_threads(args.threads)
    from bench.perf import ceiling, peer, results
    report = results.Report("python -m bench " + " ".join(shlex.quote(a) for a in argv))
    common.check_pressure("at start")
    if args.subcommand == "profile":
        from bench.perf import op_profile as profile
        return profile.run(args, report, None)
    ceilings = ceiling.run(args, report)
    todo = (("bert_train", "gpt_train", "generate", "serving") if args.subcommand == "all"
            else () if args.subcommand == "ceiling" else (args.subcommand,))
    try:
        for name in todo:
            module = __import__(f"bench.perf.{name}", fromlist=["run"])
            module.run(args, report, ceilings)
        machine = common.machine_line(peer.versions())
        print(f"\nmachine: {machine}")
        common.check_pressure("at the end")
        if args.write:
            report.write(machine, args.results or results.RESULTS)
    finally:
        peer.close()


if __name__ == "__main__":
    main()
