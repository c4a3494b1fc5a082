"""Entity-level precision, recall and F1 (conlleval / seqeval), per type, and token accuracy.

An entity counts as found when a predicted chunk has the gold chunk's type,
first and last word (`tftasks.ner.tags.chunks`). Precision, recall and F1
are micro-averaged over all entities of the split, as conlleval's overall
line; the per-type table has each type's figures and its gold count
("support"). Token accuracy: the share of words whose tag is right.

Example:

    scores = entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    scores["f1"], scores["per_type"]["PER"]["recall"]      # 0.0, 0.0
    print(format_report(scores))
"""

from tftasks.ner.tags import chunks


def _prf(correct, predicted, gold):
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_scores(gold_sequences, predicted_sequences):
    """Gold and predicted tag sequences (lists of lists of str, same lengths) -> dict.

    Returns `precision`, `recall`, `f1`, `accuracy` (floats), `entities`,
    `predicted_entities`, `correct_entities`, `words` (ints) and `per_type`:
    `{type: {"precision", "recall", "f1", "support", "predicted"}}`.
    """
    counts = {}  # type -> [correct, predicted, gold]
    words = right = 0
    for i, (gold, predicted) in enumerate(zip(gold_sequences, predicted_sequences)):
        if len(gold) != len(predicted):
            raise ValueError(f"sentence {i}: {len(gold)} gold tags but {len(predicted)} "
                             "predicted")
        words += len(gold)
        right += sum(g == p for g, p in zip(gold, predicted))
        gold_chunks, predicted_chunks = set(chunks(gold)), set(chunks(predicted))
        for kind, *_ in gold_chunks:
            counts.setdefault(kind, [0, 0, 0])[2] += 1
        for chunk in predicted_chunks:
            entry = counts.setdefault(chunk[0], [0, 0, 0])
            entry[1] += 1
            entry[0] += chunk in gold_chunks
    correct, predicted, gold = (sum(c[j] for c in counts.values()) for j in range(3))
    precision, recall, f1 = _prf(correct, predicted, gold)
    per_type = {}
    for kind in sorted(counts):
        c, p, g = counts[kind]
        tp, tr, tf1 = _prf(c, p, g)
        per_type[kind] = {"precision": tp, "recall": tr, "f1": tf1, "support": g,
                          "predicted": p}
    return {"precision": precision, "recall": recall, "f1": f1,
            "accuracy": right / words if words else 0.0, "entities": gold,
            "predicted_entities": predicted, "correct_entities": correct, "words": words,
            "per_type": per_type}


def format_report(scores):
    """A conlleval-like text table: overall line, then one line per type (percentages)."""
    lines = [f"processed {scores['words']} words with {scores['entities']} entities; found: "
             f"{scores['predicted_entities']} entities; correct: {scores['correct_entities']}.",
             f"{'type':>16s}  {'precision':>9s}  {'recall':>6s}  {'f1':>6s}  {'support':>7s}",
             _row("(all)", scores, scores["entities"])]
    lines += [_row(kind, s, s["support"]) for kind, s in scores["per_type"].items()]
    lines.append(f"token accuracy: {100 * scores['accuracy']:.2f}%")
    return "\n".join(lines) + "\n"


def _row(name, s, support):
    return (f"{name:>16s}  {100 * s['precision']:9.2f}  {100 * s['recall']:6.2f}  "
            f"{100 * s['f1']:6.2f}  {support:7d}")
