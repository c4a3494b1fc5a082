"""CoNLL reading and its errors, the tag set, first-wordpiece features, the masked loss, and
the in-graph entity decoding against the Python chunks."""

import random

import numpy as np
import pytest
import tensorflow as tf

from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.common.errors import DataError
from tftasks.ner.conll import read_conll
from tftasks.ner.export import PREFIX_CODES, decode_entities
from tftasks.ner.features import IGNORE, make_dataset, make_features, windows
from tftasks.ner.labels import TagSet
from tftasks.ner.tags import chunks, split_tag
from tftasks.ner.task import TokenClassificationTask

VOCAB = "tests/fixtures/hf_bert_tiny/vocab.txt"


@pytest.fixture(scope="module")
def encoder():
    return WordPieceEncoder(VOCAB, do_lower_case=True)


def write(tmp_path, text, name="f.conll"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_read_conll_docstart_columns_and_blank_lines(tmp_path):
    path = write(tmp_path, "-DOCSTART- -X- O O\n\nEmpire NNP B-LOC\nState NNP I-LOC\n\n\n"
                           "\t\nthe\tO\nParis\tB-LOC\n-DOCSTART-\tO\nBob  B-PER\n")
    s = read_conll(path)
    assert s.words == [["Empire", "State"], ["the", "Paris"], ["Bob"]]
    assert s.tags == [["B-LOC", "I-LOC"], ["O", "B-LOC"], ["B-PER"]]
    assert s.where(0, 1) == f"{path}, line 4" and s.where(2, 0) == f"{path}, line 11"
    swapped = read_conll(write(tmp_path, "B-PER\tBob\n", "swapped.conll"), token_column=1,
                         tag_column=0)
    assert swapped.words == [["Bob"]] and swapped.tags == [["B-PER"]]


@pytest.mark.parametrize("text, line, what", [
    ("a O\nb\n", 2, "expected a token and a tag"),
    ("a O\n\nb X-PER\n", 3, "'X-PER'"),
    ("a O\nb B-\n", 2, "'B-'"),
])
def test_read_conll_errors_name_the_line(tmp_path, text, line, what):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=rf"f\.conll, line {line}: .*{what}"):
        read_conll(path)


def test_read_conll_missing_empty_and_unlabelled(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_conll(str(tmp_path / "none.conll"))
    with pytest.raises(DataError, match="no sentences"):
        read_conll(write(tmp_path, "-DOCSTART- O\n\n"))
    words_only = read_conll(write(tmp_path, "a\nb\n\nc\n"), need_tags=False)
    assert words_only.tags is None and words_only.words == [["a", "b"], ["c"]]


def test_tag_set_learned_encoded_and_checked(tmp_path):
    train = read_conll(write(tmp_path, "a B-PER\nb I-PER\nc O\n\nd B-LOC\n", "train.conll"))
    tag_set = TagSet.learn(train)
    assert tag_set == TagSet(["O", "B-LOC", "B-PER", "I-PER"], "IOB2")
    assert TagSet.from_json(tag_set.to_json()) == tag_set
    assert TagSet.from_json({"task_type": "classification"}) is None
    dev = read_conll(write(tmp_path, "a O\n\nb B-ORG\n", "dev.conll"))
    with pytest.raises(DataError, match=r"dev\.conll, line 3: tag 'B-ORG' is not among"):
        tag_set.encode(dev)
    bioes = read_conll(write(tmp_path, "a S-PER\n", "s.conll"))
    with pytest.raises(DataError, match=r"s\.conll, line 1: .*not an IOB2 tag.*look BIOES"):
        TagSet.learn(bioes, "IOB2")


def test_first_wordpiece_labels_and_ignore_mask(tmp_path, encoder):
    s = read_conll(write(tmp_path, "Paris B-LOC\nhello O\nplaying O\n\u200b O\ncat. B-PER\n"))
    tag_set = TagSet.learn(s)
    f = make_features(s, tag_set.encode(s), encoder, 16, split_long=True)
    pieces = [encoder.encode([w])[0].tolist() or [encoder.unk_id] for w in s.words[0]]
    flat = [encoder.cls_id] + sum(pieces, []) + [encoder.sep_id]
    n = len(flat)
    assert f.arrays["input_ids"][0, :n].tolist() == flat
    assert f.arrays["input_mask"][0].tolist() == [1] * n + [0] * (16 - n)
    firsts = np.cumsum([1] + [len(p) for p in pieces[:-1]])
    expected = np.full(16, IGNORE)
    expected[firsts] = tag_set.encode(s)[0]
    assert f.arrays["label_ids"][0].tolist() == expected.tolist()
    assert f.word_index[0][firsts].tolist() == [0, 1, 2, 3, 4]
    assert (f.word_index[0] >= 0).sum() == 5   # one labelled position a word, incl. "\u200b"


def test_long_sentences_windows_for_eval_truncation_for_training(tmp_path, encoder):
    words = ["Paris", "hello", "cat", "Paris", "dog", "hello"]  # 5 + 1 + 1 + 5 + 1 + 1 pieces
    s = read_conll(write(tmp_path, "".join(f"{w} O\n" for w in words)))
    ids = TagSet.learn(s).encode(s)
    assert windows([5, 1, 1, 5, 1, 1], 7) == [(0, 3), (3, 6)]
    evaluated = make_features(s, ids, encoder, 9, split_long=True)
    assert evaluated.sentence.tolist() == [0, 0]
    assert sorted(evaluated.word_index[evaluated.word_index >= 0].tolist()) == list(range(6))
    trained = make_features(s, ids, encoder, 9, split_long=False)
    assert len(trained) == 1 and trained.dropped_words == 3
    assert (trained.arrays["label_ids"] >= 0).sum() == 3
    whole = make_features(s, ids, encoder, 32, split_long=True)   # 14 pieces + 2
    batch = next(iter(make_dataset(whole, 2)))
    assert batch["input_ids"].shape == (1, 16) and batch["label_ids"].shape == (1, 16)




def test_masked_cross_entropy_counts_labelled_tokens_only():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=[2, 5, 3]).astype(np.float32)
    labels = np.array([[IGNORE, 2, IGNORE, 0, IGNORE], [IGNORE, 1, IGNORE, IGNORE, IGNORE]],
                      np.int32)
    batch = {"input_ids": tf.zeros([2, 5], tf.int32), "input_mask": tf.ones([2, 5], tf.int32),
             "segment_ids": tf.zeros([2, 5], tf.int32), "label_ids": tf.constant(labels)}
    task = TokenClassificationTask()
    sums = task.numerators(lambda inputs, training: tf.constant(logits), batch, False)
    counts = task.denominators(batch)
    where = labels >= 0
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -log_p[where, labels[where]].sum()
    assert float(counts["cross_entropy"]) == 3.0
    assert float(sums["cross_entropy"]) == pytest.approx(expected, rel=1e-5)
    hits = (logits.argmax(-1) == labels)[where].sum()
    assert float(sums["accuracy"]) == hits


