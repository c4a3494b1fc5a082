"""Text -> token ids for the writer, in batches: WordPiece and characters.

* `WordPieceEncoder`: the ids of `tfbert.tokenization.BertTokenizer` (Google's
  `FullTokenizer` / Hugging Face's `BertTokenizer`), computed in Python
  without TensorFlow (see below).
* `CharEncoder`: one id per Unicode character, for character-level GPT.
* `BytePairEncoder`: GPT-2 byte-level BPE (`vocab.json` + `merges.txt`), through
  `tfgpt.tokenization.BytePairTokenizer`.

Why WordPiece in Python: the BERT writer then never imports TensorFlow
(~3 s idle, far more on a loaded machine, in every worker process), and a
corpus repeats its words, so each distinct whitespace-separated token is
tokenized once and looked up afterwards (~0.1 s of CPU for 1 MB of English
text, against ~0.2 s in the graph).
The steps are `tfbert.tokenization.BertTokenizer.basic_tokenize` and
`tokenize`, in its order, with its character classes (Python's
`unicodedata`): drop control characters, map white space to a space, put
spaces around CJK ideographs; per token: NFC; when lower-casing, lower-case,
NFD, drop non-spacing marks; split off punctuation; a word longer than
`MAX_INPUT_CHARS_PER_WORD` characters is `[UNK]`; greedy longest-match-first
WordPiece. Per token equals per line: every step but the split maps a
character on its own, or (NFC, NFD, final sigma) looks only at neighbours
that a space never joins. tests/tfrecords/test_encoders.py checks the ids
against the in-graph tokenizer.

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
import os
import re
import unicodedata

import numpy as np

END_OF_TEXT = "<|endoftext|>"
# The constants of tfbert.tokenization (google-research/bert tokenization.py
# and Hugging Face's defaults), restated so that this module needs no
# TensorFlow; tests/tfrecords/test_encoders.py checks they agree.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
SUFFIX_INDICATOR = "##"
MAX_INPUT_CHARS_PER_WORD = 100
CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)
# Distinct tokens remembered before the memo starts afresh: bounded memory
# (~200 bytes a token: ~50 MB) on corpora whose vocabulary never stops growing.
MAX_MEMO_TOKENS = 1 << 18
# ASCII characters that cleaning drops (category Cc but tab, newline, return).
_ASCII_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def char_class(cp):
    """"drop", "space", "punct", "mark" or None: `tfbert.tokenization._char_classes`."""
    if 0xD800 <= cp <= 0xDFFF:  # Surrogates: in no class there.
        return None
    ch = chr(cp)
    cat = unicodedata.category(ch)
    if cp in (0x0, 0xFFFD) or (cat[0] == "C" and ch not in "\t\n\r"):
        return "drop"
    if cat == "Zs" or ch.isspace():
        return "space"
    if cat[0] == "P" or (32 < cp < 127 and not ch.isalnum()):
        return "punct"
    return "mark" if cat == "Mn" else None


def _clean(cp):
    kind = char_class(cp)
    if kind == "drop":
        return None
    if kind == "space":
        return " "
    if any(lo <= cp <= hi for lo, hi in CJK_RANGES):
        return f" {chr(cp)} "
    return cp


class _Table(dict):
    """A `str.translate` table filled the first time a code point is seen."""

    def __init__(self, rule):
        super().__init__()
        self._rule = rule

    def __missing__(self, cp):
        value = self[cp] = self._rule(cp)
        return value


_CLEAN = _Table(_clean)
_MARKS = _Table(lambda cp: None if char_class(cp) == "mark" else cp)
_PUNCT = _Table(lambda cp: f" {chr(cp)} " if char_class(cp) == "punct" else cp)


def _exists(path):
    if "://" in path:  # gs:// and other file systems through TensorFlow.
        import tensorflow as tf
        return tf.io.gfile.exists(path)
    return os.path.isfile(path)


def _open_text(path, mode="r"):
    """UTF-8 text file, newlines untranslated; local files without TensorFlow."""
    if "://" in path:
        import tensorflow as tf
        return tf.io.gfile.GFile(path, mode)
    return open(path, mode, encoding="utf-8", newline="")


def read_vocab(vocab_file):
    """`vocab.txt` -> list of tokens (id = line), as `tfbert.tokenization.read_vocab`."""
    if not _exists(vocab_file):
        raise FileNotFoundError(f"BERT vocab file not found: {vocab_file!r}")
    with _open_text(vocab_file) as f:
        text = f.read()
    vocab = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if vocab[-1] == "":
        vocab.pop()
    seen = set()
    duplicates = [t for t in vocab if t in seen or seen.add(t)]
    if duplicates:
        raise ValueError(f"vocab file {vocab_file!r} repeats the token(s) "
                         f"{duplicates[:5]}; tokens must be unique")
    missing = [t for t in SPECIAL_TOKENS if t not in vocab]
    if missing:
        raise ValueError(f"vocab file {vocab_file!r} lacks the special token(s) "
                         f"{', '.join(missing)}")
    return vocab


class WordPieceEncoder:
    """Batches of text -> WordPiece ids (no special tokens); vocab facts for masking.

    Attributes: `vocab` (list), `vocab_size`, `cls_id`, `sep_id`, `pad_id`,
    `mask_id`, `unk_id`, `is_continuation` (bool `[vocab_size]`, True for
    `##` pieces) and `random_ids` (int64 ids of ordinary tokens: not
    `[...]`-bracketed entries such as `[PAD]`, `[MASK]`, `[unused7]`).
    """

    def __init__(self, vocab_file, do_lower_case=True,
                 max_input_chars_per_word=MAX_INPUT_CHARS_PER_WORD):
        self.vocab = read_vocab(vocab_file)
        self.vocab_size = len(self.vocab)
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word
        self._ids = {t: i for i, t in enumerate(self.vocab)}
        # No piece is longer than the longest vocab entry: bounds the greedy search.
        self._longest = max(map(len, self.vocab))
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (
            self._ids[t] for t in SPECIAL_TOKENS)
        self.is_continuation = np.array([t.startswith(SUFFIX_INDICATOR) for t in self.vocab])
        bracketed = np.array([t.startswith("[") and t.endswith("]") for t in self.vocab])
        self.random_ids = np.flatnonzero(~bracketed)
        if not self.random_ids.size:
            raise ValueError(f"vocab file {vocab_file!r} has no ordinary tokens")
        self._memo = {}
        self.dropped_chars = 0

    def token_id(self, token, flag):
        """Id of `token`; a ValueError naming `flag` when the vocab lacks it."""
        try:
            return self._ids[token]
        except KeyError:
            raise ValueError(f"--{flag}={token!r} is not in the vocabulary") from None

    def encode(self, texts):
        """list of str `[n]` -> (flat int64 ids, int64 `[n]` token counts)."""
        ids, ends = [], []
        memo, extend, end = self._memo, ids.extend, ends.append
        for text in texts:
            if not text.isascii() or _ASCII_CONTROL.search(text):
                text = text.translate(_CLEAN)
            for token in text.split():
                token_ids = memo.get(token)
                extend(token_ids if token_ids is not None else self._token_ids(token))
            end(len(ids))
        lengths = np.diff(np.array(ends, np.int64), prepend=0)
        return np.array(ids, np.int64), lengths

    def _token_ids(self, token):
        """Ids of one cleaned, space-free token (the steps after cleaning)."""
        text = token if token.isascii() else unicodedata.normalize("NFC", token)
        if self.do_lower_case:
            text = text.lower()
            if not text.isascii():
                text = unicodedata.normalize("NFD", text).translate(_MARKS)
        ids = []
        for word in text.translate(_PUNCT).split():
            ids += self._wordpiece(word)
        if len(self._memo) >= MAX_MEMO_TOKENS:
            self._memo.clear()
        self._memo[token] = ids = tuple(ids)
        return ids

    def _wordpiece(self, word):
        """Greedy longest-match-first pieces of one word; `[UNK]` when one is missing."""
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_id]
        pieces, start, vocab = [], 0, self._ids
        while start < len(word):
            for end in range(min(len(word), start + self._longest), start, -1):
                piece = word[start:end] if start == 0 else SUFFIX_INDICATOR + word[start:end]
                piece_id = vocab.get(piece)
                if piece_id is not None:
                    pieces.append(piece_id)
                    start = end
                    break
            else:
                return [self.unk_id]
        return pieces


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
        if not _exists(path):
            raise FileNotFoundError(f"character vocab file not found: {path!r}")
        with _open_text(path) as f:
            mapping = json.load(f)
        tokens = sorted(mapping, key=mapping.get)
        if [mapping[t] for t in tokens] != list(range(len(tokens))):
            raise ValueError(f"{path!r}: ids must be 0..{len(tokens) - 1}, each once")
        return cls(tokens)

    def save(self, path):
        with _open_text(path, "w") as f:
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
