"""Text -> token ids for the writer, in batches: WordPiece and characters.

* `WordPieceEncoder`: `tfbert.tokenization.BertTokenizer` (in-graph WordPiece,
  the ids of Google's `FullTokenizer` / Hugging Face's `BertTokenizer`).
* `CharEncoder`: one id per Unicode character, for character-level GPT.
* `BytePairEncoder`: GPT-2 byte-level BPE (`vocab.json` + `merges.txt`), through
  `tfgpt.tokenization.BytePairTokenizer`.

Character vocabulary file (`vocab.json`): a JSON object mapping each token to
its id, ids 0..V-1 (the layout of GPT-2's `vocab.json`). Id 0 is
`<|endoftext|>`, the separator between documents; the characters of the
corpus follow in code point order. Newlines inside a document are the
character "\\n". Characters missing from a given vocabulary are dropped and
counted.

Example:

    encoder = WordPieceEncoder("vocab.txt", do_lower_case=True)
    flat, lengths = encoder.encode(["Hello world.", "Second sentence."])
    # flat: int64 [total tokens]; lengths: int64 [2]
"""

import json

import numpy as np

END_OF_TEXT = "<|endoftext|>"


class WordPieceEncoder:
    """Batches of text -> WordPiece ids (no special tokens); vocab facts for masking.

    Attributes: `vocab` (list), `vocab_size`, `cls_id`, `sep_id`, `pad_id`,
    `mask_id`, `unk_id`, `is_continuation` (bool `[vocab_size]`, True for
    `##` pieces) and `random_ids` (int64 ids of ordinary tokens: not
    `[...]`-bracketed entries such as `[PAD]`, `[MASK]`, `[unused7]`).
    """

    def __init__(self, vocab_file, do_lower_case=True):
        from tfbert.tokenization import BertTokenizer
        self._tokenizer = BertTokenizer(vocab_file, do_lower_case=do_lower_case)
        self.vocab = self._tokenizer.vocab
        for name in ("cls_id", "sep_id", "pad_id", "mask_id", "unk_id", "vocab_size"):
            setattr(self, name, getattr(self._tokenizer, name))
        self.is_continuation = np.array([t.startswith("##") for t in self.vocab])
        bracketed = np.array([t.startswith("[") and t.endswith("]") for t in self.vocab])
        self.random_ids = np.flatnonzero(~bracketed)
        if not self.random_ids.size:
            raise ValueError(f"vocab file {vocab_file!r} has no ordinary tokens")
        # Eager: tracing a tf.function costs more than the whole of a small run.
        self._tokenize = self._tokenizer.tokenize
        self.dropped_chars = 0

    def token_id(self, token, flag):
        """Id of `token`; a ValueError naming `flag` when the vocab lacks it."""
        try:
            return self.vocab.index(token)
        except ValueError:
            raise ValueError(f"--{flag}={token!r} is not in the vocabulary") from None

    def encode(self, texts):
        """list of str `[n]` -> (flat int64 ids, int64 `[n]` token counts)."""
        if not texts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ragged = self._tokenize(texts)
        return (ragged.flat_values.numpy().astype(np.int64),
                ragged.row_lengths().numpy().astype(np.int64))


class BytePairEncoder:
    """Batches of text -> GPT-2 byte-level BPE ids (`tfgpt.tokenization.BytePairTokenizer`)."""

    def __init__(self, vocab_file, merges_file):
        from tfgpt.tokenization import BytePairTokenizer
        self._tokenizer = BytePairTokenizer(vocab_file, merges_file)
        self.eot_id = self._tokenizer.end_token_id
        if self.eot_id is None:
            raise ValueError(f"BPE vocab {vocab_file!r} has no {END_OF_TEXT!r} token to put "
                             "between documents")
        self.dropped_chars = 0

    def encode(self, texts):
        """list of str `[n]` -> (flat int64 ids, int64 `[n]` token counts)."""
        if not texts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ragged = self._tokenizer.tokenize(texts)
        return (ragged.flat_values.numpy().astype(np.int64),
                ragged.row_lengths().numpy().astype(np.int64))


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
        import tensorflow as tf
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"character vocab file not found: {path!r}")
        with tf.io.gfile.GFile(path, "r") as f:
            mapping = json.load(f)
        tokens = sorted(mapping, key=mapping.get)
        if [mapping[t] for t in tokens] != list(range(len(tokens))):
            raise ValueError(f"{path!r}: ids must be 0..{len(tokens) - 1}, each once")
        return cls(tokens)

    def save(self, path):
        import tensorflow as tf
        with tf.io.gfile.GFile(path, "w") as f:
            json.dump({t: i for i, t in enumerate(self.vocab)}, f, ensure_ascii=False,
                      indent=0)

    def encode(self, texts):
        """list of str `[n]` -> (flat int64 ids, int64 `[n]` counts)."""
        code_points = np.frombuffer("".join(texts).encode("utf-32-le"), "<u4").astype(np.int64)
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
    code_points = np.frombuffer("".join(texts).encode("utf-32-le"), "<u4")
    values, counts = np.unique(code_points, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))
