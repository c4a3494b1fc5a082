"""The parts of `run_classifier.py` between flags and files, importable and tested.

- `resolve_model_files`: config, vocab and casing from the flags or the
  `--init_checkpoint` folder (Google TF1, Hugging Face or ours).
- `load_task_data`: the splits of a GLUE folder, a TFDS dataset or local
  files, with their `LabelSpace`; every label is checked before training.
- `PeriodicEvaluator`: the `Trainer.fit` callback that reports progress and
  evaluates every `save_checkpoints_steps` and at each epoch end.

`args` is anything with the flag names as attributes (absl's FLAGS, a
namespace).

Example:

    data = load_task_data(FLAGS, need=("train", "eval"))
    data.label_space.names, len(data.splits["train"]), data.labels["eval"]
"""

import dataclasses
import json
import os
import time
from typing import Optional

from tfbert.classifier_data import ColumnSpec, DataError, LabelSpace, read_examples
from tfbert.classifier_glue import glue_task
from tfbert.classifier_tfds import TfdsSource

GLUE_SPLITS = {"train": "train", "eval": "dev", "predict": "test"}


@dataclasses.dataclass
class ModelFiles:
    """Where the config, vocab and initial weights come from."""

    config_file: str
    vocab_file: str
    do_lower_case: bool
    init_checkpoint: Optional[str]


def resolve_model_files(args, lower_case_given=True):
    """Config/vocab from flags, else from `--init_checkpoint`'s folder; ValueError if absent.

    Without an explicit `--do_lower_case`, a Hugging Face folder's
    `tokenizer_config.json` decides the casing.
    """
    init = args.init_checkpoint
    folder = None
    if init:
        folder = init if os.path.isdir(init) else os.path.dirname(init)
        if not (os.path.isdir(init) or os.path.exists(init + ".index")):
            raise ValueError(f"--init_checkpoint={init}: no such folder or checkpoint.")

    def from_folder(flag, names):
        if getattr(args, flag):
            return getattr(args, flag)
        for name in names:
            if folder and os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        where = f" and {folder} has none of {list(names)}" if folder else ""
        raise ValueError(f"--{flag} is required (no --init_checkpoint folder to take it "
                         f"from{where}).")

    config_file = from_folder("bert_config_file", ("bert_config.json", "config.json"))
    vocab_file = from_folder("vocab_file", ("vocab.txt",))
    for flag, path in (("bert_config_file", config_file), ("vocab_file", vocab_file)):
        if not os.path.isfile(path):
            raise ValueError(f"--{flag}={path}: no such file.")
    lower = args.do_lower_case
    tokenizer_config = os.path.join(folder, "tokenizer_config.json") if folder else ""
    if not lower_case_given and os.path.isfile(tokenizer_config):
        with open(tokenizer_config, encoding="utf-8") as f:
            lower = bool(json.load(f).get("do_lower_case", lower))
    return ModelFiles(config_file, vocab_file, lower, init)


def resolve_pooling(flag, init_checkpoint, saved=None):
    """The head's pooling: the flag, else the run's saved choice, else the checkpoint's.

    "auto" picks "mean" for a sentence-transformers folder whose
    `1_Pooling/config.json` declares mean pooling (its BERT pooler is
    untrained), else Google's "pooler". ValueError if the flag contradicts
    the run being continued.
    """
    if flag != "auto":
        if saved and saved != flag:
            raise ValueError(f"--pooling={flag}, but the run being continued used {saved}.")
        return flag
    if saved:
        return saved
    if init_checkpoint:
        folder = init_checkpoint if os.path.isdir(init_checkpoint) else os.path.dirname(
            init_checkpoint)
        path = os.path.join(folder, "1_Pooling", "config.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                modes = json.load(f)
            if modes.get("pooling_mode_mean_tokens") and not modes.get("pooling_mode_cls_token"):
                return "mean"
    return "pooler"


@dataclasses.dataclass
class TaskData:
    """The splits read (`splits[name]`: Examples), their encoded labels and the labels."""

    name: str
    label_space: LabelSpace
    has_text_b: bool
    splits: dict
    labels: dict


def _split_keys(text):
    return [k.strip() for k in text.split(",") if k.strip()] if text else None


def _reader(args):
    """`(name, read(split), label_space or None, has_text_b)` for the data source."""
    if args.task_name:
        task = glue_task(args.task_name)
        return (task.name, lambda s: task.read(args.data_dir, GLUE_SPLITS[s], args.xnli_language),
                task.label_space(), task.has_text_b)
    if args.tfds_name:
        source = TfdsSource(args.tfds_name, args.tfds_data_dir,
                            _split_keys(args.tfds_text_keys), args.tfds_label_key)
        names = {"train": args.tfds_train_split, "eval": args.tfds_eval_split,
                 "predict": args.tfds_predict_split}
        return (args.tfds_name,
                lambda s: source.read(names[s] or source.default_split(s),
                                      args.max_train_rows if s == "train" else None),
                source.label_space(), source.has_text_b)
    columns = ColumnSpec(args.text_column, args.text_b_column, args.label_column)
    files = {"train": args.train_file, "eval": args.eval_file, "predict": args.predict_file}
    return (os.path.basename(args.train_file or args.eval_file or args.predict_file),
            lambda s: read_examples(files[s], columns, with_labels=s != "predict"),
            None, args.text_b_column is not None)


def load_task_data(args, need, saved_labels=None):
    """Reads the `need`ed splits ("train", "eval", "predict") and checks every label.

    Local files learn their labels from the training file (sorted); without
    one, `saved_labels` (the run's `labels.json`) is used. Raises DataError.
    """
    name, read, space, has_text_b = _reader(args)
    splits = {split: read(split) for split in need}
    if "train" in splits:
        splits["train"] = splits["train"].head(args.max_train_rows or None)
    if space is None:
        if "train" in splits:
            space = LabelSpace.learn(args.task_type, splits["train"], args.label_separator)
        elif saved_labels is not None:
            space = saved_labels
        else:
            raise DataError("No training data to learn the labels from, and no labels.json "
                            "in --output_dir or the --init_checkpoint folder.")
    if saved_labels is not None and (saved_labels.task_type, saved_labels.names) != (
            space.task_type, space.names):
        raise DataError(f"The labels {space.names} ({space.task_type}) differ from those of "
                        f"the run being continued: {saved_labels.names} "
                        f"({saved_labels.task_type}); use a new --output_dir.")
    labels = {s: space.encode(ex) for s, ex in splits.items() if s != "predict"}
    return TaskData(name, space, has_text_b, splits, labels)


class PeriodicEvaluator:
    """`Trainer.fit(on_execution=...)`: progress, then `evaluate(step)` when due.

    Due every `every` steps, at the end of each epoch (`steps_per_epoch`) and
    at the last step. `eval_seconds` sums the time spent evaluating.

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
            self.evaluate(step)
            self.eval_seconds += time.perf_counter() - start
