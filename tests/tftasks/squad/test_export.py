"""SquadExport in process: the SQuAD 2.0 null rule and shapes of a batch (no SavedModel write)."""

import numpy as np
import pytest
import tensorflow as tf

from tests.tftasks.squad.squad_files import FIXTURE, PARAGRAPHS, VOCAB
from tfbert import BertSpanLabeler, BertTokenizer
from tftasks.squad.export import NO_SPAN_SCORE, SquadExport


@pytest.fixture(scope="module")
def parts():
    return BertSpanLabeler.from_pretrained(FIXTURE), BertTokenizer(VOCAB, do_lower_case=True)


def answers(parts, questions, contexts, **options):
    model, tokenizer = parts
    export = SquadExport(model, tokenizer, max_seq_length=32, doc_stride=8, max_query_length=8,
                         **options)
    out = export.answer(tf.constant(questions), tf.constant(contexts))
    return {k: v.numpy() for k, v in out.items()}


def test_null_answer_against_the_threshold(parts):
    questions = ["Where did the cat sit?", "Who played music?", ""]
    contexts = [PARAGRAPHS[0][0], PARAGRAPHS[1][0], ""]
    plain = answers(parts, questions, contexts)
    assert "null_score_diff" not in plain and plain["answer"][2] == b""
    assert plain["score"][2] == NO_SPAN_SCORE and plain["start"][2] == plain["end"][2] == 0
    never = answers(parts, questions, contexts, version_2_with_negative=True,
                    null_score_diff_threshold=1e12)
    np.testing.assert_array_equal(never["answer"], plain["answer"])
    always = answers(parts, questions, contexts, version_2_with_negative=True,
                     null_score_diff_threshold=-1e12)
    assert always["answer"].tolist() == [b""] * 3 and always["end"].tolist() == [0] * 3
    # The threshold between two questions' differences splits them.
    diff = never["null_score_diff"][:2]
    middle = float(np.mean(diff))
    split = answers(parts, questions[:2], contexts[:2], version_2_with_negative=True,
                    null_score_diff_threshold=middle)
    for i in range(2):
        assert (split["answer"][i] == b"") == (diff[i] > middle)


def test_max_seq_length_beyond_the_model_is_refused(parts):
    model, tokenizer = parts
    with pytest.raises(ValueError, match="max_position_embeddings"):
        SquadExport(model, tokenizer, max_seq_length=512)
