"""Examples for fine-tuning from local TSV, CSV or JSON-lines files, and their labels.

A split is an `Examples`: parallel Python lists of `text_a`, optional
`text_b` and labels (a name per row for classification, a list of names for
multi-label, a float for regression), with the file and row each came from so
that errors can name them.

Local files are read by extension: `.tsv` (tab-separated, no quoting, as
Google's `run_classifier.py` reads GLUE), `.csv` (RFC 4180 quoting) and
`.jsonl`/`.json` (one JSON object a line). TSV and CSV files start with a
header row; columns are named by header name or by 0-based index.

Example:

    spec = ColumnSpec(text="sentence", label="label")
    train = read_examples("train.tsv", spec)
    labels = LabelSpace.learn("classification", train)   # sorted label names
    ids = labels.encode(train)                            # int32 [n]
"""

import csv
import dataclasses
import json
import os
import sys
from typing import List, Optional

import numpy as np

TASK_TYPES = ("classification", "regression", "multilabel")
TABLE_EXTENSIONS = {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


class DataError(ValueError):
    """Bad input data; the message names the file, the row and the column."""


@dataclasses.dataclass
class Examples:
    """One split: `text_a [n]`, `text_b [n]` or None, `labels [n]` or None (unlabelled).

    `rows[i]` is the 1-based line number of example i in `source`, for errors.
    """

    text_a: List[str]
    text_b: Optional[List[str]]
    labels: Optional[list]
    source: str
    rows: List[int]
    label_column: str = "the label column"

    def __len__(self):
        return len(self.text_a)

    def head(self, n):
        """The first `n` examples (all when n is None or larger)."""
        if n is None or n >= len(self):
            return self
        cut = lambda values: None if values is None else values[:n]  # noqa: E731
        return dataclasses.replace(self, text_a=self.text_a[:n], text_b=cut(self.text_b),
                                   labels=cut(self.labels), rows=self.rows[:n])

    def where(self, i):
        """'file, row N' of example i, for error messages."""
        return f"{self.source}, row {self.rows[i]}"


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """Which columns hold the texts and the label (names or 0-based indices)."""

    text: str
    text_b: Optional[str] = None
    label: Optional[str] = "label"


def file_format(path):
    """'tsv', 'csv' or 'jsonl' from the extension; DataError otherwise."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in TABLE_EXTENSIONS:
        raise DataError(f"{path}: unknown file type {ext!r}; expected one of "
                        f"{sorted(TABLE_EXTENSIONS)}.")
    return TABLE_EXTENSIONS[ext]


def read_rows(path, fmt=None):
    """Yields `(line_number, row)`: a list of fields (tsv/csv) or a dict (jsonl).

    TSV/CSV yield the header row first. Raises DataError for a missing file or
    invalid JSON.
    """
    fmt = fmt or file_format(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file.")
    # Fields as long as a whole file (a long review) must not be refused.
    csv.field_size_limit(min(sys.maxsize, 2 ** 31 - 1))
    with open(path, encoding="utf-8", newline="") as f:
        if fmt == "jsonl":
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(f"{path}, row {number}: invalid JSON ({e}).") from None
                if not isinstance(row, dict):
                    raise DataError(f"{path}, row {number}: expected a JSON object, got "
                                    f"{type(row).__name__}.")
                yield number, row
            return
        options = {"delimiter": "\t", "quotechar": None} if fmt == "tsv" else {}
        reader = csv.reader(f, **options)
        for row in reader:
            yield reader.line_num, row


def _column_index(header, column, path, flag):
    if column in header:
        return header.index(column)
    if column.isdigit():
        return int(column)
    raise DataError(f"{path}: no column {column!r} (--{flag}); the header has {header}.")


def _field(row, index, name, path, number):
    if isinstance(row, dict):
        if index not in row or row[index] is None:
            raise DataError(f"{path}, row {number}: missing key {name!r}.")
        return row[index]
    if index >= len(row):
        raise DataError(f"{path}, row {number}: {len(row)} column(s), but column {name!r} "
                        f"is number {index} (0-based).")
    return row[index]


def read_examples(path, columns, with_labels=True):
    """Reads a local TSV/CSV/JSONL file into `Examples`.

    Args:
      path: the file; its extension picks the format.
      columns: a `ColumnSpec`.
      with_labels: False for prediction files (the label column may be absent).
    """
    fmt = file_format(path)
    rows = read_rows(path, fmt)
    names = {"text_column": columns.text, "text_b_column": columns.text_b}
    if with_labels:
        names["label_column"] = columns.label
    names = {flag: name for flag, name in names.items() if name is not None}
    if fmt == "jsonl":
        index = names
    else:
        header = next(rows, (0, None))[1]
        if not header:
            raise DataError(f"{path}: the file is empty (expected a header row).")
        index = {flag: _column_index(header, name, path, flag) for flag, name in names.items()}
    out = {flag: [] for flag in index}
    numbers = []
    for number, row in rows:
        if not isinstance(row, dict) and not row:
            continue  # a blank line
        for flag, i in index.items():
            value = _field(row, i, names[flag], path, number)
            if flag != "label_column" and not isinstance(value, str):
                raise DataError(f"{path}, row {number}: column {names[flag]!r} must be "
                                f"text, got {value!r}.")
            out[flag].append(value)
        numbers.append(number)
    if not numbers:
        raise DataError(f"{path}: the file has no examples.")
    return Examples(out["text_column"], out.get("text_b_column"), out.get("label_column"),
                    path, numbers, label_column=f"column {columns.label!r}")


class LabelSpace:
    """The labels of a task and their encoding.

    - "classification": `names` (sorted when learned); `encode` -> int32 `[n]`.
    - "multilabel": `names`; a row's labels are a list or a string split on
      `separator`; `encode` -> float32 multi-hot `[n, num_labels]`.
    - "regression": no names; `encode` -> float32 `[n]`.

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
