"""corpus_scores against BLEU and chrF computed here from their published definitions
(Papineni et al. 2002 with mteval's exponential smoothing; Popović 2015 chrF, beta 2),
on sentences whose 13a tokenization is plain whitespace splitting."""

import collections
import math

import pytest

from tftasks.common.errors import DataError
from tftasks.translation.scoring import corpus_scores, format_scores


def ngrams(items, n):
    return collections.Counter(tuple(items[i:i + n]) for i in range(len(items) - n + 1))


def our_bleu(hypotheses, references):
    """Corpus BLEU: clipped n-gram matches summed over sentences, zero-match orders
    smoothed as 1 / (2^k * total) for the k-th such order, brevity penalty."""
    matches, totals, sys_len, ref_len = [0] * 4, [0] * 4, 0, 0
    for hyp, ref in zip(hypotheses, references):
        hyp, ref = hyp.split(), ref.split()
        sys_len, ref_len = sys_len + len(hyp), ref_len + len(ref)
        for n in range(1, 5):
            h, r = ngrams(hyp, n), ngrams(ref, n)
            matches[n - 1] += sum(min(c, r[g]) for g, c in h.items())
            totals[n - 1] += sum(h.values())
    log_sum, halvings = 0.0, 1
    for match, total in zip(matches, totals):
        if match == 0:
            halvings *= 2
            log_sum += math.log(1 / (halvings * total))
        else:
            log_sum += math.log(match / total)
    bp = 1.0 if sys_len > ref_len else math.exp(1 - ref_len / sys_len)
    return 100 * bp * math.exp(log_sum / 4)


def our_chrf(hypotheses, references, order=6, beta=2):
    """Corpus chrF: character n-gram (spaces removed) statistics summed over sentences;
    precision and recall averaged over the orders, then F-beta."""
    stats = [[0, 0, 0] for _ in range(order)]  # hyp, ref, match per order
    for hyp, ref in zip(hypotheses, references):
        hyp, ref = "".join(hyp.split()), "".join(ref.split())
        for n in range(1, order + 1):
            h, r = ngrams(hyp, n), ngrams(ref, n)
            stats[n - 1][0] += sum(h.values())
            stats[n - 1][1] += sum(r.values())
            stats[n - 1][2] += sum(min(c, r[g]) for g, c in h.items())
    used = [(m / h, m / r) for h, r, m in stats if h and r]
    precision = sum(p for p, _ in used) / len(used)
    recall = sum(r for _, r in used) / len(used)
    return 100 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def test_identical_text_scores_100():
    lines = ["Ein Mann fährt Rad.", "A dog runs through the snow, barking."]
    scores = corpus_scores(lines, lines)
    assert scores["bleu"] == pytest.approx(100) and scores["chrf"] == pytest.approx(100)
    assert scores["bleu_bp"] == 1.0 and scores["bleu_precisions"] == [100.0] * 4


def test_known_ngram_counts_with_smoothing():
    # 1-grams 5/6, 2-grams 3/5, 3-grams 1/4, 4-grams 0/3 -> smoothed 1/(2*3); equal lengths.
    scores = corpus_scores(["a b c x d e"], ["a b c y d e"])
    expected = 100 * math.exp((math.log(5 / 6) + math.log(3 / 5) + math.log(1 / 4)
                               + math.log(1 / 6)) / 4)
    assert scores["bleu"] == pytest.approx(expected, rel=1e-9)
    assert scores["bleu_precisions"][:3] == pytest.approx([500 / 6, 60, 25])
    assert (scores["bleu_sys_len"], scores["bleu_ref_len"]) == (6, 6)


def test_brevity_penalty():
    scores = corpus_scores(["a b c d"], ["a b c d e f"])
    assert scores["bleu_bp"] == pytest.approx(math.exp(1 - 6 / 4))
    assert scores["bleu"] == pytest.approx(100 * math.exp(1 - 6 / 4))


def test_corpus_statistics_are_summed_before_the_geometric_mean():
    hypotheses = ["the cat sat on the mat", "there is a dog in the garden", "birds fly south"]
    references = ["the cat sat on a mat", "a dog is in the garden", "the birds fly south today"]
    scores = corpus_scores(hypotheses, references)
    assert scores["bleu"] == pytest.approx(our_bleu(hypotheses, references), rel=1e-9)
    assert scores["chrf"] == pytest.approx(our_chrf(hypotheses, references), rel=1e-9)
    # Not the mean of sentence scores.
    mean = sum(our_bleu([h], [r]) for h, r in zip(hypotheses[:2], references[:2])) / 2
    assert abs(corpus_scores(hypotheses[:2], references[:2])["bleu"] - mean) > 1


def test_chrf_of_one_changed_character():
    # "abcdefg" vs "abcdxfg" (spaces ignored): n-grams not covering position 5 match.
    scores = corpus_scores(["abc defg"], ["abcd xfg"])
    assert scores["chrf"] == pytest.approx(our_chrf(["abc defg"], ["abcd xfg"]), rel=1e-9)
    by_hand = [6 / 7, 4 / 6, 2 / 5, 1 / 4, 0 / 3, 0 / 2]  # precision == recall (same lengths)
    average = sum(by_hand) / 6
    assert scores["chrf"] == pytest.approx(100 * average, rel=1e-9)


def test_signatures_and_several_references():
    hypothesis = "a dog runs across the green lawn"
    scores = corpus_scores([hypothesis], [["a cat sleeps on the lawn"], [hypothesis]])
    assert scores["bleu"] == pytest.approx(100)
    assert scores["bleu_signature"].startswith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert corpus_scores(["x"], ["x"])["chrf_signature"].startswith(
        "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:")
    assert format_scores(scores).startswith("BLEU 100.00 (nrefs:2")


def test_misaligned_references():
    with pytest.raises(DataError, match="2 hypotheses but reference set 0 has 1 lines"):
        corpus_scores(["a", "b"], ["a"])
