"""Builders of timed training sides, shared by `bert_train` and `gpt_train`.

- `fit_builder`: a compiled Keras model trained with `train_on_batch` (the
  `train_step` that `model.fit` runs; one repeated batch, no input pipeline),
  for ours (`BertPretrainer`, `GPTLanguageModel`) and keras-hub alike.
- `trainer_builder`: ours through `tfcore.training.Trainer`, as
  run_pretraining.py runs it (global-norm clipping at 1.0, warmup + linear
  decay, `steps_per_execution` = the timed steps, so one call per repetition).
- `settings_groups`: one group per (precision, XLA) setting; the PyTorch peer
  joins the groups without XLA (float32, or autocast bf16 for mixed_bfloat16).
"""

import time

from bench.speed import common, harness, peer

PRECISIONS = ("float32", "mixed_bfloat16")
LEARNING_RATE = 1e-4


def setting_label(precision, xla):
    return precision + (" + XLA" if xla else "")


def fit_builder(make_model, x, y=None, sample_weight=None, steps=1, xla=False,
                make_optimizer=None):
    """Builds `make_model()`, compiles it with AdamW, warms up; `run` times `steps` steps."""

    def build():
        import keras
        keras.utils.set_random_seed(0)
        model = make_model()
        optimizer = make_optimizer() if make_optimizer else keras.optimizers.AdamW(
            LEARNING_RATE, weight_decay=0.01, epsilon=1e-6)
        model.compile(optimizer=optimizer, jit_compile=xla)
        for _ in range(2):  # trace (and XLA-compile), then one more
            model.train_on_batch(x, y, sample_weight)

        def run():
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y, sample_weight)  # returns numpy: synchronous
            return [time.perf_counter() - start]

        return run, None

    return build


def trainer_builder(make_model, task, features, steps=1, xla=False):
    """Ours under `tfcore.training.Trainer` (run_pretraining.py's loop), `steps` per call."""

    def build():
        import keras
        import tensorflow as tf
        from tfcore.experiment import make_optimizer
        from tfcore.training import Trainer
        keras.utils.set_random_seed(0)
        model = make_model()
        optimizer, _ = make_optimizer("adamw", LEARNING_RATE, num_train_steps=100000,
                                      num_warmup_steps=1000)
        trainer = Trainer(model, optimizer, task, clip_norm=1.0, steps_per_execution=steps,
                          jit_compile=xla)
        optimizer.build(model.trainable_variables)
        dataset = tf.data.Dataset.from_tensors(features).repeat()
        iterator = iter(trainer.distribute(lambda context: dataset))
        # Trainer.fit would also checkpoint; the bench times its train function alone.
        train_function = trainer._make_train_function()
        count = tf.constant(steps)
        float(train_function(iterator, count)["loss"])  # trace (and XLA-compile)

        def run():
            start = time.perf_counter()
            float(train_function(iterator, count)["loss"])
            return [time.perf_counter() - start]

        return run, None

    return build


def settings_groups(args, make_entries, torch_entry):
    """`[(title, entries)]`, one per (precision, XLA) setting asked for.

    `make_entries(precision, xla)` -> TensorFlow entries; `torch_entry(precision)`
    -> the PyTorch entry (or None), added to the groups without XLA.
    """
    groups = []
    for xla in args.xla:
        for precision in args.precisions:
            entries = make_entries(precision, xla)
            if not xla and not args.no_torch:
                entry = torch_entry(precision)
                if entry is not None:
                    entries.append(entry)
            groups.append((setting_label(precision, xla), entries))
    return groups


def compare_and_report(args, report, ceilings, make_entries, torch_task, key, title, setup,
                       fpt, tokens_per_step, steps, notes=()):
    """Runs every setting group, then writes the block: setup, FLOPs, ceilings, tables, notes.

    `make_entries(precision, xla)`: our and keras-hub's entries; `torch_task`:
    `(peer task name, spec)` of the PyTorch side; `fpt`: model FLOPs per token;
    `setup`: what was trained (seq, batch, optimizer).
    """
    task, spec = torch_task
    groups = settings_groups(args, make_entries, lambda precision: torch_train_entry(
        args, task, spec, steps, tokens_per_step, precision))
    entries, finals = harness.compare(groups, args.repeats, title, final=not args.no_final)
    extras = harness.flops_extras(fpt, ceilings)
    lines = [f"{setup}; {steps} steps per repetition, {args.repeats} repetitions per side, "
             f"interleaved; model FLOPs {fpt * tokens_per_step / 1e12:.3f} TFLOP/step "
             f"({fpt / 1e6:.1f} MFLOP/token). Ceilings: float32 {ceilings['float32']:.0f}, bf16 "
             f"{ceilings['bfloat16']:.0f} GFLOP/s (2048^3 matmul, {common.threads()} thread(s)).",
             ""]
    lines += harness.throughput_lines(entries, finals, extras) + list(notes)
    report.block(key, title, lines)


def torch_precision(precision):
    return "bfloat16" if "bfloat16" in precision else "float32"


def torch_label(precision):
    return "bf16 autocast" if torch_precision(precision) == "bfloat16" else "float32"


def torch_train_entry(args, task, spec, steps, tokens, precision):
    spec = dict(spec, precision=torch_precision(precision))
    return harness.Entry("HF PyTorch", "HF PyTorch", torch_label(precision),
                         peer.builder(args, task, spec, {"steps": steps}, {"steps": 2}),
                         work=tokens * steps)
