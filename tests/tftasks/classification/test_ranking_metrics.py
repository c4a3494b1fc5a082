"""ROC-AUC and PR-AUC wired into the classification and multilabel metrics."""

import numpy as np
import pytest

from tftasks.classification.metrics import (allowed_best_metrics, classification_metrics,
                                            multilabel_metrics, probabilities)
from tftasks.common.metrics import average_precision, is_better, roc_auc

AUCS = ("macro_roc_auc", "micro_roc_auc", "macro_pr_auc", "micro_pr_auc")


def test_binary_aucs_use_the_positive_class_probability():
    rng = np.random.default_rng(0)
    # [0, x] with x in tenths: equal x, equal probabilities (ties survive the softmax).
    logits = np.stack([np.zeros(40), np.round(rng.normal(size=40), 1)], axis=1)
    labels = rng.integers(0, 2, 40)
    labels[:2] = [0, 1]
    metrics = classification_metrics(logits, labels)
    positive = probabilities("classification", logits)[:, 1]
    assert metrics["roc_auc"] == pytest.approx(roc_auc(positive, labels == 1))
    assert metrics["pr_auc"] == pytest.approx(average_precision(positive, labels == 1))
    # Label index 1 is the positive class: swapping the classes changes PR-AUC.
    swapped = classification_metrics(logits[:, ::-1], 1 - labels)
    assert swapped["roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert swapped["pr_auc"] == pytest.approx(average_precision(1 - positive, labels == 0))


def test_aucs_are_left_out_when_undefined():
    logits = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.2]])
    one_class = classification_metrics(logits, np.zeros(3, int))
    assert "roc_auc" not in one_class and "pr_auc" not in one_class
    assert "roc_auc" not in classification_metrics(np.eye(3)[[0, 1, 2]], np.arange(3))
    # Multilabel: label 0 always present, label 1 never: no macro mean, micro still defined.
    logits = np.array([[2.0, -1.0], [0.5, 0.3], [1.0, -2.0]])
    targets = np.array([[1, 0], [1, 0], [1, 0]], np.float32)
    metrics = multilabel_metrics(logits, targets)
    assert "macro_roc_auc" not in metrics and "macro_pr_auc" not in metrics
    sigmoid = 1 / (1 + np.exp(-logits))
    assert metrics["micro_roc_auc"] == pytest.approx(roc_auc(sigmoid.ravel(),
                                                             targets.ravel() > 0))
    nothing = multilabel_metrics(logits, np.zeros_like(targets))
    assert not set(AUCS) & set(nothing) and all(np.isfinite(list(nothing.values())))


def test_multilabel_macro_mean_over_usable_labels_and_micro_over_pairs():
    rng = np.random.default_rng(1)
    logits = np.round(rng.normal(size=(30, 3)), 1)
    targets = (rng.random((30, 3)) < 0.4).astype(np.float32)
    targets[:, 1] = 0.0  # never present: skipped by the macro means
    targets[:2, [0, 2]] = [[1, 0], [0, 1]]
    metrics = multilabel_metrics(logits, targets)
    scores, truth = 1 / (1 + np.exp(-logits)), targets > 0.5
    assert metrics["macro_roc_auc"] == pytest.approx(
        np.mean([roc_auc(scores[:, j], truth[:, j]) for j in (0, 2)]))
    assert metrics["macro_pr_auc"] == pytest.approx(
        np.mean([average_precision(scores[:, j], truth[:, j]) for j in (0, 2)]))
    assert metrics["micro_pr_auc"] == pytest.approx(average_precision(scores.ravel(),
                                                                      truth.ravel()))


def test_aucs_may_pick_the_best_checkpoint():
    assert {"roc_auc", "pr_auc", "f1"} <= set(allowed_best_metrics("classification", 2))
    assert not {"roc_auc", "pr_auc"} & set(allowed_best_metrics("classification", 3))
    assert set(AUCS) <= set(allowed_best_metrics("multilabel", 4))
    assert is_better("roc_auc", 0.8, best=0.7) and not is_better("macro_pr_auc", 0.6, best=0.7)
