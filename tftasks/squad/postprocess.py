"""Start/end logits -> answer texts, as Google's run_squad.py `write_predictions`.

Per question, over its features (windows): the `n_best_size` highest start
and end positions of each feature make candidate spans, kept when both ends
are context pieces, the start is in its max-context window, end >= start
and the span has at most `max_answer_length` pieces. Candidates sorted by
start + end logit give up to `n_best_size` distinct answer texts (the
n-best, with probabilities: a softmax over it). A text is the span's
WordPieces joined and de-"##"-ed, aligned back onto the original context
words (`final_text`: the words' characters that match, case and accents
kept; the whole words when the alignment fails). With SQuAD 2.0 the null
answer (position 0 of the feature where start + end of [CLS] is lowest)
joins the candidates, and "" is predicted when null score - best non-null
score > `null_score_diff_threshold` (`null_odds.json` has the difference).

One deviation from Google: the top positions are chosen among a feature's
real tokens (Google's among all `max_seq_length` positions, where padding
can take a place among the best and push out a valid one).

Example:

    result = postprocess(data, features, logits, vocab, n_best_size=20, max_answer_length=30)
    result.predictions["56be4db0acb8001400a502ec"], result.nbest[...][0]["probability"]
"""

import collections
import dataclasses
import math

import numpy as np

from tfcore.text.wordpiece import basic_tokenize


@dataclasses.dataclass
class Predictions:
    """`predictions` {id: text}, `nbest` {id: [entries]}, `null_odds` {id: float} (v2 only)."""

    predictions: dict
    nbest: dict
    null_odds: dict


def _spaceless(text):
    """(text without spaces, index in `text` of each kept character)."""
    kept = [i for i, c in enumerate(text) if c != " "]
    return "".join(text[i] for i in kept), kept


def final_text(pred_text, orig_text, do_lower_case):
    """The part of `orig_text` (original words) that the tokenized `pred_text` covers."""
    tok_text = " ".join(basic_tokenize(orig_text, do_lower_case))
    start = tok_text.find(pred_text)
    if start == -1:
        return orig_text
    end = start + len(pred_text) - 1
    orig_chars, orig_index = _spaceless(orig_text)
    tok_chars, tok_index = _spaceless(tok_text)
    if len(orig_chars) != len(tok_chars):
        return orig_text
    to_spaceless = {position: i for i, position in enumerate(tok_index)}
    if start not in to_spaceless or end not in to_spaceless:
        return orig_text
    return orig_text[orig_index[to_spaceless[start]]:orig_index[to_spaceless[end]] + 1]


def softmax(scores):
    """Probabilities of a list of floats (Python floats, as Google's)."""
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def best_indexes(logits, n_best_size):
    """Positions of the `n_best_size` largest logits, largest first (stable on ties)."""
    return np.argsort(-np.asarray(logits), kind="stable")[:n_best_size].tolist()


def _candidates(feature_index, feature, start_logits, end_logits, n_best_size,
                max_answer_length):
    """`[(score, feature_index, start, end, start_logit, end_logit)]` of valid spans."""
    out = []
    in_context = feature.token_to_word >= 0
    for start in best_indexes(start_logits, n_best_size):
        if not (in_context[start] and feature.max_context[start]):
            continue
        for end in best_indexes(end_logits, n_best_size):
            if not in_context[end] or end < start or end - start + 1 > max_answer_length:
                continue
            s, e = float(start_logits[start]), float(end_logits[end])
            out.append((s + e, feature_index, start, end, s, e))
    return out


def _span_text(feature, start, end, paragraph, vocab, do_lower_case):
    pieces = " ".join(vocab[i] for i in feature.input_ids[start:end + 1])
    pieces = " ".join(pieces.replace(" ##", "").replace("##", "").strip().split())
    words = paragraph.doc_tokens[feature.token_to_word[start]:feature.token_to_word[end] + 1]
    return final_text(pieces, " ".join(words), do_lower_case)


def postprocess(data, features, logits, vocab, n_best_size=20, max_answer_length=30,
                do_lower_case=True, version_2_with_negative=False, null_score_diff_threshold=0.0):
    """`Predictions` of every question of `data`.

    Args:
      data: `SquadData`; features: its `Feature`s (any order);
      logits: per feature, `(start_logits, end_logits)` float `[n]` (n: its length).
      vocab: the vocabulary (list of str).
    """
    by_question = collections.defaultdict(list)
    for f, feature in enumerate(features):
        by_question[feature.example_index].append(f)
    result = Predictions(collections.OrderedDict(), collections.OrderedDict(),
                         collections.OrderedDict())
    for q, question in enumerate(data.questions):
        paragraph = data.paragraphs[question.paragraph]
        candidates, null = [], None
        for i, f in enumerate(by_question[q]):
            start_logits, end_logits = logits[f]
            if version_2_with_negative:
                score = float(start_logits[0]) + float(end_logits[0])
                if null is None or score < null[0]:
                    null = (score, i, 0, 0, float(start_logits[0]), float(end_logits[0]))
            candidates += _candidates(i, features[f], start_logits, end_logits, n_best_size,
                                      max_answer_length)
        if version_2_with_negative:
            candidates.append(null or (0.0, 0, 0, 0, 0.0, 0.0))
        candidates.sort(key=lambda c: c[0], reverse=True)
        nbest, seen = [], set()
        for _, i, start, end, s, e in candidates:
            if len(nbest) >= n_best_size:
                break
            text = ""
            if start > 0:
                text = _span_text(features[by_question[q][i]], start, end, paragraph, vocab,
                                  do_lower_case)
                if text in seen:
                    continue
            seen.add(text)
            nbest.append((text, s, e))
        if version_2_with_negative and "" not in seen:
            nbest.append(("", null[4], null[5]) if null else ("", 0.0, 0.0))
        if not nbest:  # Google's placeholder when no span is valid
            nbest.append(("empty", 0.0, 0.0))
        probabilities = softmax([s + e for _, s, e in nbest])
        result.nbest[question.qas_id] = [
            collections.OrderedDict(text=t, probability=p, start_logit=s, end_logit=e)
            for (t, s, e), p in zip(nbest, probabilities)]
        if not version_2_with_negative:
            result.predictions[question.qas_id] = nbest[0][0]
            continue
        best = next((entry for entry in nbest if entry[0]), None)
        null_score = null[0] if null else 0.0
        diff = null_score - (best[1] + best[2] if best else 0.0)
        result.null_odds[question.qas_id] = diff
        result.predictions[question.qas_id] = (
            "" if best is None or diff > null_score_diff_threshold else best[0])
    return result
