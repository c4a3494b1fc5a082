"""Evaluation metrics of fine-tuned classifiers, in NumPy, over a whole split.

- classification: `accuracy`, `f1` (binary tasks: label index 1 is the
  positive class, e.g. "1" or, sorted, "pos"), `macro_f1`,
  `matthews_corrcoef` (Gorodkin's multi-class form; the usual MCC for two
  classes), `loss` (mean cross-entropy);
- regression: `pearson`, `spearman` (average ranks for ties),
  `mean_squared_error` (= `loss`);
- multilabel: `micro_f1`, `macro_f1`, `subset_accuracy` (all labels right),
  `accuracy` (per label), `loss` (mean binary cross-entropy).

Example:

    metrics = compute_metrics("classification", logits, label_ids)
    metrics["accuracy"], metrics["matthews_corrcoef"]
"""

import numpy as np

# Which metric picks the best checkpoint when --best_metric is not given.
DEFAULT_BEST_METRIC = {"classification": "accuracy", "regression": "pearson",
                       "multilabel": "micro_f1"}
LOWER_IS_BETTER = ("loss", "mean_squared_error")
METRIC_NAMES = {
    "classification": ("accuracy", "f1", "macro_f1", "matthews_corrcoef", "loss"),
    "regression": ("pearson", "spearman", "mean_squared_error", "loss"),
    "multilabel": ("micro_f1", "macro_f1", "subset_accuracy", "accuracy", "loss"),
}


def probabilities(task_type, logits):
    """Logits `[n, k]` -> softmax `[n, k]`, sigmoid `[n, k]` or the score `[n]`."""
    logits = np.asarray(logits, np.float64)
    if task_type == "regression":
        return logits.reshape(-1)
    if task_type == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _f1(tp, fp, fn):
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def matthews_corrcoef(predicted, actual, num_labels):
    """Gorodkin's R_K from the confusion matrix; 0 when undefined."""
    confusion = np.zeros([num_labels, num_labels], np.float64)
    np.add.at(confusion, (actual, predicted), 1)
    t, p = confusion.sum(axis=1), confusion.sum(axis=0)
    correct, total = np.trace(confusion), confusion.sum()
    denominator = np.sqrt((total ** 2 - p @ p) * (total ** 2 - t @ t))
    return float((correct * total - t @ p) / denominator) if denominator else 0.0


def classification_metrics(logits, label_ids):
    """Logits `[n, k]`, label ids `[n]` -> dict of floats (see module doc)."""
    logits = np.asarray(logits, np.float64)
    label_ids = np.asarray(label_ids, np.int64)
    num_labels = logits.shape[1]
    predicted = logits.argmax(axis=1)
    log_probs = np.log(np.maximum(probabilities("classification", logits), 1e-300))
    f1s = [_f1(np.sum((predicted == c) & (label_ids == c)),
               np.sum((predicted == c) & (label_ids != c)),
               np.sum((predicted != c) & (label_ids == c))) for c in range(num_labels)]
    metrics = {"accuracy": float(np.mean(predicted == label_ids)),
               "macro_f1": float(np.mean(f1s)),
               "matthews_corrcoef": matthews_corrcoef(predicted, label_ids, num_labels),
               "loss": float(-np.mean(log_probs[np.arange(len(label_ids)), label_ids]))}
    if num_labels == 2:
        metrics["f1"] = float(f1s[1])
    return metrics


def _ranks(values):
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), np.float64)
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return ranks


def _pearson(x, y):
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(x @ y / denominator) if denominator else 0.0


def regression_metrics(scores, targets):
    """Predicted scores `[n]` (or `[n, 1]`), targets `[n]` -> dict of floats."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    targets = np.asarray(targets, np.float64).reshape(-1)
    mse = float(np.mean((scores - targets) ** 2))
    return {"pearson": _pearson(scores, targets),
            "spearman": _pearson(_ranks(scores), _ranks(targets)),
            "mean_squared_error": mse, "loss": mse}


def multilabel_metrics(logits, multi_hot):
    """Logits `[n, k]`, multi-hot targets `[n, k]` -> dict of floats."""
    logits = np.asarray(logits, np.float64)
    targets = np.asarray(multi_hot, np.float64) > 0.5
    predicted = logits > 0.0
    tp = np.sum(predicted & targets, axis=0)
    fp = np.sum(predicted & ~targets, axis=0)
    fn = np.sum(~predicted & targets, axis=0)
    # Binary cross-entropy from logits, numerically stable.
    bce = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
    return {"micro_f1": float(_f1(tp.sum(), fp.sum(), fn.sum())),
            "macro_f1": float(np.mean([_f1(*c) for c in zip(tp, fp, fn)])),
            "subset_accuracy": float(np.mean(np.all(predicted == targets, axis=1))),
            "accuracy": float(np.mean(predicted == targets)),
            "loss": float(np.mean(bce))}


def compute_metrics(task_type, logits, labels):
    """Dispatches on the task type; `labels` as `LabelSpace.encode` gives them."""
    if task_type == "classification":
        return classification_metrics(logits, labels)
    if task_type == "regression":
        return regression_metrics(logits, labels)
    return multilabel_metrics(logits, labels)


def is_better(metric, value, best):
    """True if `value` of `metric` beats `best` (None: nothing yet)."""
    if best is None:
        return True
    return value < best if metric in LOWER_IS_BETTER else value > best
