"""Post-processing against an independent transcription of Google's write_predictions."""

import numpy as np
import pytest

from tests.tftasks.squad.google_postprocess import (google_view, project_to_original,
                                                    reference_predictions)
from tests.tftasks.squad.squad_files import PARAGRAPHS, VOCAB, write_squad
from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.squad.examples import read_squad_file
from tftasks.squad.features import Featurizer
from tftasks.squad.postprocess import final_text, postprocess

# Every question of the shared dev slice: `python -m bench squad_postprocess` (bench/RESULTS.md).


def test_final_text_keeps_original_case_and_drops_extra_characters():
    assert final_text("steve smith", "Steve Smith's", True) == "Steve Smith"
    assert final_text("1895", "(1895-1943).", True) == "1895"
    assert final_text("cafe", "Café!", True) == "Café"  # accents stripped only when uncased
    assert final_text("nothing", "Steve", True) == "Steve"  # not found: the original words
    for pred, orig in (("steve smith", "Steve Smith's"), ("x", "a x b"), ("b", "a.b")):
        assert final_text(pred, orig, True) == project_to_original(pred, orig, True)


def random_logits(features, rng, scale=3.0):
    return [(rng.normal(0, scale, len(f.input_ids)).astype(np.float32),
             rng.normal(0, scale, len(f.input_ids)).astype(np.float32)) for f in features]


def compare(data, encoder, featurizer, seed, version_2=False, n_best=20, max_answer=30):
    features = list(featurizer.features(data, is_training=False))
    logits = random_logits(features, np.random.default_rng(seed))
    ours = postprocess(data, features, logits, encoder.vocab, n_best, max_answer, True,
                       version_2, 0.0)
    examples = [(q.qas_id, data.paragraphs[q.paragraph].doc_tokens) for q in data.questions]
    reference = reference_predictions(examples, [google_view(f, encoder.vocab) for f in features],
                                      logits, n_best, max_answer, True, version_2, 0.0)
    return ours, reference, features


@pytest.mark.parametrize("version_2", [False, True])
def test_equals_the_transcription_on_windowed_contexts(tmp_path, version_2):
    encoder = WordPieceEncoder(VOCAB)
    data = read_squad_file(write_squad(tmp_path / "d.json"), False, version_2)
    # 24 tokens and a stride of 5: several overlapping windows per question.
    featurizer = Featurizer(encoder, max_seq_length=24, doc_stride=5, max_query_length=8)
    for seed in range(5):
        ours, reference, features = compare(data, encoder, featurizer, seed, version_2,
                                            n_best=5, max_answer=4)
        assert len(features) > 3 * len(data.questions)
        assert ours.predictions == reference
        assert set(ours.nbest) == set(reference)
        for entries in ours.nbest.values():
            assert sum(e["probability"] for e in entries) == pytest.approx(1.0)
            scores = [e["start_logit"] + e["end_logit"] for e in entries]
            assert len(entries) <= 5 + version_2  # v2: the null answer after the n-best
            assert len({e["text"] for e in entries}) == len(entries)
            assert scores == sorted(scores, reverse=True) or version_2
        assert bool(ours.null_odds) == version_2


def test_no_valid_span_gives_googles_placeholder(tmp_path):
    encoder = WordPieceEncoder(VOCAB)
    data = read_squad_file(write_squad(tmp_path / "d.json", PARAGRAPHS[:1]), False)
    features = list(Featurizer(encoder, 64, 32, 8).features(data, False))
    # The best positions are all in the question: nothing valid among the top 2.
    logits = [(np.where(f.segment_ids == 0, 5.0, 0.0), np.where(f.segment_ids == 0, 5.0, 0.0))
              for f in features]
    result = postprocess(data, features, logits, encoder.vocab, n_best_size=2)
    assert set(result.predictions.values()) == {"empty"}