def test_in_graph_decoding_equals_python_chunks():
    rng = random.Random(3)
    tags = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
    kinds = {"": 0, "PER": 1, "LOC": 2}
    for _ in range(20):
        sentences = [[rng.choice(tags) for _ in range(rng.randint(0, 9))] for _ in range(4)]
        flat = [t for s in sentences for t in s]
        rows = [i for i, s in enumerate(sentences) for _ in s]
        parts = [split_tag(t) for t in flat]
        first, last = decode_entities(tf.constant([PREFIX_CODES[p] for p, _ in parts], tf.int32),
                                      tf.constant([kinds[k] for _, k in parts], tf.int32),
                                      tf.constant(rows, tf.int64))
        offsets = np.cumsum([0] + [len(s) for s in sentences])
        expected = [(int(offsets[i]) + a, int(offsets[i]) + b)
                    for i, s in enumerate(sentences) for _, a, b in chunks(s)]
        assert list(zip(first.numpy().tolist(), last.numpy().tolist())) == expected


def test_tag_set_of_a_folder(tmp_path):
    import json

    from tftasks.common.outputs import write_labels
    from tftasks.ner.session import tag_set_of_folder
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"id2label": {"1": "O", "0": "B-PER", "2": "I-PER"}}))
    assert tag_set_of_folder(str(tmp_path)) == TagSet(["B-PER", "O", "I-PER"], "IOB2")
    config.write_text(json.dumps({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}))
    assert tag_set_of_folder(str(tmp_path)) is None
    write_labels(str(tmp_path), TagSet(["O", "S-X"], "BIOES"))   # labels.json wins
    assert tag_set_of_folder(str(tmp_path)) == TagSet(["O", "S-X"], "BIOES")


def test_predictions_file_lines(tmp_path):
    from tftasks.ner.session import conll_lines
    words_only = read_conll(write(tmp_path, "Alice\nsat\n\nBob\n"), need_tags=False)
    assert conll_lines(words_only, [["B-PER", "O"], ["B-PER"]]) == (
        "Alice B-PER\nsat O\n\nBob B-PER\n\n")
    tagged = read_conll(write(tmp_path, "Alice B-PER\n", "t.conll"))
    assert conll_lines(tagged, [["O"]]) == "Alice B-PER O\n\n"
