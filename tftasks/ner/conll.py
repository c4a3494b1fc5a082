"""CoNLL-style files: one word a line (token and tag columns), a blank line between sentences.

Columns are tab-separated when the line has a tab, else separated by white
space; `token_column` and `tag_column` are 0-based (negative counts from the
end: -1 is the last column, CoNLL-2003's NER tag). Lines starting with
`-DOCSTART-` are skipped (they also end a sentence). Every problem is a
`DataError` naming the file and line.

Example:

    sentences = read_conll("train.conll")                  # token 0, tag -1
    sentences.words[0], sentences.tags[0], sentences.where(0, 2)
    # ['Empire', 'State'], ['B-location', 'I-location'], 'train.conll, line 3'
"""

import dataclasses
import os
from typing import List, Optional

from tftasks.common.errors import DataError
from tftasks.ner.tags import split_tag

DOCSTART = "-DOCSTART-"


@dataclasses.dataclass
class Sentences:
    """One split: `words [n][(words)]`, `tags` (same shape, or None), where each word was."""

    words: List[List[str]]
    tags: Optional[List[List[str]]]
    source: str
    lines: List[List[int]]  # 1-based line number of each word (for TFDS, the record)
    unit: str = "line"

    def __len__(self):
        return len(self.words)

    def head(self, n):
        """The first `n` sentences (all when n is falsy or larger)."""
        if not n or n >= len(self):
            return self
        return dataclasses.replace(self, words=self.words[:n], lines=self.lines[:n],
                                   tags=None if self.tags is None else self.tags[:n])

    def where(self, sentence, word):
        """'file, line N' of a word, for error messages."""
        return f"{self.source}, {self.unit} {self.lines[sentence][word]}"


def _columns(line):
    return line.split("\t") if "\t" in line else line.split()


def _pick(fields, column):
    try:
        return fields[column].strip()
    except IndexError:
        return None


def read_conll(path, token_column=0, tag_column=-1, need_tags=True):
    """Reads `path` into `Sentences`.

    Args:
      need_tags: every word must have a tag (training, evaluation); when False
        (prediction) a file of words alone reads with `tags=None`.
    Raises:
      DataError naming the file and line: a missing file, a missing column, an
      empty token, a malformed tag, a file without sentences.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file.")
    words, tags, lines = [], [], []
    sentence = ([], [], [])
    untagged_line = None

    def close():
        if sentence[0]:
            for store, part in zip((words, tags, lines), sentence):
                store.append(list(part))
            for part in sentence:
                part.clear()

    with open(path, encoding="utf-8", errors="strict") as f:
        number = 0
        try:
            for number, raw in enumerate(f, 1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    close()
                    continue
                fields = _columns(line)
                if fields[0].strip() == DOCSTART:
                    close()
                    continue
                token, tag = _pick(fields, token_column), _pick(fields, tag_column)
                if not token:
                    raise DataError(f"{path}, line {number}: no token in column {token_column} "
                                    f"(--token_column); the line has {len(fields)} column(s).")
                if len(fields) < 2 or not tag:
                    if need_tags:
                        raise DataError(f"{path}, line {number}: expected a token and a tag "
                                        f"(column {tag_column}, --tag_column); the line has "
                                        f"{len(fields)} column(s): {line!r}.")
                    untagged_line = untagged_line or number
                    tag = None
                elif need_tags or untagged_line is None:
                    try:
                        split_tag(tag)
                    except ValueError as e:
                        raise DataError(f"{path}, line {number}: {e} (column {tag_column}, "
                                        "--tag_column).") from None
                sentence[0].append(token)
                sentence[1].append(tag)
                sentence[2].append(number)
        except UnicodeDecodeError as e:
            raise DataError(f"{path}, line {number + 1}: not UTF-8 ({e.reason}).") from None
    close()
    if not words:
        raise DataError(f"{path}: no sentences (expected 'token<TAB>tag' lines, a blank line "
                        "between sentences).")
    return Sentences(words, None if untagged_line else tags, path, lines)
