"""Progress bar, TensorBoard scalars and throughput for the training loop.

Example:

    reporter = TrainingReporter(num_train_steps, "out/train", tokens_per_step=4096)
    trainer.fit(..., on_execution=reporter)
    print(reporter.summary_table())
"""

import time

import keras
import tensorflow as tf

# Metrics shown on the progress bar (others go to TensorBoard only).
BAR_METRICS = ("loss", "masked_lm_accuracy", "next_sentence_accuracy", "accuracy")


class TrainingReporter:
    """Callable `(step, metrics, seconds)` for `Trainer.fit(on_execution=...)`.

    Shows a Keras progress bar with the loss and tokens/s, writes every metric,
    the learning rate and tokens/s to TensorBoard under `log_dir` (when
    `log_dir` is set: the chief only) and keeps the throughput for the summary.
    """

    def __init__(self, num_train_steps, log_dir=None, tokens_per_step=0,
                 examples_per_step=0, learning_rate=None, verbose=True):
        self.num_train_steps = num_train_steps
        self.tokens_per_step, self.examples_per_step = tokens_per_step, examples_per_step
        self.learning_rate = learning_rate
        self.writer = tf.summary.create_file_writer(log_dir) if log_dir else None
        self.progbar = keras.utils.Progbar(num_train_steps) if verbose else None
        self.steps_timed, self.seconds, self.first_step = 0, 0.0, None
        self.last_metrics, self.started = {}, time.perf_counter()

    def __call__(self, step, metrics, seconds):
        if self.first_step is None:
            self.first_step = step  # the first execution includes tracing: not timed
        else:
            steps = step - self._last_step
            self.steps_timed += steps
            self.seconds += seconds
        self._last_step = step
        self.last_metrics = dict(metrics)
        rate = self.tokens_per_second()
        if self.writer:
            with self.writer.as_default(step=step):
                for name, value in metrics.items():
                    tf.summary.scalar(name, value)
                if self.learning_rate is not None:
                    tf.summary.scalar("learning_rate", float(self.learning_rate(step)))
                if rate:
                    tf.summary.scalar("tokens_per_second", rate)
        if self.progbar:
            values = [(k, metrics[k]) for k in BAR_METRICS if k in metrics]
            if rate:
                values.append(("tokens/s", rate))
            self.progbar.update(step, values, finalize=step >= self.num_train_steps)

    def tokens_per_second(self):
        return self.tokens_per_step * self.steps_timed / self.seconds if self.seconds else 0.0

    def examples_per_second(self):
        return self.examples_per_step * self.steps_timed / self.seconds if self.seconds else 0.0

    def throughput(self):
        return {"tokens_per_second": self.tokens_per_second(),
                "examples_per_second": self.examples_per_second(),
                "timed_steps": self.steps_timed}

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
