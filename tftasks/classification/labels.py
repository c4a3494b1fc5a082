"""`LabelSpace`: the labels of a classification, regression or multi-label task.

- "classification": `names` (sorted when learned); `encode` -> int32 `[n]`.
- "multilabel": `names`; a row's labels are a list or a string split on
  `separator`; `encode` -> float32 multi-hot `[n, num_labels]`.
- "regression": no names; `encode` -> float32 `[n]`.

Every label is checked: an unknown one is a `DataError` naming the file, row
and column, and where the known labels came from.

Example:

    space = LabelSpace.learn("classification", train)    # sorted label names
    space.encode(train)                                  # array([1, 0, ...], int32)
"""

import numpy as np

from tftasks.common.errors import DataError

TASK_TYPES = ("classification", "regression", "multilabel")


class LabelSpace:
    """The labels of a task and their encoding (see the module doc).

    Example:

        space = LabelSpace("classification", ["neg", "pos"])
        space.encode(examples)   # array([1, 0, ...], int32)
    """

    def __init__(self, task_type, names=(), separator=",", origin="learned in training"):
        if task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}.")
        self.task_type, self.names, self.separator = task_type, list(names), separator
        self.origin = origin
        if task_type != "regression" and not self.names:
            raise DataError("No labels: a classification task needs at least one label.")

    @property
    def num_labels(self):
        return 1 if self.task_type == "regression" else len(self.names)

    def _split(self, value):
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value]
        text = str(value).strip()
        return [v.strip() for v in text.split(self.separator) if v.strip()] if text else []

    @classmethod
    def learn(cls, task_type, examples, separator=","):
        """Labels seen in the training examples, sorted (no names for regression)."""
        if examples.labels is None:
            raise DataError(f"{examples.source}: no labels to learn from.")
        origin = f"learned from {examples.source}"
        if task_type == "regression":
            return cls(task_type, separator=separator, origin=origin)
        space = cls(task_type, ["?"], separator)
        seen = set()
        for value in examples.labels:
            if task_type == "multilabel":
                seen.update(space._split(value))
            else:
                seen.add(str(value).strip())
        return cls(task_type, sorted(seen), separator, origin)

    def encode(self, examples):
        """Label ids `[n]` (int32), multi-hot `[n, k]` or scores `[n]` (float32)."""
        if examples.labels is None:
            raise DataError(f"{examples.source}: the file has no labels.")
        where = examples.where
        column = examples.label_column
        if self.task_type == "regression":
            scores = []
            for i, value in enumerate(examples.labels):
                try:
                    scores.append(float(value))
                except (TypeError, ValueError):
                    raise DataError(f"{where(i)}: {column}: {value!r} is not a "
                                    "number (regression).") from None
            return np.asarray(scores, np.float32)
        index = {name: i for i, name in enumerate(self.names)}

        def lookup(i, name):
            if name not in index:
                raise DataError(f"{where(i)}: {column}: label {name!r} is not one of the "
                                f"labels {self.origin}: {self.names}.")
            return index[name]

        if self.task_type == "classification":
            return np.asarray([lookup(i, str(v).strip()) for i, v in
                               enumerate(examples.labels)], np.int32)
        hot = np.zeros([len(examples), len(self.names)], np.float32)
        for i, value in enumerate(examples.labels):
            for name in self._split(value):
                hot[i, lookup(i, name)] = 1.0
        return hot

    def to_json(self):
        return {"task_type": self.task_type, "labels": self.names,
                "label_separator": self.separator, "origin": self.origin}

    @classmethod
    def from_json(cls, obj):
        return cls(obj["task_type"], obj["labels"], obj.get("label_separator", ","),
                   obj.get("origin", "learned in training"))
