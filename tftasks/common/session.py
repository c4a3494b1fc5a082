"""`FineTuningSession`: the skeleton of one fine-tuning run, whatever the task.

`run()` does: runtime and strategy -> the task's data -> the task's model
and trainer -> the run record -> train (evaluating periodically, keeping
`best/`) or restore -> pick the weights -> evaluate -> predict -> export ->
`metrics.json`. A task subclasses it and supplies the parts that depend on
it (see "Hooks" below).

Which weights are evaluated, predicted with and exported: `best/` when it
exists (unless this run trained without `do_eval`), else the latest
checkpoint in `output_dir`, else `init_checkpoint`. With
`early_stopping_patience` N (and `do_eval`), training stops after N
evaluations in a row without a better metric (a checkpoint is saved at that
step; `metrics.json` gets `early_stopping`: metric, patience, best_step,
stopped_at_step (None: not stopped)); a rerun with the same N finds the stop
in `eval_history.json` and trains no further. Evaluations (periodic
and final) also go to TensorBoard events under `output_dir/eval`; the final
one to Google's `eval_results.txt`.

Hooks (the subclass sets/implements): `load_data()` (sets `self.metric`),
`build()` (sets `model`, `trainer`, `schedule`, `num_train_steps`,
`steps_per_epoch`, `has_own_checkpoint`), `train_dataset(context)`,
`eval_dataset()`, `eval_metrics(dataset)`, `num_examples(split)`,
`save_best(folder)`, `write_head()`, `predict()`, `export(export_dir)`.

`config` has the fields of `tfcore.training_options.TrainingOptions` and
output_dir, init_checkpoint, use_tpu, tpu_name, do_train, do_eval,
do_predict, do_export, export_dir, train_batch_size, eval_batch_size,
save_checkpoints_steps, early_stopping_patience
(`tftasks.common.options.FineTuningOptions`).
"""

import os
import time

from absl import logging

from tfcore import distribute, experiment, reporting
from tfcore.io import write_json_atomically
from tftasks.common.best_checkpoint import BestCheckpoint
from tftasks.common.early_stopping import early_stopping_state
from tftasks.common.errors import DataError
from tftasks.common.evaluation import EVAL_HISTORY, EvalHistory, PeriodicEvaluator
from tftasks.common.outputs import write_eval_results
from tftasks.common.results import merged_results

EVAL_EVENTS = "eval"  # TensorBoard events of the evaluations, beside train/


