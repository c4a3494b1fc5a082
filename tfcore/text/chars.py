"""Character-level vocabularies: one id per Unicode character, without TensorFlow.

A character vocabulary file (`vocab.json`) is a JSON object mapping each token
to its id, ids 0..V-1 (the layout of GPT-2's `vocab.json`). Id 0 is
`<|endoftext|>`, the separator between documents; the characters of the
corpus follow in code point order. Newlines inside a document are the
character "\\n". Characters missing from a given vocabulary are dropped and
counted. `tfgpt.CharTokenizer` reads the same file in the graph.

Example:

    encoder = CharEncoder.learn(count_code_points(["To be"]))
    flat, lengths = encoder.encode(["be"])     # ids of "b", "e"; lengths [2]
    encoder.save("vocab.json")
"""

import json

import numpy as np

from tfcore.text import vocab as vocab_files
from tfcore.text.vocab import END_OF_TEXT


def _code_points(texts):
    return np.frombuffer("".join(texts).encode("utf-32-le"), "<u4")


class CharEncoder:
    """Batches of text -> one id per character, from a `vocab.json` (see module doc)."""

    def __init__(self, tokens):
        if not tokens or tokens[0] != END_OF_TEXT:
            raise ValueError(f"a character vocabulary starts with {END_OF_TEXT!r}")
        self.vocab = list(tokens)
        self.vocab_size = len(tokens)
        self.eot_id = 0
        chars = tokens[1:]
        if not chars or any(len(c) != 1 for c in chars):
            raise ValueError("a character vocabulary holds single characters after "
                             f"{END_OF_TEXT!r}")
        order = np.argsort([ord(c) for c in chars])
        self._code_points = np.array([ord(chars[i]) for i in order], np.int64)
        self._ids = order.astype(np.int64) + 1
        self.dropped_chars = 0

    @classmethod
    def learn(cls, code_point_counts):
        """Vocabulary of every character counted: {code point: count}."""
        return cls([END_OF_TEXT] + [chr(c) for c in sorted(code_point_counts)])

    @classmethod
    def from_file(cls, path):
        """Reads a character `vocab.json` (ids 0..V-1, each once)."""
        mapping = vocab_files.read_vocab_json(path, kind="character vocab")
        return cls(vocab_files.tokens_by_id(mapping))

    def save(self, path):
        """Writes the `vocab.json` that `from_file` and `tfgpt.CharTokenizer` read."""
        with vocab_files.open_text(path, "w") as f:
            json.dump({t: i for i, t in enumerate(self.vocab)}, f, ensure_ascii=False,
                      indent=0)

    def encode(self, texts):
        """list of str `[n]` -> (flat int64 ids, int64 `[n]` counts)."""
        code_points = _code_points(texts).astype(np.int64)
        where = np.searchsorted(self._code_points, code_points)
        where = np.minimum(where, len(self._code_points) - 1)
        known = self._code_points[where] == code_points
        lengths = np.array([len(t) for t in texts], np.int64)
        if not known.all():
            self.dropped_chars += int((~known).sum())
            rows = np.repeat(np.arange(len(texts)), lengths)
            lengths = np.bincount(rows[known], minlength=len(texts)).astype(np.int64)
        return self._ids[where[known]], lengths


def count_code_points(texts):
    """{code point: count} of a list of str (a step of learning a `CharEncoder`)."""
    values, counts = np.unique(_code_points(texts), return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))
