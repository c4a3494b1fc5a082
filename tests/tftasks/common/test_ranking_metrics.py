"""ROC-AUC and average precision (PR-AUC): hand-made cases and independent references.

The references are written here from the definitions: ROC-AUC as the
Mann-Whitney statistic (every positive-negative pair, a tie counting 1/2)
and average precision as the sum over each distinct threshold t, from the
highest down, of (R_t - R_t-1) P_t with predictions `score >= t`.
"""

import numpy as np
import pytest

from tftasks.common.metrics import average_precision, macro_average, roc_auc


def pairwise_roc_auc(scores, positive):
    """Share of (positive, negative) pairs ranked right, ties counting 1/2."""
    pos, neg = scores[positive][:, None], scores[~positive][None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def threshold_sum_average_precision(scores, positive):
    """sum over distinct thresholds (descending) of (recall - previous recall) * precision."""
    total, previous_recall = 0.0, 0.0
    for threshold in sorted(set(scores.tolist()), reverse=True):
        predicted = scores >= threshold
        tp = np.sum(predicted & positive)
        recall, precision = tp / np.sum(positive), tp / np.sum(predicted)
        total += (recall - previous_recall) * precision
        previous_recall = recall
    return total


def test_hand_made_cases():
    positive = np.array([True, True, False, False])
    # All tied: one threshold, ROC from (0,0) straight to (1,1); precision = 2/4.
    assert roc_auc(np.full(4, 0.5), positive) == pytest.approx(0.5)
    assert average_precision(np.full(4, 0.5), positive) == pytest.approx(0.5)
    # Perfect and inverted rankings.
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), positive) == pytest.approx(1.0)
    assert average_precision(np.array([0.9, 0.8, 0.2, 0.1]), positive) == pytest.approx(1.0)
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), positive) == pytest.approx(0.0)
    # Inverted: thresholds .9, .8 recall nothing; .2: R=1/2, P=1/3; .1: R=1, P=1/2.
    assert average_precision(np.array([0.1, 0.2, 0.8, 0.9]), positive) == pytest.approx(
        0.5 / 3 + 0.5 / 2)
    # Ties across classes. Positives score .9 .7 .4, negatives .7 .4 .1.
    # Pairs: .9 beats 3; .7 ties 1, beats 2 (2.5); .4 ties 1, beats 1 (1.5): 7/9.
    # AP: t=.9: R=1/3 P=1; t=.7: R=2/3 P=2/3; t=.4: R=1 P=3/5; t=.1: R unchanged.
    scores = np.array([0.9, 0.7, 0.7, 0.4, 0.4, 0.1])
    positive = np.array([True, True, False, True, False, False])
    assert roc_auc(scores, positive) == pytest.approx(7 / 9)
    assert average_precision(scores, positive) == pytest.approx(1 / 3 + 2 / 9 + 1 / 5)
    # The order of the examples does not matter.
    order = np.array([5, 2, 0, 4, 1, 3])
    assert roc_auc(scores[order], positive[order]) == pytest.approx(7 / 9)


def test_undefined_cases_are_none():
    scores = np.array([0.3, 0.6, 0.6])
    assert roc_auc(scores, np.ones(3, bool)) is None
    assert roc_auc(scores, np.zeros(3, bool)) is None
    assert average_precision(scores, np.zeros(3, bool)) is None
    assert average_precision(scores, np.ones(3, bool)) == pytest.approx(1.0)
    assert roc_auc(np.zeros(0), np.zeros(0, bool)) is None


@pytest.mark.parametrize("seed", range(6))
def test_against_references_on_random_data_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    scores = rng.integers(0, 6, n) / 5.0  # six distinct values: many ties
    positive = rng.random(n) < rng.uniform(0.1, 0.9)
    positive[:2] = [True, False]  # both classes
    assert roc_auc(scores, positive) == pytest.approx(pairwise_roc_auc(scores, positive),
                                                      abs=1e-12)
    assert average_precision(scores, positive) == pytest.approx(
        threshold_sum_average_precision(scores, positive), abs=1e-12)


def test_macro_average_skips_labels_with_one_class():
    scores = np.array([[0.9, 0.1, 0.8], [0.2, 0.4, 0.3], [0.5, 0.6, 0.3], [0.7, 0.2, 0.1]])
    targets = np.array([[1, 0, 1], [1, 0, 0], [1, 0, 1], [1, 0, 0]], bool)
    # Labels 0 (all present) and 1 (all absent) are skipped: only label 2 counts.
    assert macro_average(roc_auc, scores, targets) == pytest.approx(
        pairwise_roc_auc(scores[:, 2], targets[:, 2]))
    assert macro_average(average_precision, scores, targets) == pytest.approx(
        threshold_sum_average_precision(scores[:, 2], targets[:, 2]))
    assert macro_average(roc_auc, scores[:, :2], targets[:, :2]) is None
