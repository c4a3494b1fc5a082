"""Local files, GLUE folders and TFDS datasets read into Examples; labels and their errors."""

import json

import numpy as np
import pytest

from tfbert.classifier_data import ColumnSpec, DataError, LabelSpace, read_examples
from tfbert.classifier_glue import glue_task


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_tsv_csv_jsonl_read_the_same_examples(tmp_path):
    tsv = write(tmp_path / "a.tsv", "id\ttext\tlabel\n1\tgood film\tpos\n2\tbad \"film\tneg\n")
    csv = write(tmp_path / "a.csv", 'id,text,label\n1,good film,pos\n2,"bad ""film",neg\n')
    jsonl = write(tmp_path / "a.jsonl", '{"text": "good film", "label": "pos"}\n\n'
                                        '{"text": "bad \\"film", "label": "neg"}\n')
    for path in (tsv, csv, jsonl):
        examples = read_examples(path, ColumnSpec("text"))
        assert examples.text_a == ["good film", 'bad "film'], path
        assert examples.labels == ["pos", "neg"] and examples.text_b is None
    assert read_examples(tsv, ColumnSpec("text")).rows == [2, 3]
    by_index = read_examples(tsv, ColumnSpec("1", label="2"))
    assert by_index.text_a == ["good film", 'bad "film']


def test_labels_are_learned_sorted_and_checked(tmp_path):
    train = read_examples(write(tmp_path / "t.tsv", "text\tlabel\na\tzeta\nb\talpha\nc\tzeta\n"),
                          ColumnSpec("text"))
    space = LabelSpace.learn("classification", train)
    assert space.names == ["alpha", "zeta"]
    np.testing.assert_array_equal(space.encode(train), [1, 0, 1])
    dev = read_examples(write(tmp_path / "d.tsv", "text\tlabel\na\talpha\nb\tgamma\n"),
                        ColumnSpec("text"))
    with pytest.raises(DataError, match=r"d\.tsv, row 3: column 'label': label 'gamma' is "
                                        r"not one of the labels learned from .*t\.tsv"):
        space.encode(dev)


@pytest.mark.parametrize("text, error", [
    ("", r"e\.tsv: the file is empty"),
    ("text\tlabel\n", r"e\.tsv: the file has no examples"),
    ("text\tlabel\nfine\tpos\nno label here\n", r"e\.tsv, row 3: 1 column\(s\), but column "
                                                 r"'label' is number 1"),
    ("sentence\tlabel\nx\ty\n", r"e\.tsv: no column 'text' \(--text_column\)"),
])
def test_bad_tsv_files_name_file_row_and_column(tmp_path, text, error):
    with pytest.raises(DataError, match=error):
        read_examples(write(tmp_path / "e.tsv", text), ColumnSpec("text"))


def test_bad_jsonl_and_unknown_extension(tmp_path):
    path = write(tmp_path / "e.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"}\n')
    with pytest.raises(DataError, match=r"e\.jsonl, row 2: missing key 'label'"):
        read_examples(path, ColumnSpec("text"))
    with pytest.raises(DataError, match=r"row 1: invalid JSON"):
        read_examples(write(tmp_path / "f.jsonl", "{nope\n"), ColumnSpec("text"))
    with pytest.raises(DataError, match=r"unknown file type '\.txt'"):
        read_examples(write(tmp_path / "g.txt", "x"), ColumnSpec("text"))
    # A prediction file needs no label column.
    assert read_examples(path, ColumnSpec("text"), with_labels=False).labels is None


