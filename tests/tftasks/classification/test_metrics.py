"""Evaluation metrics against hand-computed values and NumPy references."""

import numpy as np
import pytest

from tftasks.classification.metrics import (classification_metrics, compute_metrics,
                                            multilabel_metrics, probabilities,
                                            regression_metrics)
from tftasks.common.metrics import is_better, matthews_corrcoef


def one_hot_logits(predicted, num_labels):
    return np.eye(num_labels)[predicted] * 4.0


def test_binary_accuracy_f1_and_mcc():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    predicted = np.array([1, 1, 0, 0, 0, 1, 0, 1])
    metrics = classification_metrics(one_hot_logits(predicted, 2), labels)
    tp, tn, fp, fn = 3, 3, 1, 1
    assert metrics["accuracy"] == pytest.approx(6 / 8)
    assert metrics["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert metrics["matthews_corrcoef"] == pytest.approx(mcc)
    assert metrics["macro_f1"] == pytest.approx(0.75)
    expected_loss = -np.mean(np.log(probabilities("classification", one_hot_logits(
        predicted, 2))[np.arange(8), labels]))
    assert metrics["loss"] == pytest.approx(expected_loss)


def test_multiclass_mcc_limits():
    labels = np.array([0, 1, 2, 2, 1, 0])
    assert matthews_corrcoef(labels, labels, 3) == pytest.approx(1.0)
    assert matthews_corrcoef(np.zeros(6, int), labels, 3) == 0.0  # undefined -> 0
    metrics = classification_metrics(one_hot_logits(labels, 3), labels)
    assert "f1" not in metrics and metrics["macro_f1"] == pytest.approx(1.0)


def test_pearson_and_spearman_with_ties():
    scores = np.array([1.0, 2.0, 2.0, 3.0, 0.5])
    targets = np.array([1.0, 3.0, 2.0, 4.0, 0.0])
    metrics = regression_metrics(scores[:, None], targets)
    assert metrics["pearson"] == pytest.approx(np.corrcoef(scores, targets)[0, 1])
    score_ranks = np.array([2.0, 3.5, 3.5, 5.0, 1.0])  # ties share their average rank
    target_ranks = np.array([2.0, 4.0, 3.0, 5.0, 1.0])
    assert metrics["spearman"] == pytest.approx(np.corrcoef(score_ranks, target_ranks)[0, 1])
    assert metrics["loss"] == pytest.approx(np.mean((scores - targets) ** 2))


def test_multilabel_metrics():
    targets = np.array([[1, 0, 1], [0, 1, 0]], np.float32)
    logits = np.array([[2.0, -1.0, -3.0], [-1.0, 1.0, 0.5]])
    metrics = multilabel_metrics(logits, targets)
    tp, fp, fn = 2, 1, 1
    assert metrics["micro_f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert metrics["subset_accuracy"] == 0.0 and metrics["accuracy"] == pytest.approx(4 / 6)
    bce = -(targets * np.log(1 / (1 + np.exp(-logits)))
            + (1 - targets) * np.log(1 - 1 / (1 + np.exp(-logits))))
    assert metrics["loss"] == pytest.approx(bce.mean())
    assert compute_metrics("multilabel", logits, targets) == metrics


def test_is_better_knows_the_direction():
    assert is_better("accuracy", 0.9, 0.8) and not is_better("accuracy", 0.8, 0.8)
    assert is_better("loss", 0.1, 0.2) and is_better("pearson", -1.0, None)
