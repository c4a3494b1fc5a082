"""SQuAD exact match and F1 as the official evaluation scripts define them.

Answers are normalised (lower case, punctuation removed, the articles
a/an/the removed as words, white space collapsed); exact match compares the
normalised strings, F1 the bags of their words; each question scores its
best reference. v1.1 (`evaluate-v1.1.py`): a question without a prediction
scores 0. v2.0 (`evaluate-v2.0.py`): a question without answers has the
reference "" (F1 is then 1 only for an empty prediction); the scores are
also split into HasAns/NoAns, and with null odds the best threshold (the
null_score_diff_threshold maximising exact match / F1) is reported. Figures
are percentages.

Example:

    squad_metrics(data, {"q1": "Denver Broncos"})
    # {"exact_match": 100.0, "f1": 100.0, "total": 1}
"""

import collections
import re
import string

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text):
    """Lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction, reference):
    return float(normalize_answer(prediction) == normalize_answer(reference))


def f1_score(prediction, reference):
    """F1 of the normalised word bags; two empty answers score 1, one empty 0."""
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((collections.Counter(predicted) & collections.Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _references(question, version_2):
    if not version_2:
        return question.answers
    kept = [a for a in question.answers if normalize_answer(a)]
    return kept or [""]


def question_scores(data, predictions, version_2=False):
    """`{id: (exact, f1)}` in [0, 1] for every question with references."""
    scores = {}
    for q in data.questions:
        references = _references(q, version_2)
        if not references:
            continue
        predicted = predictions.get(q.qas_id)
        if predicted is None:
            scores[q.qas_id] = (0.0, 0.0)
            continue
        scores[q.qas_id] = (max(exact_match(predicted, r) for r in references),
                            max(f1_score(predicted, r) for r in references))
    return scores


def _mean(values):
    values = list(values)
    return 100.0 * sum(values) / len(values) if values else 0.0


def best_threshold(scores, null_odds, has_answer, predictions, which):
    """(best score %, threshold) over null-score-diff thresholds (`evaluate-v2.0.py`)."""
    current = best = sum(1 for k in scores if not has_answer[k])
    threshold = 0.0
    for qid in sorted(scores, key=lambda k: null_odds.get(k, 0.0)):
        if has_answer[qid]:
            current += scores[qid][which]
        else:
            current += -1 if predictions.get(qid) else 0
        if current > best:
            best, threshold = current, null_odds.get(qid, 0.0)
    return 100.0 * best / len(scores), threshold


def squad_metrics(data, predictions, version_2=False, null_odds=None):
    """The official figures (percentages) of `predictions` {id: text} on `data`."""
    scores = question_scores(data, predictions, version_2)
    out = {"exact_match": _mean(s[0] for s in scores.values()),
           "f1": _mean(s[1] for s in scores.values()), "total": len(scores)}
    if not version_2:
        return out
    has_answer = {q.qas_id: bool(q.answers) and not q.is_impossible for q in data.questions}
    for name, wanted in (("has_ans", True), ("no_ans", False)):
        part = [s for k, s in scores.items() if has_answer[k] == wanted]
        out.update({f"{name}_exact_match": _mean(s[0] for s in part),
                    f"{name}_f1": _mean(s[1] for s in part), f"{name}_total": len(part)})
    if null_odds and scores:
        out["best_exact_match"], out["best_exact_match_threshold"] = best_threshold(
            scores, null_odds, has_answer, predictions, 0)
        out["best_f1"], out["best_f1_threshold"] = best_threshold(
            scores, null_odds, has_answer, predictions, 1)
    return out
