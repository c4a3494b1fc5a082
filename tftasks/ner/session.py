"""`NerSession`: a `FineTuningSession` for token classification (named entities).

The run skeleton is `tftasks.common.session`; this module supplies the tag
set (`labels.json`), the CoNLL/TFDS data and its features,
`BertTokenClassifier` with AdamW and `TokenClassificationTask`, the entity
metrics (with a per-type table in `eval_results.txt` and `metrics.json`),
`test_results.conll` (token, gold tag when known, predicted tag) and
`NerExport`.

Example:

    results = NerSession(config, files, bert_config).run()
    results["eval"]["f1"], results["eval"]["per_type"]["person"]["f1"]
"""

import json
import os

import tensorflow as tf
from absl import logging

from tfbert.token_classifier import BertTokenClassifier
from tfbert.tokenization import BertTokenizer
from tfcore import experiment, training
from tfcore.io import write_text_atomically
from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.common.model_files import checkpoint_folder
from tftasks.common.outputs import read_labels, write_eval_results, write_labels
from tftasks.common.session import FineTuningSession
from tftasks.ner.data import load_ner_data
from tftasks.ner.export import NerExport
from tftasks.ner.features import make_dataset, make_features
from tftasks.ner.labels import TagSet
from tftasks.ner.metrics import entity_scores, format_report
from tftasks.ner.predict import decode_tags, mean_cross_entropy, word_logits
from tftasks.ner.tags import OUTSIDE, scheme_of_names
from tftasks.ner.task import TokenClassificationTask


def tag_set_of_folder(folder):
    """The TagSet saved in `folder/labels.json`, else a Hugging Face config.json's id2label."""
    saved = TagSet.from_json(read_labels(folder))
    if saved is not None:
        return saved
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        id2label = json.load(f).get("id2label") or {}
    names = [id2label[k] for k in sorted(id2label, key=int)]
    if OUTSIDE not in names:
        return None
    try:
        return TagSet(names, scheme_of_names(names))
    except ValueError:  # generic LABEL_0, LABEL_1 or another task's labels
        return None


