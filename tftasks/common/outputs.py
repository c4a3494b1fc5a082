"""Result files of a fine-tuning run, in Google's formats, and `labels.json`.

- `eval_results.txt`: "key = value" lines, keys sorted, as Google's
  `run_classifier.py` writes them (`eval_accuracy`, `eval_loss`,
  `global_step`, `loss`, and here every other metric as `eval_<name>`).
- `test_results.tsv`: one row per predicted example, no header, the values
  tab-separated (class probabilities in label order in Google's format; a
  score for regression, the sigmoid per label for multi-label).
- `labels.json`: a task's label space (its `to_json()`) and the settings of
  its head, so that a rerun, `best/` and evaluation-only runs agree.

Every file is written atomically (`tfcore.io`).

Example:

    write_eval_results("out/eval_results.txt", {"accuracy": 0.91, "loss": 0.3}, 625)
    write_test_results("out/test_results.tsv", probabilities)   # float [n, k] or [n]
    write_labels("out", label_space, pooling="mean"); read_labels("out")["pooling"]
"""

import json
import os

from tfcore.io import write_json_atomically, write_text_atomically

LABELS_JSON = "labels.json"


def write_eval_results(path, metrics, global_step):
    """Google's eval_results.txt: `eval_<metric> = value`, `global_step`, `loss` (if any)."""
    result = {f"eval_{k}": v for k, v in metrics.items()}
    result["global_step"] = int(global_step)
    if metrics.get("loss") is not None:
        result["loss"] = metrics["loss"]
    write_text_atomically(path, "".join(f"{k} = {result[k]}\n" for k in sorted(result)))


def read_eval_results(path):
    """Parses an eval_results.txt back into a dict of floats."""
    with open(path, encoding="utf-8") as f:
        pairs = (line.rstrip("\n").split(" = ", 1) for line in f if " = " in line)
        return {k: float(v) for k, v in pairs}


def write_test_results(path, values):
    """Google's test_results.tsv: per row, the values `[n, k]` (or scores `[n]`)."""
    lines = []
    for row in values:
        row = row if hasattr(row, "__len__") else [row]
        lines.append("\t".join(str(float(v)) for v in row) + "\n")
    write_text_atomically(path, "".join(lines))


def write_labels(folder, label_space, **head):
    """`folder/labels.json`: `label_space.to_json()` plus the head's settings (`head`)."""
    write_json_atomically(os.path.join(folder, LABELS_JSON), dict(label_space.to_json(), **head))


def read_labels(folder):
    """The dict saved in `folder/labels.json`, or None when there is none."""
    path = os.path.join(folder, LABELS_JSON)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)