def test_multilabel_and_regression_labels(tmp_path):
    rows = [{"text": "a", "label": ["x", "y"]}, {"text": "b", "label": "z|x"},
            {"text": "c", "label": ""}]
    path = write(tmp_path / "m.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    examples = read_examples(path, ColumnSpec("text"))
    space = LabelSpace.learn("multilabel", examples, separator="|")
    assert space.names == ["x", "y", "z"]
    np.testing.assert_array_equal(space.encode(examples), [[1, 1, 0], [1, 0, 1], [0, 0, 0]])
    scores = read_examples(write(tmp_path / "r.csv", "text,label\na,0.5\nb,4\nc,high\n"),
                           ColumnSpec("text"))
    regression = LabelSpace.learn("regression", scores)
    assert regression.num_labels == 1
    with pytest.raises(DataError, match=r"r\.csv, row 4: column 'label': 'high' is not a number"):
        regression.encode(scores)


def glue_folder(tmp_path, task):
    folder = tmp_path / task
    folder.mkdir()
    if task == "mrpc":
        header = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        write(folder / "train.tsv", header + "1\t1\t2\tthe cat\ta cat\n0\t3\t4\tdog\tmat\n")
        write(folder / "test.tsv", "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\tx\ty\n")
    elif task == "cola":
        write(folder / "train.tsv", "src\t1\t\tthe cat sat .\nsrc\t0\t*\tcat the sat .\n")
        write(folder / "test.tsv", "index\tsentence\n0\tthe dog sat .\n")
    elif task == "xnli":
        (folder / "multinli").mkdir()
        write(folder / "multinli" / "multinli.train.zh.tsv",
              "premise\thypo\tlabel\n猫\t狗\tcontradictory\n猫\t猫\tentailment\n")
        cols = "language\tgold_label\ts1b\ts2b\ts1p\ts2p\tsentence1\tsentence2\n"
        write(folder / "xnli.dev.tsv", cols + "en\tneutral\t-\t-\t-\t-\tcat\tdog\n"
                                              "zh\tneutral\t-\t-\t-\t-\t猫\t狗\n")
    elif task == "sts-b":
        cols = ["index", "genre", "filename", "year", "old_index", "source1", "source2",
                "sentence1", "sentence2", "score"]
        write(folder / "train.tsv", "\t".join(cols) + "\n0\tg\tf\t2012\t1\ts\ts\ta cat\t"
                                                       "the cat\t4.2\n")
    return str(folder)


def test_glue_folders_as_google_reads_them(tmp_path):
    mrpc = glue_task("MRPC")
    train = mrpc.read(glue_folder(tmp_path, "mrpc"), "train")
    assert (train.text_a, train.text_b, train.labels) == (["the cat", "dog"], ["a cat", "mat"],
                                                          ["1", "0"])
    assert mrpc.read(str(tmp_path / "mrpc"), "test").labels is None
    cola = glue_task("cola")
    train = cola.read(glue_folder(tmp_path, "cola"), "train")
    assert (train.text_a, train.labels, train.rows) == (["the cat sat .", "cat the sat ."],
                                                        ["1", "0"], [1, 2])
    assert cola.read(str(tmp_path / "cola"), "test").text_a == ["the dog sat ."]
    xnli = glue_task("xnli")
    folder = glue_folder(tmp_path, "xnli")
    assert xnli.read(folder, "train").labels == ["contradiction", "entailment"]
    dev = xnli.read(folder, "dev", language="zh")
    assert (dev.text_a, dev.text_b, dev.labels) == (["猫"], ["狗"], ["neutral"])
    stsb = glue_task("stsb")
    assert stsb.task_type == "regression"
    assert stsb.label_space().encode(stsb.read(glue_folder(tmp_path, "sts-b"), "train"))[0] == \
        pytest.approx(4.2)


def test_mismatched_task_and_folder_is_named(tmp_path):
    cola = glue_folder(tmp_path, "cola")
    with pytest.raises(DataError, match=r"train\.tsv: header column 3 is 'the cat sat \.', expected "
                                        r"'#1 String'.*--task_name=mrpc"):
        glue_task("mrpc").read(cola, "train")
    mrpc = glue_folder(tmp_path, "mrpc")
    with pytest.raises(DataError, match=r"dev_matched\.tsv: not found.*--task_name=mnli"):
        glue_task("mnli").read(mrpc, "dev")
    # CoLA has no header row: a wrong folder shows up in the labels instead.
    examples = glue_task("cola").read(mrpc, "train")
    with pytest.raises(DataError, match=r"row 1: column 1: label '#1 ID' is not one of the "
                                        r"labels of GLUE task 'cola'"):
        glue_task("cola").label_space().encode(examples)
    with pytest.raises(KeyError, match="Unknown --task_name 'glue'"):
        glue_task("glue")


def test_qqp_skips_malformed_rows(tmp_path):
    folder = tmp_path / "qqp"
    folder.mkdir()
    write(folder / "train.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                                "0\t1\t2\twhy?\twhy not?\t1\n1\t3\t4\tbroken\n")
    train = glue_task("qqp").read(str(folder), "train")
    assert train.text_a == ["why?"] and train.rows == [2]


def test_tfds_features_are_inferred():
    tfds = pytest.importorskip("tensorflow_datasets")
    from tfbert.classifier_tfds import TfdsSource
    with tfds.testing.mock_data(num_examples=5):
        mrpc = TfdsSource("glue/mrpc")
        assert mrpc.text_keys == ["sentence1", "sentence2"] and mrpc.label_key == "label"
        assert mrpc.label_space().names == ["not_equivalent", "equivalent"]
        train = mrpc.read("train")
        assert len(train) == 5 and len(train.text_b) == 5
        assert set(train.labels) <= {"not_equivalent", "equivalent"}
        assert TfdsSource("imdb_reviews").text_keys == ["text"]
        assert TfdsSource("glue/stsb").label_space().task_type == "regression"
        with pytest.raises(DataError, match="no feature 'review'"):
            TfdsSource("imdb_reviews", text_keys=["review"])
