"""SQuAD reading and features: windows, max context, labels, errors naming file and id."""

import gzip
import json

import numpy as np
import pytest

from tests.tftasks.squad.squad_files import PARAGRAPHS, VOCAB, squad_json, write_squad
from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.common.errors import DataError
from tftasks.squad.examples import read_squad_file, split_words
from tftasks.squad.features import Featurizer, doc_windows, max_context_masks


def test_windows_cover_the_context_with_the_stride():
    assert doc_windows(10, 4, 3) == [(0, 4), (3, 4), (6, 4)]
    assert doc_windows(4, 4, 3) == [(0, 4)]
    assert doc_windows(0, 4, 3) == []
    # A stride longer than a window moves by the window (Google's min(length, stride)).
    assert doc_windows(7, 3, 5) == [(0, 3), (3, 3), (6, 1)]


def test_max_context_is_min_of_left_and_right_first_window_on_ties():
    windows = doc_windows(10, 4, 2)   # (0,4) (2,4) (4,4) (6,4)
    masks = max_context_masks(windows, 10)
    # Piece 3: window 0 (left 3, right 0 -> 0), window 1 (left 1, right 1 -> 1): window 1.
    assert not masks[0][3] and masks[1][1]
    # Piece 4: window 1 (2, 1 -> 1) and window 2 (0, 3 -> 0): window 1.
    assert masks[1][2] and not masks[2][0]
    # Piece 5: window 1 (3, 0) -> 0, window 2 (1, 2) -> 1: window 2.
    assert masks[2][1]
    # Every piece is max context in exactly one window.
    counts = np.zeros(10, int)
    for (start, length), mask in zip(windows, masks):
        counts[start:start + length] += mask
    assert (counts == 1).all()
    # Ties pick the first window: piece 2 scores min(2, 1) in (0, 4) and min(1, 2) in (1, 4).
    tie = max_context_masks([(0, 4), (1, 4)], 5)
    assert tie[0].tolist() == [True, True, True, False]
    assert tie[1].tolist() == [False, False, True, True]


def test_split_words_matches_googles_whitespace():
    words, char_to_word = split_words(" a\u202fbc\td ")
    assert words == ["a", "bc", "d"]
    assert char_to_word.tolist() == [-1, 0, 0, 1, 1, 1, 2, 2]


@pytest.fixture(scope="module")
def encoder():
    return WordPieceEncoder(VOCAB, do_lower_case=True)


def test_training_labels_point_at_the_answer_in_each_window(tmp_path, encoder):
    data = read_squad_file(write_squad(tmp_path / "t.json"), is_training=True)
    featurizer = Featurizer(encoder, max_seq_length=24, doc_stride=6, max_query_length=8)
    for index, question in enumerate(data.questions):
        features = featurizer.question_features(data, index, is_training=True)
        assert len(features) > 1  # the contexts need several windows at 24 tokens
        labelled = [f for f in features if f.start_position > 0]
        assert labelled, question.qas_id
        for f in features:
            assert len(f.input_ids) <= 24 and f.input_ids[0] == encoder.cls_id
            if f.start_position == 0:
                assert f.end_position == 0
                continue
            pieces = [encoder.vocab[i] for i in f.input_ids[f.start_position:f.end_position + 1]]
            text = " ".join(pieces).replace(" ##", "")
            assert text == " ".join(w.lower() for w in question.answer_text.split()).replace(
                "(", "( ").replace(")", " )")
            assert (f.segment_ids[f.start_position:f.end_position + 1] == 1).all()


def test_answer_span_narrows_to_the_answer_text(tmp_path, encoder):
    # The answer's white-space words are "(a good year)."; its pieces are "good year".
    paragraphs = [("It was (a good year).", [("n1", "What?", "good year")])]
    data = read_squad_file(write_squad(tmp_path / "n.json", paragraphs), is_training=True)
    assert (data.questions[0].start_word, data.questions[0].end_word) == (3, 4)
    feature = Featurizer(encoder, 32, 8, 8).question_features(data, 0, True)[0]
    pieces = [encoder.vocab[i] for i in feature.input_ids[feature.start_position:
                                                           feature.end_position + 1]]
    assert pieces == ["good", "year"]  # not "good year ) .": narrowed as Google's


def test_query_is_truncated_and_windows_fill_the_rest(tmp_path, encoder):
    long_question = " ".join(["what"] * 30) + "?"
    paragraphs = [(PARAGRAPHS[0][0], [("l1", long_question, "on the mat")])]
    data = read_squad_file(write_squad(tmp_path / "l.json", paragraphs), is_training=False)
    features = Featurizer(encoder, 32, 8, 5).question_features(data, 0, False)
    for f in features:
        assert (f.segment_ids == 0).sum() == 5 + 2   # [CLS] 5 question pieces [SEP]
        assert f.token_to_word[:7].tolist() == [-1] * 7 and f.token_to_word[-1] == -1
    assert len(features[0].input_ids) == 32


def test_gzip_and_v2_impossible(tmp_path):
    path = tmp_path / "v2.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(squad_json(PARAGRAPHS, version="v2.0", impossible={"q2"}), f)
    data = read_squad_file(str(path), is_training=True, version_2_with_negative=True,
                           max_questions=4)
    assert [q.qas_id for q in data.questions] == ["q1", "q2", "q3", "q4"]
    assert data.questions[1].is_impossible and data.questions[1].start_word == -1
    assert len(data.paragraphs) == 2 and data.questions[3].paragraph == 1


@pytest.mark.parametrize("change, message", [
    (lambda d: d["data"][0]["paragraphs"][0]["qas"][1]["answers"][0].update(answer_start=999),
     "question 'q2': answer_start 999"),
    (lambda d: d["data"][0]["paragraphs"][0]["qas"][2].update(answers=[]),
     "question 'q3' has no answer"),
    (lambda d: d["data"][0]["paragraphs"][1]["qas"][0].pop("question"), "question 'q4'"),
    (lambda d: d.pop("data"), "\"data\" list"),
])
def test_bad_files_name_the_file_and_question(tmp_path, change, message):
    document = squad_json(PARAGRAPHS)
    change(document)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DataError) as error:
        read_squad_file(str(path), is_training=True)
    assert str(path) in str(error.value) and message in str(error.value)
