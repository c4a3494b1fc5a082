"""Progress display, TensorBoard scalars and throughput for the training loop.

In a terminal the progress is a Keras bar; when stdout is not a terminal (CI,
`nohup`, `| tee`) it is one plain line every `log_every` steps (default:
about every tenth of the run) and at the last step, without carriage returns
or escape codes. Both show the values the trainer reported for the latest
execution, the same values the scripts' summaries print at the end.

Example:

    reporter = TrainingReporter(num_train_steps, "out/train", tokens_per_step=4096)
    trainer.fit(..., on_execution=reporter)
    reporter.close()
    print(summary_table(sorted(reporter.throughput().items())))
"""

import math
import sys
import time

import keras
import tensorflow as tf

# Metrics shown on the progress display (others go to TensorBoard only).
BAR_METRICS = ("loss", "masked_lm_accuracy", "next_sentence_accuracy", "accuracy")
# Plain progress lines per run when `log_every` is not given (plus the last step).
PLAIN_LINES_PER_RUN = 10


def format_value(value):
    """A number as Keras' Progbar shows it: 4 decimals, scientific below 1e-3."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class TrainingReporter:
    """Callable `(step, metrics, seconds)` for `Trainer.fit(on_execution=...)`.

    Shows the progress (see the module doc) with the loss, accuracies and
    tokens/s (examples/s when tokens per step are unknown), writes every
    metric, the learning rate and tokens/s to TensorBoard under `log_dir`
    (when `log_dir` is set: the chief only) and keeps the throughput for the
    summary.

    Args:
      num_train_steps: the step training ends at (the bar's target).
      verbose: False: no progress display at all.
      plain: True: plain lines; False: the Keras bar; None: plain unless
        `stream` is a terminal.
      log_every: steps between plain lines (default: a tenth of the run).
      stream: where plain lines go (default: `sys.stdout`, where the bar goes).
    """

    def __init__(self, num_train_steps, log_dir=None, tokens_per_step=0,
                 examples_per_step=0, learning_rate=None, verbose=True, plain=None,
                 log_every=None, stream=None):
        self.num_train_steps = num_train_steps
        self.tokens_per_step, self.examples_per_step = tokens_per_step, examples_per_step
        self.learning_rate = learning_rate
        self.writer = tf.summary.create_file_writer(log_dir) if log_dir else None
        self.stream = stream or sys.stdout
        self.plain = (not _is_terminal(self.stream)) if plain is None else plain
        self.log_every = max(1, int(log_every or math.ceil(num_train_steps / PLAIN_LINES_PER_RUN)))
        # Stateful: Progbar shows these as given; it would otherwise average them over
        # the run except on its last line, so the last line would disagree with the rest.
        shown = BAR_METRICS + ("tokens/s", "examples/s")
        self.progbar = (keras.utils.Progbar(num_train_steps, stateful_metrics=shown)
                        if verbose and not self.plain else None)
        self.verbose = verbose
        self.steps_timed, self.seconds, self.first_step = 0, 0.0, None
        self.last_metrics, self.started = {}, time.perf_counter()
        self._last_line_step = 0

    def __call__(self, step, metrics, seconds):
        if self.first_step is None:
            self.first_step = step  # the first execution includes tracing: not timed
        else:
            steps = step - self._last_step
            self.steps_timed += steps
            self.seconds += seconds
        self._last_step = step
        self.last_metrics = dict(metrics)
        self._write_summaries(step, metrics)
        if not self.verbose:
            return
        values = self.shown_values(metrics)
        if self.progbar:
            self.progbar.update(step, values, finalize=step >= self.num_train_steps)
        elif self._line_due(step):
            self._write_line(step, values)

    def shown_values(self, metrics):
        """`[(name, value)]` the progress display shows for these metrics."""
        values = [(k, metrics[k]) for k in BAR_METRICS if k in metrics]
        # No rate before a second execution: the first one includes tracing, untimed.
        if self.tokens_per_step and self.seconds:
            values.append(("tokens/s", self.tokens_per_second()))
        elif self.examples_per_step and self.seconds:
            values.append(("examples/s", self.examples_per_second()))
        return values

    def _write_summaries(self, step, metrics):
        if not self.writer:
            return
        rate = self.tokens_per_second()
        with self.writer.as_default(step=step):
            for name, value in metrics.items():
                tf.summary.scalar(name, value)
            if self.learning_rate is not None:
                tf.summary.scalar("learning_rate", float(self.learning_rate(step)))
            if rate:
                tf.summary.scalar("tokens_per_second", rate)

    def _line_due(self, step):
        """At the last step, and when `step` enters a new block of `log_every` steps."""
        due = (step >= self.num_train_steps
               or step // self.log_every > self._last_line_step // self.log_every)
        if due:
            self._last_line_step = step
        return due

    def _write_line(self, step, values):
        # A plain line on stdout, where the Keras bar would be: the scripts' progress
        # display, not a log record (absl logging adds prefixes and goes to stderr).
        elapsed = time.perf_counter() - self.started
        percent = 100 * step // max(self.num_train_steps, 1)
        parts = [f"step {step}/{self.num_train_steps} ({percent}%)"]
        parts += [f"{name}: {format_value(value)}" for name, value in values]
        parts.append(f"{elapsed:.0f}s")
        self.stream.write(" - ".join(parts) + "\n")
        self.stream.flush()

    def tokens_per_second(self):
        return self.tokens_per_step * self.steps_timed / self.seconds if self.seconds else 0.0

    def examples_per_second(self):
        return self.examples_per_step * self.steps_timed / self.seconds if self.seconds else 0.0

    def throughput(self):
        """The rates whose per-step size is known (a fine-tuning batch has no fixed tokens)."""
        rates = {"timed_steps": self.steps_timed}
        if self.tokens_per_step:
            rates["tokens_per_second"] = self.tokens_per_second()
        if self.examples_per_step:
            rates["examples_per_second"] = self.examples_per_second()
        return rates

    def close(self):
        if self.writer:
            self.writer.flush()


def write_scalars(log_dir, step, metrics):
    """Appends `metrics` (name -> number) at `step` to TensorBoard events under `log_dir`.

    Used for evaluation results (`output_dir/eval`), beside the training
    scalars the reporter writes under `output_dir/train`.
    """
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default(step=int(step)):
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                tf.summary.scalar(name, float(value))
    writer.flush()
    writer.close()


def summary_table(rows):
    """A two-column text table from `[(name, value)]` (floats with 4 decimals)."""
    rows = [(str(k), f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in rows]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)
