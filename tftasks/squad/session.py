"""`SquadSession`: a `FineTuningSession` for SQuAD span prediction (run_squad.py).

The run skeleton is `tftasks.common.session`; this module supplies the SQuAD
parts: the JSON files and their features (training features cached in
`train.tf_record`, Google's names), `BertSpanLabeler` with AdamW and
`SpanTask`, predictions through Google's post-processing into
`predictions.json`, `nbest_predictions.json`, `null_odds.json` (v2), the
official EM/F1 (when the predict file has answers) into `metrics.json` and
`eval_results.txt`, and `SquadExport`.

Training reads questions in an order shuffled by `--seed` (Google
pre-shuffles too); an epoch is one pass over the features (windows), so
`num_train_steps = features / train_batch_size * num_train_epochs`
(Google counted questions: a few % fewer steps at 384 tokens).

Example:

    results = SquadSession(config, files, bert_config).run()
    results["eval"]["f1"], results["files"]["predictions"]
"""

import json
import os
import random

import tensorflow as tf
from absl import logging

from tfbert.span_labeler import BertSpanLabeler
from tfbert.tokenization import BertTokenizer
from tfcore import experiment, training
from tfcore.io import write_text_atomically
from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.common.outputs import write_eval_results
from tftasks.common.session import FineTuningSession
from tftasks.squad.evaluation import squad_metrics
from tftasks.squad.examples import read_squad_file
from tftasks.squad.export import SquadExport
from tftasks.squad.features import Featurizer
from tftasks.squad.inference import span_logits
from tftasks.squad.postprocess import postprocess
from tftasks.squad.records import (TRAIN_RECORDS, cache_key, cached_count, read_records,
                                   write_records)
from tftasks.squad.task import SpanTask

# Metrics of an evaluation that go to TensorBoard and eval_results.txt (not counts).
BEST_METRIC = "f1"


def write_json(path, obj):
    """Google's layout (indent 4, trailing newline), atomically."""
    write_text_atomically(path, json.dumps(obj, indent=4, ensure_ascii=False) + "\n")


