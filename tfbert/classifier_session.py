"""One `run_classifier.py` run: data -> model -> train (+ best) -> eval -> predict -> export.

`ClassifierSession(args, files, config).run()` does what the flags say and
returns the results dict it also writes to `output_dir/metrics.json`.
Which weights are evaluated, predicted with and exported: `best/` when it
exists (unless this run trained without `--do_eval`), else the latest
checkpoint in `output_dir`, else `--init_checkpoint`. Evaluations (periodic
and final) also go to TensorBoard events under `output_dir/eval`. Sections of
an earlier `metrics.json` that this run did not produce (the `train` figures
of a rerun with nothing left to train) are kept.

Example:

    files, config = resolve_model_files(FLAGS), BertConfig.from_json_file(...)
    results = ClassifierSession(FLAGS, files, config).run()
    results["eval"]["accuracy"], results["files"]["saved_model"]
"""

import json
import os
import time

import tensorflow as tf
from absl import logging

from tfbert.classifier import BertClassifier
from tfbert.classifier_data import DataError
from tfbert.classifier_export import ClassifierExport
from tfbert.classifier_input import ClassifierTask, make_dataset, predict_logits
from tfbert.classifier_metrics import (DEFAULT_BEST_METRIC, METRIC_NAMES, compute_metrics,
                                       probabilities)
from tfbert.classifier_outputs import (BestCheckpoint, read_head, write_eval_results,
                                       write_labels, write_test_results)
from tfbert.classifier_run import PeriodicEvaluator, load_task_data, resolve_pooling
from tfbert.tokenization import BertTokenizer
from tfcore import distribute, experiment, reporting, training
from tfcore.io import write_json_atomically

EVAL_HISTORY = "eval_history.json"
EVAL_EVENTS = "eval"  # TensorBoard events of the evaluations, beside train/
# metrics.json sections a run without them keeps from the earlier metrics.json: they
# describe the training of the weights this run used. (Not eval/predict: after more
# training they would describe older weights.)
KEPT_SECTIONS = ("train", "eval_history")


def merged_results(path, results):
    """`results` over the earlier metrics.json at `path` (if any), for a rerun.

    A section in KEPT_SECTIONS that this run did not produce (`train` when
    the checkpoint was already at the last step, or in a run that only
    evaluates or predicts) is the earlier run's.
    """
    if not os.path.exists(path):
        return results
    try:
        with open(path, encoding="utf-8") as f:
            earlier = json.load(f)
    except (OSError, ValueError) as e:
        logging.warning("%s: not read (%s); it is replaced by this run's results.", path, e)
        return results
    if not isinstance(earlier, dict):
        return results
    merged = dict(results)
    for section in KEPT_SECTIONS:
        if section not in merged and section in earlier:
            merged[section] = earlier[section]
    return merged


