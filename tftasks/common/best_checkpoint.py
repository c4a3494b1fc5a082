"""`BestCheckpoint`: a folder holding the weights of the best evaluation so far.

`best/` is written by the task's `save(folder)` (for BERT tasks
`save_pretrained`: Google's layout `bert_config.json`, `bert_model.ckpt.*`,
`vocab.txt`, plus the task's `labels.json`) and `best.json` (step, metric,
value, metrics). A better evaluation replaces the folder atomically;
`recover` finishes a replacement that a killed run left halfway.

Example:

    best = BestCheckpoint("out/best", "accuracy")
    best.recover()                                   # chief, before training
    best.offer(625, {"accuracy": 0.91}, lambda folder: model.save_pretrained(folder, vocab))
    best.state["step"]                               # 625
"""

import glob
import json
import os
import shutil
import tempfile

from tfcore.io import publish_permissions, write_json_atomically
from tftasks.common.metrics import is_better

BEST_JSON = "best.json"
_STAGING_PREFIX = ".tmp-best-"


class BestCheckpoint:
    """Keeps `folder` holding the weights of the best evaluation by `metric`.

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

    def offer(self, step, metrics, save):
        """Keeps the weights if `metrics[metric]` beats the best so far; True if so.

        `save(folder)` writes the weights (and the task's files) into a staging
        folder that then replaces `folder`.
        """
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
            save(staged)
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
