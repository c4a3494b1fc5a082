"""Early stopping: training ends after `patience` evaluations in a row without a better metric.

The rule reads the evaluation history (the entries of `eval_history.json`,
`dict(metrics, step=step)`), not a counter kept in memory, so a run that is
resumed or repeated from `output_dir` knows where the earlier one stood: a
rerun with the same patience finds the stop already reached and trains no
further; a larger patience (or 0: off) continues from the checkpoint of the
stopping step. "Better" is `tftasks.common.metrics.is_better` (strictly: a
tie with the best is no improvement), as `BestCheckpoint` decides what goes
to `best/`, so `best_step` is the step of `best/`.

Example:

    history = [{"step": 2, "accuracy": 0.6}, {"step": 4, "accuracy": 0.8},
               {"step": 6, "accuracy": 0.7}, {"step": 8, "accuracy": 0.8}]
    early_stopping_state(history, "accuracy", patience=2)
    # {"metric": "accuracy", "patience": 2, "best_step": 4, "stopped_at_step": 8}
"""

from tftasks.common.metrics import is_better


def early_stopping_state(entries, metric, patience):
    """Where the rule stands after the evaluations `entries` (any order).

    Returns `{"metric", "patience", "best_step", "stopped_at_step"}`:
    `stopped_at_step` is the step of the `patience`-th evaluation in a row
    without a better `metric` (None while training should go on, and
    always with `patience` 0); `best_step` the best evaluation before it
    (None without any). Entries without `metric` are skipped.
    """
    best, best_step, since = None, None, 0
    for entry in sorted(entries, key=lambda e: e["step"]):
        if metric not in entry:
            continue
        if is_better(metric, entry[metric], best):
            best, best_step, since = entry[metric], entry["step"], 0
            continue
        since += 1
        if patience and since >= patience:
            return {"metric": metric, "patience": patience, "best_step": best_step,
                    "stopped_at_step": entry["step"]}
    return {"metric": metric, "patience": patience, "best_step": best_step,
            "stopped_at_step": None}