class NerSession(FineTuningSession):
    """One `run_ner.py` run; `files`: `ModelFiles`, `bert_config`: `BertConfig`."""

    def __init__(self, config, files, bert_config):
        super().__init__(config)
        self.files, self.bert_config = files, bert_config
        self.features = {}

    def load_data(self):
        c = self.config
        saved = TagSet.from_json(read_labels(self.out))
        self.init_tags = (tag_set_of_folder(checkpoint_folder(c.init_checkpoint))
                          if c.init_checkpoint else None)
        need = [s for s, on in (("train", c.do_train), ("eval", c.do_eval),
                                ("predict", c.do_predict)) if on]
        self.data = load_ner_data(c, need, saved or self.init_tags)
        self.tag_set = self.data.tag_set
        self.metric = c.best_metric
        self.encoder = WordPieceEncoder(self.files.vocab_file, self.files.do_lower_case)
        for split in need:
            self.features[split] = make_features(
                self.data.splits[split], self.data.tag_ids.get(split), self.encoder,
                c.max_seq_length, split_long=(split != "train"))
        dropped = self.features["train"].dropped_words if "train" in need else 0
        if dropped:
            logging.warning("Training: %d words beyond --max_seq_length=%d were cut off "
                            "(evaluation and prediction split long sentences instead).",
                            dropped, c.max_seq_length)
        self.results.update(task=self.data.name, tags=self.tag_set.names,
                            tag_scheme=self.tag_set.scheme, best_metric=self.metric)
        if "train" in need:
            self.results["train_truncated_words"] = dropped

    def build(self):
        c = self.config
        train = self.features.get("train")
        self.num_train_steps = max(1, int(len(train) / c.train_batch_size
                                          * c.num_train_epochs)) if train else 1
        self.steps_per_epoch = max(1, len(train) // c.train_batch_size) if train else 1
        warmup = int(self.num_train_steps * c.warmup_proportion)
        with self.strategy.scope():
            self.model = BertTokenClassifier(self.bert_config,
                                             num_labels=self.tag_set.num_labels)
            optimizer, self.schedule = experiment.make_optimizer(
                "adamw", c.learning_rate, self.num_train_steps, warmup,
                weight_decay=c.weight_decay, dtype=c.dtype,
                bias_correction=bool(c.adam_bias_correction))
        self.has_own_checkpoint = tf.train.latest_checkpoint(self.out) is not None
        if c.init_checkpoint and not self.has_own_checkpoint:
            if self.init_tags == self.tag_set:
                self.model.load_pretrained_weights(c.init_checkpoint)
            else:  # another head (or none): the encoder only, a fresh classifier
                logging.info("%s: encoder weights only; the token classifier starts fresh.",
                             c.init_checkpoint)
                self.model.bert.load_pretrained_weights(c.init_checkpoint)
        self.trainer = training.Trainer(
            self.model, optimizer, TokenClassificationTask(), self.strategy,
            clip_norm=c.clip_norm or None, steps_per_execution=c.steps_per_execution,
            jit_compile=c.jit_compile)
        self.results.update(num_train_steps=self.num_train_steps, num_warmup_steps=warmup)

    def train_dataset(self, context):
        batch = context.get_per_replica_batch_size(self.config.train_batch_size)
        return make_dataset(self.features["train"], batch, True, context, self.config.seed)

    def eval_dataset(self):
        return self.features["eval"]

    def _tags(self, split, batch_size):
        """(word logits per sentence, predicted tag names per sentence) of a split."""
        logits = word_logits(self.model, self.features[split], len(self.data.splits[split]),
                             batch_size)
        return logits, decode_tags(logits, self.tag_set.names)

    def eval_metrics(self, dataset):
        logits, predicted = self._tags("eval", self.config.eval_batch_size)
        scores = entity_scores(self.data.splits["eval"].tags, predicted)
        scores["loss"] = mean_cross_entropy(logits, self.data.tag_ids["eval"])
        return scores

    def evaluate(self):
        super().evaluate()
        if self.chief:  # Google's key = value lines, then the per-type table
            metrics = self.results["eval"]
            path = self.path("eval_results.txt")
            write_eval_results(path, {k: v for k, v in metrics.items() if k != "per_type"},
                               self.step)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            write_text_atomically(path, text + "\n" + format_report(metrics))

    def num_examples(self, split):
        return len(self.data.splits[split])

    def write_head(self):
        write_labels(self.out, self.tag_set)

    def save_best(self, folder):
        self.model.save_pretrained(folder, self.files.vocab_file)
        write_labels(folder, self.tag_set)

    def predict(self):
        sentences = self.data.splits["predict"]
        _, predicted = self._tags("predict", self.config.predict_batch_size)
        self.results["predict"] = {"sentences": len(sentences),
                                   "words": sum(map(len, sentences.words)),
                                   "file": sentences.source}
        if sentences.tags is not None:
            scores = entity_scores(sentences.tags, predicted)
            self.results["predict"].update({k: scores[k] for k in ("precision", "recall",
                                                                   "f1", "accuracy")})
        if self.chief:
            path = self.path("test_results.conll")
            write_text_atomically(path, conll_lines(sentences, predicted))
            self.results["files"]["test_results"] = path

    def export(self, export_dir):
        tokenizer = BertTokenizer(self.files.vocab_file, self.files.do_lower_case)
        return NerExport(self.model, tokenizer, self.tag_set,
                         self.config.max_seq_length).save(export_dir)


def conll_lines(sentences, predicted):
    """"token gold predicted" (or "token predicted") lines, a blank line after each sentence."""
    out = []
    for i, words in enumerate(sentences.words):
        gold = sentences.tags[i] if sentences.tags is not None else None
        for j, word in enumerate(words):
            out.append(f"{word} {gold[j]} {predicted[i][j]}\n" if gold
                       else f"{word} {predicted[i][j]}\n")
        out.append("\n")
    return "".join(out)
