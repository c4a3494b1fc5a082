"""GLUE and XNLI tasks in Google's folder layout (`--task_name`, `--data_dir`).

Files and columns follow google-research/bert `run_classifier.py` for its
four processors (cola, mnli, mrpc, xnli) and the GLUE distribution's TSV
files for the others; files are tab-separated without quoting:

| task  | train / dev / test files                    | text_a, text_b, label (0-based)   |
|-------|---------------------------------------------|-----------------------------------|
| cola  | train.tsv, dev.tsv (no header); test.tsv    | 3, -, 1; test: 1                  |
| mnli  | train.tsv, dev_matched.tsv, test_matched.tsv| 8, 9, last; test: 8, 9            |
| mrpc  | train.tsv, dev.tsv, test.tsv                | 3, 4, 0                           |
| xnli  | multinli/multinli.train.LANG.tsv; xnli.dev.tsv, xnli.test.tsv | train 0, 1, 2; dev/test 6, 7, 1 |
| sst-2 | train.tsv, dev.tsv; test.tsv                | 0, -, 1; test: 1                  |
| qnli  | train.tsv, dev.tsv, test.tsv                | 1, 2, 3                           |
| qqp   | train.tsv, dev.tsv; test.tsv                | 3, 4, 5; test: 1, 2               |
| rte / wnli | train.tsv, dev.tsv, test.tsv           | 1, 2, 3                           |
| sts-b | train.tsv, dev.tsv, test.tsv                | 7, 8, 9 (a score: regression)     |

XNLI, as Google reads it: training is the machine-translated MultiNLI file
`multinli/multinli.train.<language>.tsv` (header skipped; "contradictory"
read as "contradiction"); evaluation is `xnli.dev.tsv` keeping the rows whose
first column is the language (`--xnli_language`, Google's fixed "zh").
Google has no XNLI test reader; ours reads `xnli.test.tsv` like the dev file.
QQP's training file has a few rows with missing fields: they are skipped
with a warning (as other GLUE readers do); every other task refuses them.

Headers are checked against GLUE's column names, so a `--task_name` that
does not match the folder stops with an error naming the file.

Example:

    task = glue_task("mrpc")
    train = task.read("glue_data/MRPC", "train")   # Examples
    labels = task.label_space()                     # LabelSpace, fixed labels
"""

import dataclasses
import os
from typing import Optional, Tuple

from absl import logging

from tftasks.classification.labels import LabelSpace
from tftasks.common.errors import DataError
from tftasks.common.examples import Examples
from tftasks.common.tables import field, read_rows

NLI_LABELS = ("contradiction", "entailment", "neutral")
BINARY = ("0", "1")
ENTAILMENT = ("entailment", "not_entailment")


@dataclasses.dataclass(frozen=True)
class Split:
    """One file of a task: column indices; `header`: None (no header row) or the
    `(index, name)` pairs its header must have; `language`: column filtered to
    the XNLI language."""

    file: str
    text_a: int
    text_b: Optional[int] = None
    label: Optional[int] = None
    header: Optional[Tuple[Tuple[int, str], ...]] = ()
    language: Optional[int] = None


def _pair(train, dev, test, a, b, label, header, test_columns=None, test_header=None):
    ta, tb = test_columns or (a, b)
    return {"train": Split(train, a, b, label, header), "dev": Split(dev, a, b, label, header),
            "test": Split(test, ta, tb, None, test_header or header)}


