"""`metrics.json`: the results of a run, merged over an earlier run's.

Sections of an earlier `metrics.json` that this run did not produce (the
`train` figures of a rerun with nothing left to train, or of a run that
only evaluates or predicts) are kept: they describe the training of the
weights this run used. `eval`/`predict` are never kept: after more training
they would describe older weights. `early_stopping` is kept when `train`
is (a run that trained again without early stopping drops it).

Example:

    results = merged_results("out/metrics.json", {"eval": {...}, "files": {...}})
    write_json_atomically("out/metrics.json", results)
"""

import json
import os

from absl import logging

# metrics.json sections a run without them keeps from the earlier metrics.json.
KEPT_SECTIONS = ("train", "eval_history")
# Sections about the training: kept only with the earlier `train` figures they go with.
TRAINING_SECTIONS = ("early_stopping",)


def merged_results(path, results):
    """`results` over the earlier metrics.json at `path` (if any), for a rerun.

    A section in KEPT_SECTIONS that this run did not produce is the earlier
    run's. An unreadable earlier file is replaced (with a warning).
    """
    if not os.path.exists(path):
        return results
    try:
        with open(path, encoding="utf-8") as f:
            earlier = json.load(f)
    except (OSError, ValueError) as e:
        logging.warning("%s: not read (%s); it is replaced by this run's results.", path, e)
        return results
    if not isinstance(earlier, dict):
        return results
    merged = dict(results)
    kept = KEPT_SECTIONS + (TRAINING_SECTIONS if "train" not in results else ())
    for section in kept:
        if section not in merged and section in earlier:
            merged[section] = earlier[section]
    return merged
