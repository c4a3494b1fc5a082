"""Official SQuAD EM/F1 definitions on hand-made cases (v1.1 and v2.0)."""

import pytest

from tftasks.squad.evaluation import (exact_match, f1_score, normalize_answer,
                                      squad_metrics)
from tftasks.squad.examples import Question, SquadData


def data_of(*answers_per_question, impossible=()):
    questions = [Question(f"q{i}", "?", 0, list(answers), is_impossible=f"q{i}" in impossible)
                 for i, answers in enumerate(answers_per_question)]
    return SquadData("hand-made", [], questions)


def test_normalisation_drops_case_punctuation_articles_and_spaces():
    assert normalize_answer("  The  Denver, Broncos!  ") == "denver broncos"
    assert normalize_answer("An apple a day") == "apple day"
    assert normalize_answer("theatre another") == "theatre another"  # articles as words only
    assert normalize_answer("A.B.") == "ab"


def test_exact_match_and_f1_on_word_bags():
    assert exact_match("the Broncos.", "Broncos") == 1.0
    assert exact_match("Denver Broncos", "Broncos") == 0.0
    # Prediction "denver broncos team" vs "broncos": precision 1/3, recall 1: F1 = 0.5.
    assert f1_score("Denver Broncos team", "the Broncos") == pytest.approx(0.5)
    # Repeated words count once per occurrence in both bags.
    assert f1_score("x b b", "b b c") == pytest.approx(2 / 3)
    assert f1_score("a b b", "b b c") == pytest.approx(0.8)  # "a" is an article: dropped
    assert f1_score("nothing", "else") == 0.0
    assert f1_score("", "") == 1.0 and f1_score("", "x") == 0.0


def test_v1_max_over_references_and_missing_predictions():
    data = data_of(["Denver Broncos", "Broncos", "the Denver Broncos"], ["Carolina"], ["Santa Clara"])
    metrics = squad_metrics(data, {"q0": "Broncos", "q1": "Carolina Panthers"})
    assert metrics["total"] == 3
    assert metrics["exact_match"] == pytest.approx(100 / 3)
    assert metrics["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0) / 3)


def test_v2_has_answer_split_and_no_answer_scoring():
    data = data_of(["Broncos"], [], ["Levi's Stadium"], impossible={"q1"})
    predictions = {"q0": "Broncos", "q1": "", "q2": "Stadium"}
    null_odds = {"q0": -3.0, "q1": 2.0, "q2": 1.0}
    metrics = squad_metrics(data, predictions, version_2=True, null_odds=null_odds)
    assert metrics["no_ans_exact_match"] == 100.0 and metrics["no_ans_total"] == 1
    assert metrics["has_ans_exact_match"] == 50.0 and metrics["has_ans_total"] == 2
    assert metrics["has_ans_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert metrics["exact_match"] == pytest.approx(200 / 3)
    # A non-empty answer to an impossible question scores 0; "" to a possible one too.
    wrong = squad_metrics(data, {"q0": "", "q1": "Broncos", "q2": "Stadium"}, version_2=True)
    assert wrong["exact_match"] == 0.0
    # Best thresholds (evaluate-v2.0.py): by odds q0 (-3), q2 (1), q1 (2); starting from the
    # no-answer count (1), q0 adds 1 (exact and F1), q2 adds 0 (exact) or 2/3 (F1).
    assert metrics["best_exact_match"] == pytest.approx(200 / 3)
    assert metrics["best_exact_match_threshold"] == -3.0
    assert metrics["best_f1"] == pytest.approx(100 * (2 + 2 / 3) / 3)
    assert metrics["best_f1_threshold"] == 1.0
