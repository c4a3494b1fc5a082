"""Entity metrics against our own transcription of conlleval's chunk counting.

The reference below follows the published conlleval algorithm: one pass
over the tokens keeping the previous gold and guessed tags, counting a
correct chunk when both chunks start together with the same type and end
together (its `inCorrect` state), with the start/end rules extended to
BIOES as seqeval does. `tftasks.ner.metrics` instead compares sets of
(type, first, last) chunks; the two must agree on every sequence.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tftasks.ner.metrics import entity_scores, format_report
from tftasks.ner.tags import chunks, detect_scheme, to_iob2


def _parts(tag):
    return ("O", "") if tag == "O" else (tag[0], tag[2:])


def _ref_end(prev, prev_type, tag, kind):
    """conlleval endOfChunk (+ S/E of BIOES): prev chunk closes before this token."""
    closing_pairs = {("B", "B"), ("B", "O"), ("B", "S"), ("I", "B"), ("I", "O"), ("I", "S")}
    return (prev in ("E", "S") or (prev, tag) in closing_pairs
            or (prev != "O" and prev_type != kind))


def _ref_start(prev, prev_type, tag, kind):
    """conlleval startOfChunk (+ S/E of BIOES)."""
    opening_pairs = {("E", "E"), ("E", "I"), ("S", "E"), ("S", "I"), ("O", "E"), ("O", "I")}
    return (tag in ("B", "S") or (prev, tag) in opening_pairs
            or (tag != "O" and prev_type != kind))


def conlleval_counts(gold_sequences, guessed_sequences):
    """(correct chunks, gold chunks, guessed chunks, {type: [correct, gold, guessed]})."""
    per_type = {}
    totals = [0, 0, 0]
    for gold_tags, guessed_tags in zip(gold_sequences, guessed_sequences):
        in_correct = False
        last_gold, last_gold_type, last_guess, last_guess_type = "O", "", "O", ""
        for gold_tag, guess_tag in list(zip(gold_tags, guessed_tags)) + [("O", "O")]:
            g, g_type = _parts(gold_tag)
            p, p_type = _parts(guess_tag)
            end_gold = _ref_end(last_gold, last_gold_type, g, g_type)
            end_guess = _ref_end(last_guess, last_guess_type, p, p_type)
            start_gold = _ref_start(last_gold, last_gold_type, g, g_type)
            start_guess = _ref_start(last_guess, last_guess_type, p, p_type)
            if in_correct:
                if end_gold and end_guess and last_guess_type == last_gold_type:
                    in_correct = False
                    totals[0] += 1
                    per_type.setdefault(last_gold_type, [0, 0, 0])[0] += 1
                elif end_gold != end_guess or g_type != p_type:
                    in_correct = False
            if start_gold and start_guess and g_type == p_type:
                in_correct = True
            if start_gold:
                totals[1] += 1
                per_type.setdefault(g_type, [0, 0, 0])[1] += 1
            if start_guess:
                totals[2] += 1
                per_type.setdefault(p_type, [0, 0, 0])[2] += 1
            last_gold, last_gold_type, last_guess, last_guess_type = g, g_type, p, p_type
    return totals[0], totals[1], totals[2], per_type


def assert_matches_conlleval(gold, guessed):
    scores = entity_scores(gold, guessed)
    correct, n_gold, n_guessed, per_type = conlleval_counts(gold, guessed)
    assert (scores["correct_entities"], scores["entities"], scores["predicted_entities"]) == (
        correct, n_gold, n_guessed)
    for kind, (c, g, p) in per_type.items():
        ours = scores["per_type"][kind]
        assert (ours["support"], ours["predicted"]) == (g, p), kind
        assert ours["precision"] == pytest.approx(c / p if p else 0.0)
        assert ours["recall"] == pytest.approx(c / g if g else 0.0)
    return scores


HAND_MADE = [
    # (scheme, gold, guessed, expected (correct, gold entities, guessed entities))
    ("IOB2", ["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-ORG"], (1, 2, 2)),
    ("IOB2", ["B-PER", "I-PER"], ["B-PER", "O"], (0, 1, 1)),              # boundary differs
    ("IOB2", ["O", "I-PER", "I-PER", "O"], ["O", "B-PER", "I-PER", "O"], (1, 1, 1)),  # stray I-
    ("IOB2", ["B-PER", "I-LOC"], ["B-PER", "B-LOC"], (2, 2, 2)),          # type change splits
    ("IOB1", ["I-PER", "I-PER", "B-PER", "O"], ["I-PER", "I-PER", "I-PER", "O"], (0, 2, 1)),
    ("IOB1", ["I-LOC", "B-LOC", "I-LOC"], ["B-LOC", "B-LOC", "I-LOC"], (2, 2, 2)),
    ("BIOES", ["B-LOC", "E-LOC", "S-LOC"], ["B-LOC", "E-LOC", "S-LOC"], (2, 2, 2)),
    ("BIOES", ["B-LOC", "I-LOC", "E-LOC"], ["B-LOC", "E-LOC", "S-LOC"], (0, 1, 2)),
    ("BIOES", ["S-PER", "S-PER"], ["B-PER", "E-PER"], (0, 2, 1)),
]


@pytest.mark.parametrize("scheme, gold, guessed, expected", HAND_MADE)
def test_hand_made_cases(scheme, gold, guessed, expected):
    scores = assert_matches_conlleval([gold], [guessed])
    assert (scores["correct_entities"], scores["entities"],
            scores["predicted_entities"]) == expected
    c, g, p = expected
    precision, recall = c / p, c / g
    f1 = 2 * precision * recall / (precision + recall) if c else 0.0
    assert scores["f1"] == pytest.approx(f1)


TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-LOC", "S-PER", "E-PER", "S-LOC"]
sequences = st.lists(st.lists(st.sampled_from(TAGS), min_size=1, max_size=12), min_size=1,
                     max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_sequences_match_conlleval(data):
    gold = data.draw(sequences)
    guessed = [data.draw(st.lists(st.sampled_from(TAGS), min_size=len(g), max_size=len(g)))
               for g in gold]
    assert_matches_conlleval(gold, guessed)


def test_chunks_schemes_and_iob2():
    assert chunks(["B-PER", "I-PER", "O", "I-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]
    assert detect_scheme([["B-PER", "I-PER"]]) == "IOB2"
    assert detect_scheme([["O", "I-PER", "B-PER"]]) == "IOB1"
    assert detect_scheme([["S-PER"], ["B-PER"]]) == "BIOES"
    iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    assert to_iob2(iob1) == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert chunks(to_iob2(iob1)) == chunks(iob1)
    with pytest.raises(ValueError, match="X-PER"):
        chunks(["X-PER"])


def test_per_type_table_and_accuracy():
    scores = entity_scores([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "O"]])
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                         "support": 1, "predicted": 0}
    report = format_report(scores)
    assert "PER" in report and "100.00" in report and " = " not in report
