"""Files `run_classifier.py` writes: Google's result files and the best checkpoint.

- `eval_results.txt`: "key = value" lines, keys sorted, as Google's
  `run_classifier.py` writes them (`eval_accuracy`, `eval_loss`,
  `global_step`, `loss`, and here every other metric as `eval_<name>`).
- `test_results.tsv`: one row per predicted example, no header, the class
  probabilities tab-separated in label order (Google's format); the score for
  regression, the sigmoid per label for multi-label.
- `best/`: the best checkpoint by the evaluation metric, written by
  `save_pretrained` (Google's layout: `bert_config.json`, `bert_model.ckpt.*`,
  `vocab.txt`) plus `labels.json` and `best.json` (step, metric, metrics);
  replaced atomically when a better evaluation arrives (`recover` finishes a
  replacement that a killed run left halfway).

Example:

    write_eval_results("out/eval_results.txt", {"accuracy": 0.91, "loss": 0.3}, 625)
    best = BestCheckpoint("out/best", "accuracy")
    best.offer(625, {"accuracy": 0.91}, model, vocab_file, label_space)
"""

import glob
import json
import os
import shutil
import tempfile

from tfbert.classifier_metrics import is_better
from tfcore.io import publish_permissions, write_json_atomically, write_text_atomically

BEST_JSON, LABELS_JSON = "best.json", "labels.json"
_STAGING_PREFIX = ".tmp-best-"


def write_eval_results(path, metrics, global_step):
    """Google's eval_results.txt: `eval_<metric> = value`, `global_step`, `loss`."""
    result = {f"eval_{k}": v for k, v in metrics.items()}
    result.update(global_step=int(global_step), loss=metrics.get("loss"))
    write_text_atomically(path, "".join(f"{k} = {result[k]}\n" for k in sorted(result)))


def read_eval_results(path):
    """Parses an eval_results.txt back into a dict of floats."""
    with open(path, encoding="utf-8") as f:
        pairs = (line.rstrip("\n").split(" = ", 1) for line in f if " = " in line)
        return {k: float(v) for k, v in pairs}


def write_test_results(path, probabilities):
    """Google's test_results.tsv: per row, probabilities `[n, k]` (or scores `[n]`)."""
    lines = []
    for row in probabilities:
        values = row if hasattr(row, "__len__") else [row]
        lines.append("\t".join(str(float(v)) for v in values) + "\n")
    write_text_atomically(path, "".join(lines))


def write_labels(folder, label_space, pooling="pooler"):
    """`labels.json`: the label space and the head's pooling (see `read_head`)."""
    write_json_atomically(os.path.join(folder, LABELS_JSON),
                          dict(label_space.to_json(), pooling=pooling))


def read_head(folder):
    """`(LabelSpace, pooling)` saved in `folder/labels.json`, or `(None, None)`."""
    from tfbert.classifier_data import LabelSpace
    path = os.path.join(folder, LABELS_JSON)
    if not os.path.exists(path):
        return None, None
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    return LabelSpace.from_json(saved), saved.get("pooling", "pooler")


class BestCheckpoint:
    """Keeps `folder` holding the weights of the best evaluation so far.

    The state survives restarts: `best.json` in the folder is read back.
    """

    def __init__(self, folder, metric):
        self.folder, self.metric = folder, metric
        self.state = None
        path = os.path.join(folder, BEST_JSON)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.state = json.load(f)

    @property
    def exists(self):
        return self.state is not None

    def recover(self):
        """Cleans up after a run killed inside `offer`; call before training (chief only).

        `offer` stages the new best in `<parent>/.tmp-best-*/best` (complete once
        its best.json is written), moves the old folder to `.tmp-best-*/old`,
        then the new one into place. Killed between those two renames, the
        folder is missing: the staged copy (else the old one) is put back.
        Staging folders are then deleted.
        """
        parent = os.path.dirname(os.path.abspath(self.folder))
        leftovers = sorted(glob.glob(os.path.join(parent, _STAGING_PREFIX + "*")),
                           key=os.path.getmtime, reverse=True)
        candidates = [os.path.join(tmp, name) for tmp in leftovers for name in ("best", "old")]
        complete = [c for c in candidates if os.path.isfile(os.path.join(c, BEST_JSON))]
        if not os.path.exists(self.folder) and complete:
            os.replace(complete[0], self.folder)
            publish_permissions(self.folder)  # a staged copy the kill left unpublished
            with open(os.path.join(self.folder, BEST_JSON), encoding="utf-8") as f:
                self.state = json.load(f)
        for tmp in leftovers:
            shutil.rmtree(tmp, ignore_errors=True)

    def is_better(self, value):
        if self.state is None or self.state["metric"] != self.metric:
            return True
        return is_better(self.metric, value, self.state["value"])

    def offer(self, step, metrics, model, vocab_file, label_space):
        """Saves `model` if `metrics[metric]` beats the best so far; returns True if so."""
        value = metrics[self.metric]
        if not self.is_better(value):
            return False
        state = {"step": int(step), "metric": self.metric, "value": value, "metrics": metrics}
        parent = os.path.dirname(os.path.abspath(self.folder))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=parent)
        old = None
        try:
            staged = os.path.join(tmp, "best")
            model.save_pretrained(staged, vocab_file)
            write_labels(staged, label_space, model.pooling)
            write_json_atomically(os.path.join(staged, BEST_JSON), state)
            if os.path.exists(self.folder):
                old = os.path.join(tmp, "old")
                os.replace(self.folder, old)
            publish_permissions(staged)
            os.replace(staged, self.folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.state = state
        return True
