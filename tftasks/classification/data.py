"""The splits of a classification run, from its one data source, with their labels.

The source is a GLUE/XNLI folder (`task_name`, `data_dir`), a TFDS dataset
(`tfds_name`, ...) or local files (`train_file`, `eval_file`,
`predict_file` with `text_column`, `text_b_column`, `label_column`). Local
files learn their labels from the training file (sorted); every label of
every split is checked before training.

Example:

    data = load_task_data(config, need=("train", "eval"))
    data.label_space.names, len(data.splits["train"]), data.labels["eval"]
"""

import dataclasses
import os

from tftasks.classification.glue import glue_task
from tftasks.classification.labels import LabelSpace
from tftasks.classification.tfds_source import TfdsSource
from tftasks.common.errors import DataError
from tftasks.common.tables import ColumnSpec, read_examples

GLUE_SPLITS = {"train": "train", "eval": "dev", "predict": "test"}


@dataclasses.dataclass
class TaskData:
    """The splits read (`splits[name]`: Examples), their encoded labels and the labels.

    `labels[split]`: int32 `[n]`, float32 `[n]` or multi-hot float32 `[n, k]`
    (`LabelSpace.encode`) for "train" and "eval".
    """

    name: str
    label_space: LabelSpace
    has_text_b: bool
    splits: dict
    labels: dict


def _split_keys(text):
    return [k.strip() for k in text.split(",") if k.strip()] if text else None


def _reader(config):
    """`(name, read(split), label_space or None, has_text_b)` for the data source."""
    c = config
    if c.task_name:
        task = glue_task(c.task_name)
        return (task.name, lambda s: task.read(c.data_dir, GLUE_SPLITS[s], c.xnli_language),
                task.label_space(), task.has_text_b)
    if c.tfds_name:
        source = TfdsSource(c.tfds_name, c.tfds_data_dir, _split_keys(c.tfds_text_keys),
                            c.tfds_label_key)
        names = {"train": c.tfds_train_split, "eval": c.tfds_eval_split,
                 "predict": c.tfds_predict_split}
        return (c.tfds_name,
                lambda s: source.read(names[s] or source.default_split(s),
                                      c.max_train_rows if s == "train" else None),
                source.label_space(), source.has_text_b)
    columns = ColumnSpec(c.text_column, c.text_b_column, c.label_column)
    files = {"train": c.train_file, "eval": c.eval_file, "predict": c.predict_file}
    return (os.path.basename(c.train_file or c.eval_file or c.predict_file),
            lambda s: read_examples(files[s], columns, with_labels=s != "predict"),
            None, c.text_b_column is not None)


def load_task_data(config, need, saved_labels=None):
    """Reads the `need`ed splits ("train", "eval", "predict") and checks every label.

    Args:
      config: a `ClassifierConfig` (or anything with its field names).
      need: the splits to read.
      saved_labels: the `LabelSpace` of the run being continued (`labels.json`),
        used when there is no training file to learn the labels from.
    Raises DataError.
    """
    name, read, space, has_text_b = _reader(config)
    splits = {split: read(split) for split in need}
    if "train" in splits:
        splits["train"] = splits["train"].head(config.max_train_rows or None)
    if space is None:
        if "train" in splits:
            space = LabelSpace.learn(config.task_type or "classification", splits["train"],
                                     config.label_separator)
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