class ClassifierSession:
    """Holds the model, data and trainer of one run; see the module doc."""

    def __init__(self, args, files, config):
        self.args, self.files, self.config = args, files, config
        self.out = args.output_dir
        self.results = {"files": {}}

    def _path(self, name):
        return os.path.join(self.out, name)

    def run(self, record=None):
        """Does the run; `record(output_dir)` (e.g. writing flags.txt) is called by the
        chief once the data and model are checked, before anything else is written."""
        a = self.args
        experiment.configure_runtime(a.dtype, a.deterministic, a.seed)
        self.strategy = distribute.get_strategy("tpu" if a.use_tpu else a.strategy, a.tpu_name)
        self.chief = distribute.is_chief(self.strategy)
        self._load_data()
        self._build()
        if self.chief and record:
            record(self.out)
        if a.do_train:
            self._train()
        elif self.has_own_checkpoint:
            self.trainer.restore_or_initialize(self.out, a.keep_checkpoint_max)
            self.step = self.trainer.step
        self._select_weights()
        if a.do_eval:
            self._evaluate()
        if a.do_predict:
            self._predict()
        if self.chief and a.do_export and a.do_train:
            export_dir = a.export_dir or self._path("saved_model")
            self.results["files"]["saved_model"] = ClassifierExport(
                self.model, self.tokenizer, self.space.names, a.max_seq_length,
                self.data.has_text_b, self.space.separator).save(export_dir)
        if self.chief:
            self.results = merged_results(self._path("metrics.json"), self.results)
            write_json_atomically(self._path("metrics.json"), self.results)
            self.results["files"]["metrics"] = self._path("metrics.json")
            self.results["files"]["tensorboard"] = f"tensorboard --logdir {self.out}"
        return self.results

    def _load_data(self):
        a = self.args
        init_folder = None
        if a.init_checkpoint:
            init_folder = (a.init_checkpoint if os.path.isdir(a.init_checkpoint)
                           else os.path.dirname(a.init_checkpoint))
        saved, pooling = read_head(self.out)
        if saved is None and init_folder:
            saved, pooling = read_head(init_folder)
        try:
            self.pooling = resolve_pooling(a.pooling, a.init_checkpoint, pooling)
        except ValueError as e:
            raise DataError(str(e)) from None
        need = [s for s, on in (("train", a.do_train), ("eval", a.do_eval),
                                ("predict", a.do_predict)) if on]
        self.data = load_task_data(a, need, saved)
        self.space = self.data.label_space
        default = DEFAULT_BEST_METRIC[self.space.task_type]
        if self.data.name == "cola":
            default = "matthews_corrcoef"  # GLUE's CoLA metric.
        self.metric = a.best_metric or default
        allowed = [m for m in METRIC_NAMES[self.space.task_type]
                   if m != "f1" or self.space.num_labels == 2]
        if self.metric not in allowed:
            raise DataError(f"--best_metric={self.metric} is not a metric of this "
                            f"{self.space.task_type} task; choose from {allowed}.")
        self.tokenizer = BertTokenizer(self.files.vocab_file, self.files.do_lower_case)
        self.results.update(task=self.data.name, task_type=self.space.task_type,
                            labels=self.space.names, best_metric=self.metric,
                            pooling=self.pooling)

    def _build(self):
        a = self.args
        train = self.data.splits.get("train")
        self.num_train_steps = max(1, int(len(train) / a.train_batch_size
                                          * a.num_train_epochs)) if train else 1
        self.steps_per_epoch = max(1, len(train) // a.train_batch_size) if train else 1
        warmup = int(self.num_train_steps * a.warmup_proportion)
        with self.strategy.scope():
            self.model = BertClassifier(self.config, num_labels=self.space.num_labels,
                                        task_type=self.space.task_type, pooling=self.pooling)
            optimizer, self.schedule = experiment.make_optimizer(
                "adamw", a.learning_rate, self.num_train_steps, warmup,
                weight_decay=a.weight_decay, dtype=a.dtype,
                bias_correction=a.adam_bias_correction)
        self.has_own_checkpoint = tf.train.latest_checkpoint(self.out) is not None
        if a.init_checkpoint and not self.has_own_checkpoint:
            self.model.load_pretrained_weights(a.init_checkpoint)
        self.trainer = training.Trainer(
            self.model, optimizer, ClassifierTask(self.space.task_type), self.strategy,
            clip_norm=a.clip_norm or None, steps_per_execution=a.steps_per_execution,
            jit_compile=a.jit_compile)
        self.step = 0
        self.results.update(num_train_steps=self.num_train_steps, num_warmup_steps=warmup)

    def _dataset(self, split, batch_size, is_training=False, context=None):
        examples = self.data.splits[split]
        return make_dataset(self.tokenizer, examples.text_a, examples.text_b,
                            self.data.labels.get(split), self.args.max_seq_length,
                            batch_size, is_training, context, self.args.seed)

    def _train(self):
        a = self.args
        if self.chief:
            write_labels(self.out, self.space, self.pooling)
        train_fn = lambda context: self._dataset(  # noqa: E731
            "train", context.get_per_replica_batch_size(a.train_batch_size), True, context)
        best = BestCheckpoint(self._path("best"), self.metric)
        if self.chief:
            best.recover()  # after a run killed while it replaced best/
        history = self._read_history()
        eval_data = self._dataset("eval", a.eval_batch_size) if a.do_eval else None

        def evaluate(step):
            metrics = compute_metrics(self.space.task_type,
                                      predict_logits(self.model, eval_data), self.data.labels["eval"])
            # A run killed after an evaluation but before its checkpoint evaluated
            # steps this one replays from the checkpoint: keep one entry per step.
            history[:] = [h for h in history if h["step"] < step]
            history.append(dict(metrics, step=step))
            improved = self.chief and best.offer(step, metrics, self.model,
                                                 self.files.vocab_file, self.space)
            if self.chief:
                write_json_atomically(self._path(EVAL_HISTORY), history)
                reporting.write_scalars(self._path(EVAL_EVENTS), step, metrics)
            logging.info("Step %d: eval %s = %.4f%s", step, self.metric, metrics[self.metric],
                         " (best so far: saved to best/)" if improved else "")

        batch = a.train_batch_size
        reporter = reporting.TrainingReporter(
            self.num_train_steps, self._path("train") if self.chief else None,
            examples_per_step=batch,  # tokens per step vary: batches are trimmed
            learning_rate=self.schedule)
        callback = PeriodicEvaluator(reporter, evaluate if a.do_eval else None,
                                     a.save_checkpoints_steps, self.steps_per_epoch,
                                     self.num_train_steps)
        start = time.perf_counter()
        last = self.trainer.fit(train_fn, self.num_train_steps, self.out,
                                a.save_checkpoints_steps, a.keep_checkpoint_max,
                                on_execution=callback)
        seconds = time.perf_counter() - start
        reporter.close()
        self.step = self.trainer.step
        self.results["eval_history"] = history
        if not last:  # fit returns {} when the checkpoint is already at the last step
            logging.info("Already at step %d of %d: nothing to train; metrics.json keeps the "
                         "earlier run's train figures.", self.step, self.num_train_steps)
            return
        self.results["train"] = dict(last, **reporter.throughput(),
                                     seconds=seconds - callback.eval_seconds,
                                     eval_seconds=callback.eval_seconds,
                                     examples=len(self.data.splits["train"]))

    def _read_history(self):
        path = self._path(EVAL_HISTORY)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        return []

    def _select_weights(self):
        """Loads best/ when it should be used (see module doc)."""
        a = self.args
        best = BestCheckpoint(self._path("best"), self.metric)
        self.best = best if best.exists and (a.do_eval or not a.do_train) else None
        if self.best:
            self.model.load_pretrained_weights(best.folder)
            self.step = best.state["step"]
            self.results["best"] = {k: best.state[k] for k in ("step", "metric", "value")}
            self.results["files"]["best"] = best.folder
        elif not (a.do_train or self.has_own_checkpoint or a.init_checkpoint):
            raise DataError(f"Nothing to evaluate: {self.out} has no checkpoint and no "
                            "--init_checkpoint was given.")
        self.results["steps"] = self.step

    def _evaluate(self):
        a = self.args
        if a.do_train and self.best and "metrics" in self.best.state:
            # The best periodic evaluation: already in the eval events at its step.
            metrics = dict(self.best.state["metrics"])
        else:
            logits = predict_logits(self.model, self._dataset("eval", a.eval_batch_size))
            metrics = compute_metrics(self.space.task_type, logits, self.data.labels["eval"])
            if self.chief:
                reporting.write_scalars(self._path(EVAL_EVENTS), self.step, metrics)
        metrics["examples"] = len(self.data.splits["eval"])
        self.results["eval"] = metrics
        if self.chief:
            write_eval_results(self._path("eval_results.txt"), metrics, self.step)
            self.results["files"]["eval_results"] = self._path("eval_results.txt")

    def _predict(self):
        logits = predict_logits(self.model, self._dataset("predict", self.args.predict_batch_size))
        self.results["predict"] = {"examples": int(len(logits)),
                                   "file": self.data.splits["predict"].source}
        if self.chief:
            write_test_results(self._path("test_results.tsv"),
                               probabilities(self.space.task_type, logits))
            self.results["files"]["test_results"] = self._path("test_results.tsv")
