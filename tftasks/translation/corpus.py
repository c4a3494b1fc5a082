"""Parallel text: two aligned files or one TSV -> (source, target) string pairs.

Inputs:
  * two files, one sentence per line, line i of the source translating line i
    of the target (Multi30k's `train.de.gz` / `train.en.gz`); `.gz` files are
    decompressed;
  * one TSV file, `source<TAB>target` on each line (exactly one tab).

Lines are split on "\\n" only (not on the other separators of
`str.splitlines`, such as U+2028 or form feed, which may occur inside a
sentence), and only the line terminator is removed ("\\n", or "\\r\\n" of a
Windows file). Other whitespace is kept: 40 German Multi30k training lines end
in a space and they are returned as they are, because references for sacreBLEU
must be the raw lines, and SentencePiece's normalizer drops surrounding and
repeated spaces itself when encoding. A final line without a terminator is a
line; a file ending in "\\n" has no extra empty line.

Errors are `DataError`s naming the file and the 1-based line: different line
counts of the two files, a TSV line without exactly one tab, bytes that are not
UTF-8. A missing file is a `ConfigError` naming it.

Example:

    pairs = read_parallel("train.de.gz", "train.en.gz")     # [("Zwei junge ...", "Two young ..."), ...]
    pairs = read_parallel("train.tsv", max_rows=1000)        # one TSV file
    sources, targets = split_pairs(pairs)
"""

import gzip
import os

from tftasks.common.errors import ConfigError, DataError


def _open_binary(path):
    if not os.path.exists(path):
        raise ConfigError(f"parallel text file not found: {path}")
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_lines(path, max_rows=None):
    """The lines of a UTF-8 text file (`.gz` accepted), terminators removed.

    Returns:
      list of str, at most `max_rows` (None: all).

    Raises:
      DataError: a line is not UTF-8 (names the file, line and byte offset).
    """
    lines = []
    with _open_binary(path) as f:
        for number, raw in enumerate(f, start=1):
            if max_rows is not None and len(lines) >= max_rows:
                break
            if raw.endswith(b"\n"):
                raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise DataError(f"{path}, line {number}: not UTF-8 text "
                                f"(byte {e.start}: {raw[e.start:e.start + 4]!r})") from None
    return lines


def _count_lines(path):
    with _open_binary(path) as f:
        return sum(1 for _ in f)


def _read_tsv(path, max_rows):
    pairs = []
    for number, line in enumerate(read_lines(path, max_rows), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataError(f"{path}, line {number}: expected source<TAB>target (one tab), "
                            f"found {len(fields) - 1} tab(s): {line[:80]!r}")
        pairs.append((fields[0], fields[1]))
    return pairs


def read_parallel(source_path, target_path=None, max_rows=None):
    """Reads a parallel corpus.

    Args:
      source_path: the source-language file, or the TSV file when
        `target_path` is None.
      target_path: the target-language file, line-aligned with the source.
      max_rows: read at most this many pairs (the first ones); None: all.
        With two files, their line counts must still agree.

    Returns:
      list of `(source, target)` str tuples, in file order.

    Raises:
      ConfigError: a file does not exist.
      DataError: the files' line counts differ, a TSV line has not exactly one
        tab, or a line is not UTF-8 (each names the file and line).
    """
    if max_rows is not None and max_rows < 0:
        raise ConfigError(f"max_rows must be >= 0 or None, got {max_rows}")
    if target_path is None:
        return _read_tsv(source_path, max_rows)
    sources = read_lines(source_path, max_rows)
    targets = read_lines(target_path, max_rows)
    if max_rows is None or len(sources) < max_rows or len(targets) < max_rows:
        counts = (len(sources), len(targets))
    else:  # Both cut at max_rows: compare the whole files.
        counts = (_count_lines(source_path), _count_lines(target_path))
    if counts[0] != counts[1]:
        shorter = source_path if counts[0] < counts[1] else target_path
        raise DataError(f"parallel files differ in length: {source_path} has {counts[0]} lines, "
                        f"{target_path} has {counts[1]}; {shorter} ends at line {min(counts)}, "
                        f"the other goes on at line {min(counts) + 1}")
    return list(zip(sources, targets))


def split_pairs(pairs):
    """`[(source, target), ...]` -> `(sources, targets)`, two lists of str."""
    return [s for s, _ in pairs], [t for _, t in pairs]
