"""`ClassifierSession`: a `FineTuningSession` for BERT sentence (pair) classification.

The run skeleton (train with periodic evaluation and `best/`, evaluate,
predict, export, `metrics.json`) is `tftasks.common.session`; this module
supplies the classification parts: the labels and the head's pooling, the
data, `BertClassifier` with AdamW and `ClassifierTask`, the metrics,
`test_results.tsv` (probabilities in label order) and `ClassifierExport`.

Example:

    files = resolve_model_files(config.init_checkpoint, ...)
    results = ClassifierSession(config, files, BertConfig.from_json_file(...)).run()
    results["eval"]["accuracy"], results["files"]["saved_model"]
"""

import tensorflow as tf

from tfbert.classifier import BertClassifier
from tfbert.tokenization import BertTokenizer
from tfcore import experiment, training
from tftasks.classification.data import load_task_data
from tftasks.classification.export import ClassifierExport
from tftasks.classification.features import make_dataset
from tftasks.classification.head import read_head, resolve_pooling, write_head
from tftasks.classification.metrics import (DEFAULT_BEST_METRIC, allowed_best_metrics,
                                            compute_metrics, probabilities)
from tftasks.classification.task import ClassifierTask
from tftasks.common.batches import predict_logits
from tftasks.common.errors import DataError
from tftasks.common.model_files import checkpoint_folder
from tftasks.common.outputs import write_test_results
from tftasks.common.session import FineTuningSession


class ClassifierSession(FineTuningSession):
    """One `run_classifier.py` run; `files`: `ModelFiles`, `bert_config`: `BertConfig`."""

    def __init__(self, config, files, bert_config):
        super().__init__(config)
        self.files, self.bert_config = files, bert_config

    def load_data(self):
        c = self.config
        init_folder = checkpoint_folder(c.init_checkpoint) if c.init_checkpoint else None
        saved, pooling = read_head(self.out)
        if saved is None and init_folder:
            saved, pooling = read_head(init_folder)
        try:
            self.pooling = resolve_pooling(c.pooling, c.init_checkpoint, pooling)
        except ValueError as e:
            raise DataError(str(e)) from None
        need = [s for s, on in (("train", c.do_train), ("eval", c.do_eval),
                                ("predict", c.do_predict)) if on]
        self.data = load_task_data(c, need, saved)
        self.space = self.data.label_space
        default = DEFAULT_BEST_METRIC[self.space.task_type]
        if self.data.name == "cola":
            default = "matthews_corrcoef"  # GLUE's CoLA metric.
        self.metric = c.best_metric or default
        allowed = allowed_best_metrics(self.space.task_type, self.space.num_labels)
        if self.metric not in allowed:
            raise DataError(f"--best_metric={self.metric} is not a metric of this "
                            f"{self.space.task_type} task; choose from {allowed}.")
        self.tokenizer = BertTokenizer(self.files.vocab_file, self.files.do_lower_case)
        self.results.update(task=self.data.name, task_type=self.space.task_type,
                            labels=self.space.names, best_metric=self.metric,
                            pooling=self.pooling)

    def build(self):
        c = self.config
        train = self.data.splits.get("train")
        self.num_train_steps = max(1, int(len(train) / c.train_batch_size
                                          * c.num_train_epochs)) if train else 1
        self.steps_per_epoch = max(1, len(train) // c.train_batch_size) if train else 1
        warmup = int(self.num_train_steps * c.warmup_proportion)
        with self.strategy.scope():
            self.model = BertClassifier(self.bert_config, num_labels=self.space.num_labels,
                                        task_type=self.space.task_type, pooling=self.pooling)
            optimizer, self.schedule = experiment.make_optimizer(
                "adamw", c.learning_rate, self.num_train_steps, warmup,
                weight_decay=c.weight_decay, dtype=c.dtype,
                bias_correction=bool(c.adam_bias_correction))
        self.has_own_checkpoint = tf.train.latest_checkpoint(self.out) is not None
        if c.init_checkpoint and not self.has_own_checkpoint:
            self.model.load_pretrained_weights(c.init_checkpoint)
        self.trainer = training.Trainer(
            self.model, optimizer, ClassifierTask(self.space.task_type), self.strategy,
            clip_norm=c.clip_norm or None, steps_per_execution=c.steps_per_execution,
            jit_compile=c.jit_compile)
        self.results.update(num_train_steps=self.num_train_steps, num_warmup_steps=warmup)

    def _dataset(self, split, batch_size, is_training=False, context=None):
        examples = self.data.splits[split]
        return make_dataset(self.tokenizer, examples.text_a, examples.text_b,
                            self.data.labels.get(split), self.config.max_seq_length,
                            batch_size, is_training, context, self.config.seed)

    def train_dataset(self, context):
        batch = context.get_per_replica_batch_size(self.config.train_batch_size)
        return self._dataset("train", batch, True, context)

    def eval_dataset(self):
        return self._dataset("eval", self.config.eval_batch_size)

    def eval_metrics(self, dataset):
        metrics = compute_metrics(self.space.task_type, predict_logits(self.model, dataset),
                                  self.data.labels["eval"])
        if self.config.do_train and self.metric not in metrics:  # an AUC left out: undefined
            raise DataError(f"--best_metric={self.metric} is undefined on the evaluation data "
                            f"({self.data.splits['eval'].source}): it needs examples of both "
                            "classes (multilabel: a label both present and absent).")
        return metrics

    def num_examples(self, split):
        return len(self.data.splits[split])

    def write_head(self):
        write_head(self.out, self.space, self.pooling)

    def save_best(self, folder):
        self.model.save_pretrained(folder, self.files.vocab_file)
        write_head(folder, self.space, self.model.pooling)

    def predict(self):
        logits = predict_logits(self.model, self._dataset("predict",
                                                          self.config.predict_batch_size))
        self.results["predict"] = {"examples": int(len(logits)),
                                   "file": self.data.splits["predict"].source}
        if self.chief:
            write_test_results(self.path("test_results.tsv"),
                               probabilities(self.space.task_type, logits))
            self.results["files"]["test_results"] = self.path("test_results.tsv")

    def export(self, export_dir):
        return ClassifierExport(self.model, self.tokenizer, self.space.names,
                                self.config.max_seq_length, self.data.has_text_b,
                                self.space.separator).save(export_dir)
