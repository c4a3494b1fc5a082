"""Metric helpers every task shares, in NumPy, over a whole split.

- `f1_score(tp, fp, fn)`: F1 from counts (0 when undefined);
- `matthews_corrcoef`: Gorodkin's multi-class R_K (the usual MCC for two
  classes);
- `pearson`, `ranks` (average ranks for ties; Spearman is the Pearson of
  the ranks);
- `is_better`: the direction of a metric (losses: lower is better).

Example:

    f1_score(8, 2, 0)                          # 0.888...
    pearson(ranks(scores), ranks(targets))     # Spearman's rho
    is_better("loss", 0.3, best=0.4)           # True
"""

import numpy as np

LOWER_IS_BETTER = ("loss", "mean_squared_error")


def f1_score(tp, fp, fn):
    """2 tp / (2 tp + fp + fn); 0.0 when there is nothing to count."""
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def matthews_corrcoef(predicted, actual, num_labels):
    """Gorodkin's R_K of int label ids `[n]` from the confusion matrix; 0 when undefined."""
    confusion = np.zeros([num_labels, num_labels], np.float64)
    np.add.at(confusion, (actual, predicted), 1)
    t, p = confusion.sum(axis=1), confusion.sum(axis=0)
    correct, total = np.trace(confusion), confusion.sum()
    denominator = np.sqrt((total ** 2 - p @ p) * (total ** 2 - t @ t))
    return float((correct * total - t @ p) / denominator) if denominator else 0.0


def ranks(values):
    """Ranks 1..n of float `[n]` with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    result = np.empty(len(values), np.float64)
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            result[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return result


def pearson(x, y):
    """Pearson correlation of float64 `[n]` and `[n]`; 0.0 when a side is constant."""
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / denominator) if denominator else 0.0


def is_better(metric, value, best):
    """True if `value` of `metric` beats `best` (None: nothing yet)."""
    if best is None:
        return True
    return value < best if metric in LOWER_IS_BETTER else value > best
