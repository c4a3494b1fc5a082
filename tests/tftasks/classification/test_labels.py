"""Labels learned from training examples, encoded and checked."""

import json

import numpy as np
import pytest

from tests.tftasks.files import write
from tftasks.classification.labels import LabelSpace
from tftasks.common.errors import DataError
from tftasks.common.tables import ColumnSpec, read_examples


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
