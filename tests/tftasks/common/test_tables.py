"""Local TSV, CSV and JSON-lines files read into Examples; errors name file, row, column."""

import pytest

from tests.tftasks.files import write
from tftasks.common.errors import DataError
from tftasks.common.tables import ColumnSpec, read_examples


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