class SquadSession(FineTuningSession):
    """One `run_squad.py` run; `files`: `ModelFiles`, `bert_config`: `BertConfig`."""

    def __init__(self, config, files, bert_config):
        super().__init__(config)
        self.files, self.bert_config = files, bert_config
        self.metric = BEST_METRIC
        self.num_train_features = 0

    def load_data(self):
        c = self.config
        self.encoder = WordPieceEncoder(self.files.vocab_file, self.files.do_lower_case)
        self.featurizer = Featurizer(self.encoder, c.max_seq_length, c.doc_stride,
                                     c.max_query_length)
        if c.do_train:
            self._load_train()
        if c.do_predict or c.do_eval:
            self.predict_data = read_squad_file(c.predict_file, is_training=False,
                                                version_2_with_negative=c.version_2_with_negative)
            self.predict_features = list(self.featurizer.features(self.predict_data, False))
            self.results["predict"] = {"questions": len(self.predict_data.questions),
                                       "features": len(self.predict_features),
                                       "file": c.predict_file}
        self.results.update(task="squad2" if c.version_2_with_negative else "squad",
                            best_metric=self.metric)

    def _load_train(self):
        c = self.config
        data = read_squad_file(c.train_file, is_training=True,
                               version_2_with_negative=c.version_2_with_negative,
                               max_questions=c.max_train_rows)
        self.train_questions = len(data.questions)
        os.makedirs(self.out, exist_ok=True)
        self.records = self.path(TRAIN_RECORDS)
        key = cache_key(c, self.files, len(data.questions))
        count = cached_count(self.records, key)
        if count is None:
            order = list(range(len(data.questions)))
            random.Random(c.seed).shuffle(order)
            count = write_records(self.featurizer.features(data, True, order), self.records,
                                  c.max_seq_length, key)
        else:
            logging.info("Reusing %s (%d features, same data and settings).", self.records,
                         count)
        self.num_train_features = count
        self.results["train_data"] = {"questions": len(data.questions), "features": count,
                                      "skipped_questions": data.skipped, "records": self.records}

    def build(self):
        c = self.config
        n = self.num_train_features
        self.num_train_steps = max(1, int(n / c.train_batch_size * c.num_train_epochs))
        self.steps_per_epoch = max(1, n // c.train_batch_size)
        warmup = int(self.num_train_steps * c.warmup_proportion) if c.do_train else 0
        with self.strategy.scope():
            self.model = BertSpanLabeler(self.bert_config)
            optimizer, self.schedule = experiment.make_optimizer(
                "adamw", c.learning_rate, self.num_train_steps, warmup,
                weight_decay=c.weight_decay, dtype=c.dtype,
                bias_correction=bool(c.adam_bias_correction))
        self.has_own_checkpoint = tf.train.latest_checkpoint(self.out) is not None
        if c.init_checkpoint and not self.has_own_checkpoint:
            fresh = self.model.load_pretrained_weights(c.init_checkpoint)
            if any(name.startswith("qa_outputs/") for name in fresh):
                logging.info("%s has no span head: qa_outputs starts fresh.", c.init_checkpoint)
        self.trainer = training.Trainer(
            self.model, optimizer, SpanTask(), self.strategy, clip_norm=c.clip_norm or None,
            steps_per_execution=c.steps_per_execution, jit_compile=c.jit_compile)
        if c.do_train:
            self.results.update(num_train_steps=self.num_train_steps, num_warmup_steps=warmup)

    def train_dataset(self, context):
        c = self.config
        batch = context.get_per_replica_batch_size(c.train_batch_size)
        return read_records(self.records, c.max_seq_length, batch, True, context, c.seed)

    def eval_dataset(self):
        return self.predict_features

    def _predictions(self):
        c = self.config
        logits = span_logits(self.model, self.predict_features, c.predict_batch_size)
        return postprocess(self.predict_data, self.predict_features, logits, self.encoder.vocab,
                           c.n_best_size, c.max_answer_length, self.files.do_lower_case,
                           c.version_2_with_negative, c.null_score_diff_threshold)

    def _metrics(self, result):
        return squad_metrics(self.predict_data, result.predictions,
                             self.config.version_2_with_negative, result.null_odds)

    def eval_metrics(self, dataset):
        if not self.predict_data.has_answers:
            raise ValueError(f"--do_eval: {self.config.predict_file} has no answers.")
        return self._metrics(self._predictions())

    def num_examples(self, split):
        if split == "train":
            return self.num_train_features
        return len(self.predict_data.questions)

    def write_head(self):
        """The span head has no settings to record."""

    def save_best(self, folder):
        self.model.save_pretrained(folder, self.files.vocab_file)

    def predict(self):
        result = self._predictions()
        if self.predict_data.has_answers:
            metrics = self._metrics(result)
            self.results["eval"] = dict(metrics)
            self.results["predict"].update(metrics)
        if not self.chief:
            return
        files = self.results["files"]
        for name, obj in (("predictions", result.predictions),
                          ("nbest_predictions", result.nbest),
                          ("null_odds", result.null_odds)):
            if name != "null_odds" or self.config.version_2_with_negative:
                files[name] = self.path(f"{name}.json")
                write_json(files[name], obj)
        if "eval" in self.results:
            files["eval_results"] = self.path("eval_results.txt")
            write_eval_results(files["eval_results"], self.results["eval"], self.step)

    def evaluate(self):
        """The final evaluation is the prediction of the predict file (with its answers)."""
        if not self.config.do_predict:
            self.predict()

    def export(self, export_dir):
        c = self.config
        tokenizer = BertTokenizer(self.files.vocab_file, self.files.do_lower_case)
        return SquadExport(self.model, tokenizer, c.max_seq_length, c.doc_stride,
                           c.max_query_length, c.n_best_size, c.max_answer_length,
                           c.version_2_with_negative, c.null_score_diff_threshold
                           ).save(export_dir)
