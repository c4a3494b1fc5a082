"""Evaluation during training: when it is due, and the history of its figures.

- `PeriodicEvaluator`: the `Trainer.fit(on_execution=...)` callback that
  reports progress and evaluates every `save_checkpoints_steps`, at each
  epoch end and at the last step.
- `EvalHistory`: the figures of every evaluation (`eval_history.json`), one
  entry per step even when a killed run's steps are replayed.

Example:

    history = EvalHistory("out/eval_history.json")
    callback = PeriodicEvaluator(reporter, evaluate, 1000, 625, 1875)
    trainer.fit(..., on_execution=callback)
"""

import json
import os
import time

from tfcore.io import write_json_atomically

EVAL_HISTORY = "eval_history.json"


class PeriodicEvaluator:
    """`Trainer.fit(on_execution=...)`: progress, then `evaluate(step)` when due.

    Due every `every` steps, at the end of each epoch (`steps_per_epoch`) and
    at the last step. `eval_seconds` sums the time spent evaluating. Returns
    what `evaluate(step)` returns (true: stop training, e.g. early stopping).

    Example:

        callback = PeriodicEvaluator(reporter, evaluate, 1000, 625, 1875)
        trainer.fit(..., on_execution=callback)
    """

    def __init__(self, reporter, evaluate, every, steps_per_epoch, num_train_steps):
        self.reporter, self.evaluate = reporter, evaluate
        self.every, self.steps_per_epoch = every, max(int(steps_per_epoch), 1)
        self.num_train_steps = num_train_steps
        self.last_step, self.eval_seconds = None, 0.0

    def __call__(self, step, metrics, seconds):
        self.reporter(step, metrics, seconds)
        previous = step - 1 if self.last_step is None else self.last_step
        self.last_step = step
        epoch_end = step // self.steps_per_epoch != previous // self.steps_per_epoch
        if self.evaluate and (step % self.every == 0 or epoch_end
                              or step >= self.num_train_steps):
            start = time.perf_counter()
            stop = self.evaluate(step)
            self.eval_seconds += time.perf_counter() - start
            return stop
        return False


class EvalHistory:
    """The list of `dict(metrics, step=step)` of the evaluations, kept in `path`."""

    def __init__(self, path):
        self.path = path
        self.entries = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.entries = json.load(f)

    def add(self, step, metrics):
        """Records `metrics` at `step`, dropping entries of later steps.

        A run killed after an evaluation but before its checkpoint evaluated
        steps this one replays from the checkpoint: one entry per step is kept.
        """
        self.entries[:] = [h for h in self.entries if h["step"] < step]
        self.entries.append(dict(metrics, step=step))

    def save(self):
        write_json_atomically(self.path, self.entries)
