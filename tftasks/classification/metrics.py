"""Evaluation metrics of fine-tuned classifiers, in NumPy, over a whole split.

- classification: `accuracy`, `f1` (binary tasks: label index 1 is the
  positive class, e.g. "1" or, sorted, "pos"), `macro_f1`,
  `matthews_corrcoef` (Gorodkin's multi-class form; the usual MCC for two
  classes), `loss` (mean cross-entropy); binary tasks also `roc_auc` and
  `pr_auc` (average precision) of the positive class's probability;
- regression: `pearson`, `spearman` (average ranks for ties),
  `mean_squared_error` (= `loss`);
- multilabel: `micro_f1`, `macro_f1`, `subset_accuracy` (all labels right),
  `accuracy` (per label), `loss` (mean binary cross-entropy), and
  `macro_roc_auc`, `micro_roc_auc`, `macro_pr_auc`, `micro_pr_auc` of the
  sigmoid probabilities (micro: all (example, label) pairs as one binary
  task; macro: the mean over the labels that have both classes in the
  split).

ROC-AUC and PR-AUC are computed as scikit-learn's `roc_auc_score` and
`average_precision_score` (see `tftasks.common.metrics`). Where they are
undefined (a binary split with one class only; no label with both classes)
they are left out of the dict rather than NaN.

Example:

    metrics = compute_metrics("classification", logits, label_ids)
    metrics["accuracy"], metrics["matthews_corrcoef"]
"""

import numpy as np

from tftasks.common.metrics import (average_precision, f1_score, macro_average,
                                    matthews_corrcoef, pearson, ranks, roc_auc)

# Which metric picks the best checkpoint when --best_metric is not given.
DEFAULT_BEST_METRIC = {"classification": "accuracy", "regression": "pearson",
                       "multilabel": "micro_f1"}
METRIC_NAMES = {
    "classification": ("accuracy", "f1", "macro_f1", "matthews_corrcoef", "roc_auc", "pr_auc",
                       "loss"),
    "regression": ("pearson", "spearman", "mean_squared_error", "loss"),
    "multilabel": ("micro_f1", "macro_f1", "subset_accuracy", "accuracy", "macro_roc_auc",
                   "micro_roc_auc", "macro_pr_auc", "micro_pr_auc", "loss"),
}
BINARY_ONLY = ("f1", "roc_auc", "pr_auc")  # of the positive class (label index 1)


def probabilities(task_type, logits):
    """Logits `[n, k]` -> softmax `[n, k]`, sigmoid `[n, k]` or the score `[n]`."""
    logits = np.asarray(logits, np.float64)
    if task_type == "regression":
        return logits.reshape(-1)
    if task_type == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def classification_metrics(logits, label_ids):
    """Logits `[n, k]`, label ids `[n]` -> dict of floats (see module doc)."""
    logits = np.asarray(logits, np.float64)
    label_ids = np.asarray(label_ids, np.int64)
    num_labels = logits.shape[1]
    predicted = logits.argmax(axis=1)
    probs = probabilities("classification", logits)
    log_probs = np.log(np.maximum(probs, 1e-300))
    f1s = [f1_score(np.sum((predicted == c) & (label_ids == c)),
                    np.sum((predicted == c) & (label_ids != c)),
                    np.sum((predicted != c) & (label_ids == c))) for c in range(num_labels)]
    metrics = {"accuracy": float(np.mean(predicted == label_ids)),
               "macro_f1": float(np.mean(f1s)),
               "matthews_corrcoef": matthews_corrcoef(predicted, label_ids, num_labels),
               "loss": float(-np.mean(log_probs[np.arange(len(label_ids)), label_ids]))}
    if num_labels == 2:
        metrics["f1"] = float(f1s[1])
        if len(set(label_ids.tolist())) == 2:  # both classes: the AUCs are defined
            metrics["roc_auc"] = roc_auc(probs[:, 1], label_ids == 1)
            metrics["pr_auc"] = average_precision(probs[:, 1], label_ids == 1)
    return metrics


def regression_metrics(scores, targets):
    """Predicted scores `[n]` (or `[n, 1]`), targets `[n]` -> dict of floats."""
    scores = np.asarray(scores, np.float64).reshape(-1)
    targets = np.asarray(targets, np.float64).reshape(-1)
    mse = float(np.mean((scores - targets) ** 2))
    return {"pearson": pearson(scores, targets),
            "spearman": pearson(ranks(scores), ranks(targets)),
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
    metrics = {"micro_f1": float(f1_score(tp.sum(), fp.sum(), fn.sum())),
               "macro_f1": float(np.mean([f1_score(*c) for c in zip(tp, fp, fn)])),
               "subset_accuracy": float(np.mean(np.all(predicted == targets, axis=1))),
               "accuracy": float(np.mean(predicted == targets)),
               "loss": float(np.mean(bce))}
    return dict(metrics, **ranking_metrics(probabilities("multilabel", logits), targets))


def ranking_metrics(scores, targets):
    """Macro and micro ROC-AUC and PR-AUC of float `[n, k]` scores, bool `[n, k]` targets.

    The undefined ones (no label with both classes; a single class over all
    pairs) are left out.
    """
    metrics = {"macro_roc_auc": macro_average(roc_auc, scores, targets),
               "micro_roc_auc": roc_auc(scores.reshape(-1), targets.reshape(-1)),
               "macro_pr_auc": macro_average(average_precision, scores, targets),
               "micro_pr_auc": average_precision(scores.reshape(-1), targets.reshape(-1))}
    if not (targets.any() and not targets.all()):  # one class over all pairs
        metrics["micro_pr_auc"] = None
    return {k: v for k, v in metrics.items() if v is not None}


def compute_metrics(task_type, logits, labels):
    """Dispatches on the task type; `labels` as `LabelSpace.encode` gives them."""
    if task_type == "classification":
        return classification_metrics(logits, labels)
    if task_type == "regression":
        return regression_metrics(logits, labels)
    return multilabel_metrics(logits, labels)


def allowed_best_metrics(task_type, num_labels):
    """The metrics `--best_metric` may name for this task (`BINARY_ONLY`: 2 labels only)."""
    return [m for m in METRIC_NAMES[task_type] if m not in BINARY_ONLY or num_labels == 2]
