"""read_parallel: two files (.gz too) or TSV, raw lines kept, errors naming file and line."""

import gzip

import pytest

from tftasks.common.errors import ConfigError, DataError
from tftasks.translation.corpus import read_lines, read_parallel, split_pairs


def write(path, data):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(data)
    return str(path)


def test_two_files_gz_and_plain_keep_raw_text(tmp_path):
    source = write(tmp_path / "train.de.gz", "Zwei Männer \nÄrger\u2028mit Öl\n\n  Ende".encode())
    target = write(tmp_path / "train.en", b"Two men\r\nTrouble with oil\n\nEnd  \n")
    pairs = read_parallel(source, target)
    # Only terminators go: the trailing / leading spaces, U+2028 and empty lines stay.
    assert pairs == [("Zwei Männer ", "Two men"), ("Ärger\u2028mit Öl", "Trouble with oil"),
                     ("", ""), ("  Ende", "End  ")]
    assert split_pairs(pairs) == (["Zwei Männer ", "Ärger\u2028mit Öl", "", "  Ende"],
                                  ["Two men", "Trouble with oil", "", "End  "])
    assert read_parallel(source, target, max_rows=2) == pairs[:2]


def test_tsv(tmp_path):
    path = write(tmp_path / "pairs.tsv", "Hallo Welt\tHello world\nJa\tYes\n".encode())
    assert read_parallel(path) == [("Hallo Welt", "Hello world"), ("Ja", "Yes")]
    assert read_parallel(path, max_rows=1) == [("Hallo Welt", "Hello world")]


@pytest.mark.parametrize("line,tabs", [("no tab here", 0), ("a\tb\tc", 2)])
def test_tsv_line_without_exactly_one_tab(tmp_path, line, tabs):
    path = write(tmp_path / "pairs.tsv", f"ok\tfine\n{line}\n".encode())
    with pytest.raises(DataError, match=rf"pairs\.tsv, line 2: .*found {tabs} tab"):
        read_parallel(path)


def test_line_counts_differ(tmp_path):
    source = write(tmp_path / "a.de", b"1\n2\n3\n")
    target = write(tmp_path / "a.en", b"1\n2\n")
    with pytest.raises(DataError, match=r"a\.de has 3 lines, .*a\.en has 2.*ends at line 2"):
        read_parallel(source, target)
    # max_rows still checks the whole files.
    with pytest.raises(DataError, match="differ in length"):
        read_parallel(source, target, max_rows=2)


def test_undecodable_utf8_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.en", b"fine\nStra\xdfe\n")
    with pytest.raises(DataError, match=r"bad\.en, line 2: not UTF-8 text \(byte 4"):
        read_lines(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found: .*nothing.de"):
        read_parallel(str(tmp_path / "nothing.de"), str(tmp_path / "nothing.en"))