class FineTuningSession:
    """One run of a fine-tuning task; see the module doc."""

    def __init__(self, config):
        self.config = config
        self.out = config.output_dir
        self.results = {"files": {}}
        self.step = 0

    def path(self, name):
        return os.path.join(self.out, name)

    def run(self, record=None):
        """Does the run; returns the results dict also written to `metrics.json`.

        `record(output_dir)` (e.g. writing flags.txt) is called by the chief once
        the data and model are checked, before anything else is written.
        """
        c = self.config
        experiment.configure_runtime(c.dtype, c.deterministic, c.seed)
        self.strategy = distribute.get_strategy("tpu" if c.use_tpu else c.strategy, c.tpu_name)
        self.chief = distribute.is_chief(self.strategy)
        self.load_data()
        self.build()
        if self.chief and record:
            record(self.out)
        if c.do_train:
            self.train()
        elif self.has_own_checkpoint:
            self.trainer.restore_or_initialize(self.out, c.keep_checkpoint_max)
            self.step = self.trainer.step
        self.select_weights()
        if c.do_eval:
            self.evaluate()
        if c.do_predict:
            self.predict()
        if self.chief and c.do_export and c.do_train:
            export_dir = c.export_dir or self.path("saved_model")
            self.results["files"]["saved_model"] = self.export(export_dir)
        if self.chief:
            self.results = merged_results(self.path("metrics.json"), self.results)
            write_json_atomically(self.path("metrics.json"), self.results)
            self.results["files"]["metrics"] = self.path("metrics.json")
            self.results["files"]["tensorboard"] = f"tensorboard --logdir {self.out}"
        return self.results

    def train(self):
        """Trains to the last step, evaluating when due (with `do_eval`) into `best/`."""
        c = self.config
        if self.chief:
            self.write_head()
        best = BestCheckpoint(self.path("best"), self.metric)
        if self.chief:
            best.recover()  # after a run killed while it replaced best/
        history = EvalHistory(self.path(EVAL_HISTORY))
        patience = c.early_stopping_patience if c.do_eval else 0
        if patience and self.has_own_checkpoint and self._stopped_early(history):
            return
        eval_data = self.eval_dataset() if c.do_eval else None

        def evaluate(step):
            """Evaluates into best/ and the history; True when early stopping ends training."""
            metrics = self.eval_metrics(eval_data)
            history.add(step, metrics)
            improved = self.chief and best.offer(step, metrics, self.save_best)
            if self.chief:
                history.save()
                reporting.write_scalars(self.path(EVAL_EVENTS), step, metrics)
            logging.info("Step %d: eval %s = %.4f%s", step, self.metric, metrics[self.metric],
                         " (best so far: saved to best/)" if improved else "")
            if not patience:
                return False
            state = early_stopping_state(history.entries, self.metric, patience)
            if state["stopped_at_step"] is not None:
                logging.info("Early stopping at step %d of %d: %d evaluations without a better "
                             "%s than step %d's.", step, self.num_train_steps, patience,
                             self.metric, state["best_step"])
            return state["stopped_at_step"] is not None

        reporter = reporting.TrainingReporter(
            self.num_train_steps, self.path("train") if self.chief else None,
            examples_per_step=c.train_batch_size,  # tokens per step vary: batches are trimmed
            learning_rate=self.schedule)
        callback = PeriodicEvaluator(reporter, evaluate if c.do_eval else None,
                                     c.save_checkpoints_steps, self.steps_per_epoch,
                                     self.num_train_steps)
        start = time.perf_counter()
        last = self.trainer.fit(self.train_dataset, self.num_train_steps, self.out,
                                c.save_checkpoints_steps, c.keep_checkpoint_max,
                                on_execution=callback)
        seconds = time.perf_counter() - start
        reporter.close()
        self.step = self.trainer.step
        self.results["eval_history"] = history.entries
        if patience:
            self.results["early_stopping"] = early_stopping_state(history.entries, self.metric,
                                                                  patience)
        if not last:  # fit returns {} when the checkpoint is already at the last step
            logging.info("Already at step %d of %d: nothing to train; metrics.json keeps the "
                         "earlier run's train figures.", self.step, self.num_train_steps)
            return
        self.results["train"] = dict(last, **reporter.throughput(),
                                     seconds=seconds - callback.eval_seconds,
                                     eval_seconds=callback.eval_seconds,
                                     examples=self.num_examples("train"))

    def _stopped_early(self, history):
        """True (with the results set) if the history already reached the early stop.

        A rerun after an early stop with the same patience trains no further:
        the model is restored from the checkpoint of the stopping step and
        best/ is used as after the first run.
        """
        c = self.config
        state = early_stopping_state(history.entries, self.metric, c.early_stopping_patience)
        if state["stopped_at_step"] is None:
            return False
        self.trainer.restore_or_initialize(self.out, c.keep_checkpoint_max)
        self.step = self.trainer.step
        logging.info("Training stopped early at step %d (%d evaluations without a better %s "
                     "than step %d's): nothing to train; metrics.json keeps the earlier run's "
                     "train figures. A larger --early_stopping_patience (or 0) continues it.",
                     state["stopped_at_step"], c.early_stopping_patience, self.metric,
                     state["best_step"])
        self.results["eval_history"] = history.entries
        self.results["early_stopping"] = state
        return True

    def select_weights(self):
        """Loads best/ when it should be used (see module doc)."""
        c = self.config
        best = BestCheckpoint(self.path("best"), self.metric)
        self.best = best if best.exists and (c.do_eval or not c.do_train) else None
        if self.best:
            self.model.load_pretrained_weights(best.folder)
            self.step = best.state["step"]
            self.results["best"] = {k: best.state[k] for k in ("step", "metric", "value")}
            self.results["files"]["best"] = best.folder
        elif not (c.do_train or self.has_own_checkpoint or c.init_checkpoint):
            raise DataError(f"Nothing to evaluate: {self.out} has no checkpoint and no "
                            "--init_checkpoint was given.")
        self.results["steps"] = self.step

    def evaluate(self):
        """The final evaluation: `results["eval"]`, eval events, `eval_results.txt`."""
        if self.config.do_train and self.best and "metrics" in self.best.state:
            # The best periodic evaluation: already in the eval events at its step.
            metrics = dict(self.best.state["metrics"])
        else:
            metrics = self.eval_metrics(self.eval_dataset())
            if self.chief:
                reporting.write_scalars(self.path(EVAL_EVENTS), self.step, metrics)
        metrics["examples"] = self.num_examples("eval")
        self.results["eval"] = metrics
        if self.chief:
            write_eval_results(self.path("eval_results.txt"), metrics, self.step)
            self.results["files"]["eval_results"] = self.path("eval_results.txt")