@dataclasses.dataclass(frozen=True)
class GlueTask:
    """A task: its labels (None for regression), splits and reading rules."""

    name: str
    labels: Optional[Tuple[str, ...]]
    splits: dict
    skip_malformed: bool = False
    label_aliases: Tuple[Tuple[str, str], ...] = ()

    @property
    def task_type(self):
        return "regression" if self.labels is None else "classification"

    @property
    def has_text_b(self):
        return self.splits["train"].text_b is not None

    def label_space(self):
        return LabelSpace(self.task_type, self.labels or (),
                          origin=f"of GLUE task {self.name!r}")

    def path(self, data_dir, split, language="zh"):
        return os.path.join(data_dir, self.splits[split].file.format(language=language))

    def read(self, data_dir, split, language="zh"):
        """Reads split "train", "dev" or "test" under `data_dir` into `Examples`."""
        spec = self.splits[split]
        path = self.path(data_dir, split, language)
        hint = f"is --task_name={self.name} right for --data_dir={data_dir}?"
        if not os.path.isfile(path):
            found = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else "no such folder"
            raise DataError(f"{path}: not found; task {self.name!r} reads "
                            f"{spec.file!r} there (found: {found}); {hint}")
        rows = read_rows(path, "tsv")
        if spec.header is not None:
            _check_header(next(rows, (1, []))[1], spec.header, path, hint)
        columns = {"text_a": spec.text_a, "text_b": spec.text_b, "label": spec.label}
        columns = {k: v for k, v in columns.items() if v is not None}
        out, numbers, skipped = {k: [] for k in columns}, [], []
        aliases = dict(self.label_aliases)
        for number, row in rows:
            if not row:
                continue
            if spec.language is not None and field(row, spec.language, "language", path,
                                                   number) != language:
                continue
            try:
                values = {k: field(row, i if i >= 0 else len(row) + i, f"{k} (column {i})",
                                   path, number) for k, i in columns.items()}
            except DataError as e:
                if not self.skip_malformed:
                    raise DataError(f"{e} {hint}") from None
                skipped.append(number)
                continue
            if "label" in values:
                values["label"] = aliases.get(values["label"], values["label"])
            for k, v in values.items():
                out[k].append(v)
            numbers.append(number)
        if skipped:
            logging.warning("%s: skipped %d malformed row(s), e.g. row %d.", path,
                            len(skipped), skipped[0])
        if not numbers:
            raise DataError(f"{path}: no examples" + (f" for language {language!r}"
                                                      if spec.language is not None else "")
                            + f"; {hint}")
        return Examples(out["text_a"], out.get("text_b"), out.get("label"), path, numbers,
                        label_column=f"column {spec.label}")


def _check_header(header, expected, path, hint):
    for index, name in expected:
        found = header[index] if index < len(header) else None
        if found != name:
            raise DataError(f"{path}: header column {index} is {found!r}, expected {name!r} "
                            f"(header: {header[:12]}); {hint}")


def _tasks():
    mnli_header = ((8, "sentence1"), (9, "sentence2"))
    xnli_eval = Split("xnli.dev.tsv", 6, 7, 1,
                      ((0, "language"), (6, "sentence1"), (7, "sentence2")), language=0)
    sentence_pairs = ((1, "sentence1"), (2, "sentence2"))
    tasks = [
        GlueTask("cola", BINARY, {"train": Split("train.tsv", 3, None, 1, None),
                                  "dev": Split("dev.tsv", 3, None, 1, None),
                                  "test": Split("test.tsv", 1, header=((1, "sentence"),))}),
        GlueTask("mnli", NLI_LABELS, _pair("train.tsv", "dev_matched.tsv", "test_matched.tsv",
                                           8, 9, -1, mnli_header)),
        GlueTask("mrpc", BINARY, _pair("train.tsv", "dev.tsv", "test.tsv", 3, 4, 0,
                                       ((3, "#1 String"), (4, "#2 String")))),
        GlueTask("xnli", NLI_LABELS,
                 {"train": Split("multinli/multinli.train.{language}.tsv", 0, 1, 2),
                  "dev": xnli_eval,
                  "test": dataclasses.replace(xnli_eval, file="xnli.test.tsv")},
                 label_aliases=(("contradictory", "contradiction"),)),
        GlueTask("sst-2", BINARY, _pair("train.tsv", "dev.tsv", "test.tsv", 0, None, 1,
                                        ((0, "sentence"),), (1, None), ((1, "sentence"),))),
        GlueTask("qnli", ENTAILMENT, _pair("train.tsv", "dev.tsv", "test.tsv", 1, 2, 3,
                                           ((1, "question"), (2, "sentence")))),
        GlueTask("qqp", BINARY, _pair("train.tsv", "dev.tsv", "test.tsv", 3, 4, 5,
                                      ((3, "question1"), (4, "question2")), (1, 2),
                                      ((1, "question1"), (2, "question2"))),
                 skip_malformed=True),
        GlueTask("rte", ENTAILMENT, _pair("train.tsv", "dev.tsv", "test.tsv", 1, 2, 3,
                                          sentence_pairs)),
        GlueTask("wnli", BINARY, _pair("train.tsv", "dev.tsv", "test.tsv", 1, 2, 3,
                                       sentence_pairs)),
        GlueTask("sts-b", None, _pair("train.tsv", "dev.tsv", "test.tsv", 7, 8, 9,
                                      ((7, "sentence1"), (8, "sentence2")))),
    ]
    return {t.name: t for t in tasks}


GLUE_TASKS = _tasks()
ALIASES = {"sst2": "sst-2", "stsb": "sts-b", "mnli_matched": "mnli"}


def glue_task(name):
    """The task called `name` (case-insensitive; "sst2"/"stsb" also accepted)."""
    key = name.lower()
    key = ALIASES.get(key, key)
    if key not in GLUE_TASKS:
        raise KeyError(f"Unknown --task_name {name!r}; known: {sorted(GLUE_TASKS)}.")
    return GLUE_TASKS[key]
