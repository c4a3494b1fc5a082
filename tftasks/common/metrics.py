"""Metric helpers every task shares, in NumPy, over a whole split.

- `f1_score(tp, fp, fn)`: F1 from counts (0 when undefined);
- `matthews_corrcoef`: Gorodkin's multi-class R_K (the usual MCC for two
  classes);
- `pearson`, `ranks` (average ranks for ties; Spearman is the Pearson of
  the ranks);
- `roc_auc`, `average_precision` (PR-AUC) of scores against binary
  targets, as scikit-learn's `roc_auc_score` and `average_precision_score`
  compute them (tied scores form one threshold); `macro_average` of either
  over the labels (columns) that have both classes;
- `is_better`: the direction of a metric (losses: lower is better).

Example:

    f1_score(8, 2, 0)                          # 0.888...
    pearson(ranks(scores), ranks(targets))     # Spearman's rho
    roc_auc(np.array([0.9, 0.4, 0.4]), np.array([True, True, False]))  # 0.75
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


def _counts_at_thresholds(scores, is_positive):
    """Cumulative true and false positives `[t]` at each distinct score, highest first."""
    order = np.argsort(-np.asarray(scores, np.float64), kind="mergesort")
    sorted_scores = np.asarray(scores, np.float64)[order]
    positive = np.asarray(is_positive, bool)[order]
    # The last example of each group of tied scores: a threshold takes the whole group.
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    tp = np.cumsum(positive, dtype=np.float64)[last]
    return tp, (last + 1) - tp


def roc_auc(scores, is_positive):
    """Area under the ROC curve of float `[n]` scores for bool `[n]` targets.

    The trapezoid over the distinct thresholds (scikit-learn's
    `roc_auc_score`): the probability that a random positive scores above a
    random negative, ties counting 1/2. None when a class is absent.
    """
    if len(scores) == 0:
        return None
    tp, fp = _counts_at_thresholds(scores, is_positive)
    if tp[-1] == 0 or fp[-1] == 0:
        return None
    tpr, fpr = np.r_[0.0, tp] / tp[-1], np.r_[0.0, fp] / fp[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def average_precision(scores, is_positive):
    """PR-AUC of float `[n]` scores for bool `[n]` targets: sum_t (R_t - R_t-1) P_t.

    Over the distinct thresholds t from the highest score down, without
    interpolation (scikit-learn's `average_precision_score`). None when
    there is no positive.
    """
    if len(scores) == 0:
        return None
    tp, fp = _counts_at_thresholds(scores, is_positive)
    if tp[-1] == 0:
        return None
    recall, precision = tp / tp[-1], tp / (tp + fp)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def macro_average(metric, scores, targets):
    """Mean of `metric(scores[:, j], targets[:, j])` over the labels j with both classes.

    `scores` float `[n, k]`, `targets` bool `[n, k]`. A label whose targets
    are all true or all false is skipped; None when no label is left.
    """
    targets = np.asarray(targets, bool)
    both = np.flatnonzero(targets.any(axis=0) & ~targets.all(axis=0))
    if len(both) == 0:
        return None
    return float(np.mean([metric(scores[:, j], targets[:, j]) for j in both]))


def is_better(metric, value, best):
    """True if `value` of `metric` beats `best` (None: nothing yet)."""
    if best is None:
        return True
    return value < best if metric in LOWER_IS_BETTER else value > best
