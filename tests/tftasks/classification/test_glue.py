"""GLUE and XNLI folders read as Google reads them; a wrong folder is named."""

import pytest

from tests.tftasks.files import write
from tftasks.classification.glue import glue_task
from tftasks.common.errors import DataError


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
