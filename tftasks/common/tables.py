"""Local TSV, CSV and JSON-lines files read into `Examples`.

Files are read by extension: `.tsv` (tab-separated, no quoting, as Google's
`run_classifier.py` reads GLUE), `.csv` (RFC 4180 quoting) and
`.jsonl`/`.json` (one JSON object a line). TSV and CSV files start with a
header row; columns are named by header name or by 0-based index. Every
error is a `DataError` naming the file, the row and the column (as its flag).

Example:

    spec = ColumnSpec(text="sentence", label="label")
    train = read_examples("train.tsv", spec)       # Examples
    train.text_a[0], train.labels[0]
"""

import csv
import dataclasses
import json
import os
import sys
from typing import Optional

from tftasks.common.errors import DataError
from tftasks.common.examples import Examples

TABLE_EXTENSIONS = {".tsv": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


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


def column_index(header, column, path, flag):
    """The index of `column` (a header name or a 0-based index) in `header`."""
    if column in header:
        return header.index(column)
    if column.isdigit():
        return int(column)
    raise DataError(f"{path}: no column {column!r} (--{flag}); the header has {header}.")


def field(row, index, name, path, number):
    """`row[index]` (a list's index or a dict's key); DataError naming the row if absent."""
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
        index = {flag: column_index(header, name, path, flag) for flag, name in names.items()}
    out = {flag: [] for flag in index}
    numbers = []
    for number, row in rows:
        if not isinstance(row, dict) and not row:
            continue  # a blank line
        for flag, i in index.items():
            value = field(row, i, names[flag], path, number)
            if flag != "label_column" and not isinstance(value, str):
                raise DataError(f"{path}, row {number}: column {names[flag]!r} must be "
                                f"text, got {value!r}.")
            out[flag].append(value)
        numbers.append(number)
    if not numbers:
        raise DataError(f"{path}: the file has no examples.")
    return Examples(out["text_column"], out.get("text_b_column"), out.get("label_column"),
                    path, numbers, label_column=f"column {columns.label!r}")
