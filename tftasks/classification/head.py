"""The classifier head a run keeps: its labels and pooling, in `labels.json`.

`labels.json` (in `output_dir`, in `best/` and in a folder to start from)
holds the `LabelSpace` and the head's pooling, so that a rerun, an
evaluation-only run and the export use the labels and pooling of training.

Pooling: Google's "pooler" ([CLS] through the pooler dense layer) or "mean"
(the mean of the token vectors); "auto" picks "mean" for a
sentence-transformers folder whose `1_Pooling/config.json` declares mean
pooling (its BERT pooler is untrained), else "pooler".

Example:

    write_head("out", label_space, "mean")
    space, pooling = read_head("out")               # (LabelSpace, "mean") or (None, None)
    resolve_pooling("auto", "all-MiniLM-L6-v2")     # "mean"
"""

import json
import os

from tftasks.classification.labels import LabelSpace
from tftasks.common.model_files import checkpoint_folder
from tftasks.common.outputs import read_labels, write_labels


def write_head(folder, label_space, pooling="pooler"):
    """`folder/labels.json`: the label space and the head's pooling."""
    write_labels(folder, label_space, pooling=pooling)


def read_head(folder):
    """`(LabelSpace, pooling)` saved in `folder/labels.json`, or `(None, None)`."""
    saved = read_labels(folder)
    if saved is None:
        return None, None
    return LabelSpace.from_json(saved), saved.get("pooling", "pooler")


def resolve_pooling(flag, init_checkpoint, saved=None):
    """The head's pooling: the flag, else the run's saved choice, else the checkpoint's.

    ValueError if the flag contradicts the run being continued.
    """
    if flag != "auto":
        if saved and saved != flag:
            raise ValueError(f"--pooling={flag}, but the run being continued used {saved}.")
        return flag
    if saved:
        return saved
    if init_checkpoint:
        path = os.path.join(checkpoint_folder(init_checkpoint), "1_Pooling", "config.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                modes = json.load(f)
            if modes.get("pooling_mode_mean_tokens") and not modes.get("pooling_mode_cls_token"):
                return "mean"
    return "pooler"
