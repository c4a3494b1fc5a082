"""`python -m bench profile`: where one training side spends its step, from tf.profiler.

    python -m bench profile --model=bert --size=mini --side=ours --precisions=mixed_bfloat16
    python -m bench profile --model=gpt --gpt-size=small --side=keras-hub --steps=2

Builds one side of `bert_train` or `gpt_train` (the first of `--size`,
`--precisions` and `--xla`), warms it up, runs `--steps` steps under
`tf.profiler.experimental`, reads the XSpace it wrote and prints the self time
of every TensorFlow op type (summed over threads, so it can exceed the wall
time on 2 threads) with its share, plus the heaviest individual ops. Not part
of `all`; nothing is written to RESULTS.md.
"""

import glob
import os
import tempfile
import time

from bench.speed import common

SIDES = ("ours", "trainer", "keras-hub")


def _builder(args):
    from bench.speed import bert_train, data, gpt_train
    precision, xla = args.precisions[0], args.xla[0]
    if args.model == "bert":
        size = args.size[0]
        steps = args.steps or bert_train.DEFAULT_STEPS[size]
        features = data.bert_pretraining_batch(bert_train.BATCH, bert_train.SEQ,
                                               bert_train.PREDICTIONS, bert_train.VOCAB)
        entries = bert_train._entries(args, size, features, steps, precision, xla)
        title = f"BERT-{size}"
    else:
        size = args.gpt_size
        steps = args.steps or gpt_train.DEFAULT_STEPS[size]
        ids = data.token_ids(args.gpt_batch, gpt_train.SEQ + 1, gpt_train.SIZES[size]["vocab"])
        entries = gpt_train._entries(args, size, ids, steps, precision, xla)
        title = f"GPT-2-{size}"
    wanted = {"ours": ", fit step", "trainer": ", Trainer", "keras-hub": "keras-hub"}[args.side]
    entry = next(e for e in entries if wanted in e.side)
    return entry, f"{title} {entry.side} [{entry.setting}], {steps} steps"


def self_times(xspace_path):
    """`{event name: (self seconds, count)}` over the host plane's threads."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    space = xplane_pb2.XSpace()
    with open(xspace_path, "rb") as f:
        space.ParseFromString(f.read())
    totals = {}
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            events = sorted(((e.offset_ps, e.duration_ps, names.get(e.metadata_id, "?"))
                             for e in line.events), key=lambda t: (t[0], -t[1]))
            stack = []  # [end_ps, name, child_ps]
            for start, duration, name in events:
                while stack and stack[-1][0] <= start:
                    _close(stack.pop(), totals)
                if stack:
                    stack[-1][2] += duration
                stack.append([start + duration, name, 0, duration])
            while stack:
                _close(stack.pop(), totals)
    return totals


def _close(item, totals):
    _, name, child, duration = item
    seconds, count = totals.get(name, (0.0, 0))
    totals[name] = (seconds + max(duration - child, 0) / 1e12, count + 1)


def op_type(name):
    """`"model/layer_0/MatMul:MatMul"` -> `"MatMul"`; other events keep their name."""
    return name.rsplit(":", 1)[-1] if ":" in name else name


def phase_of(name):
    """Optimizer update, backward (gradient tape), loss/metrics, or forward, from an op name."""
    lowered = name.lower()
    if any(k in lowered for k in ("adam", "optimizer", "clip_by_global_norm", "global_norm")):
        return "optimizer (incl. clipping)"
    if lowered.startswith("gradient_tape/") or "/gradients/" in lowered:
        return "backward"
    if any(k in lowered for k in ("crossentropy", "cross_entropy", "argmax", "metric", "mean/",
                                  "truediv", "compile_loss")):
        return "loss + metrics"
    return "forward (and other)"


def run(args, report, ceilings):
    import tensorflow as tf
    entry, title = _builder(args)
    entry.build()
    if entry.error:
        raise SystemExit(f"could not build {title}: {entry.error}")
    entry.run()  # settle (see harness.interleave)
    logdir = tempfile.mkdtemp(prefix="bench-profile-")
    common.check_pressure("before profiling")
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    entry.run()
    wall = time.perf_counter() - start
    tf.profiler.experimental.stop()
    path = max(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True),
               key=os.path.getmtime)
    totals = self_times(path)
    # TF op events are "name:type". Of the others, Eigen's ParallelFor shards (op work
    # on helper threads) and the executor's per-node bookkeeping are work; the rest
    # (function-call events) is mostly a caller waiting for its function to finish.
    work_events = ("ParallelFor", "ExecutorState::Process")
    by_type, waits = {}, {}
    for name, (seconds, count) in totals.items():
        if ":" in name and not name.startswith("KernelAndDevice") or name in work_events:
            kind = op_type(name)
            s, c = by_type.get(kind, (0.0, 0))
            by_type[kind] = (s + seconds, c + count)
        else:
            waits[name] = seconds
    busy = sum(s for s, _ in by_type.values())
    print(f"\n== profile: {title}: wall {wall:.2f} s on {common.threads()} thread(s); op self "
          f"time over threads {busy:.2f} s (not counted, function-call events: "
          f"{sum(waits.values()):.2f} s); trace: {path} ==")
    rows = [[kind, f"{s:.3f}", f"{100 * s / busy:.1f}%", str(c)]
            for kind, (s, c) in sorted(by_type.items(), key=lambda kv: -kv[1][0])[:args.top]]
    lines = common.markdown_table(["op type", "self s", "share of op time", "count"], rows)
    ops = [(n, v) for n, v in totals.items() if ":" in n and not n.startswith("KernelAndDevice")]
    phases = {}
    for name, (seconds, _) in ops:
        phase = phase_of(name)
        phases[phase] = phases.get(phase, 0.0) + seconds
    lines += ["", "By phase (op names):", ""] + common.markdown_table(
        ["phase", "self s", "share of op time"],
        [[k, f"{v:.3f}", f"{100 * v / busy:.1f}%"] for k, v in
         sorted(phases.items(), key=lambda kv: -kv[1])])
    top = sorted(ops, key=lambda kv: -kv[1][0])[:args.top]
    lines += ["", "Heaviest ops by name:", ""] + common.markdown_table(
        ["op", "self s", "share of op time", "count"],
        [[name[:120], f"{s:.3f}", f"{100 * s / busy:.1f}%", str(c)] for name, (s, c) in top])
    print("\n".join(lines))
    entry.release()
