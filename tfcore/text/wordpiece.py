"""BERT WordPiece in Python: the ids of `tfbert.BertTokenizer`, without TensorFlow.

The steps are those of the in-graph tokenizer (Google's `FullTokenizer` /
Hugging Face's `BertTokenizer`) in its order, with its character classes
(`tfcore.text.unicode`): drop control characters, map white space to a
space, put spaces around CJK ideographs; per token: NFC; when lower-casing,
lower-case, NFD, drop non-spacing marks; split off punctuation; a word longer
than `MAX_INPUT_CHARS_PER_WORD` characters is `[UNK]`; greedy
longest-match-first WordPiece. Per token equals per line: every step but the
split maps a character on its own, or (NFC, NFD, final sigma) looks only at
neighbours that a space never joins. A corpus repeats its words, so each
distinct whitespace-separated token is tokenized once and looked up
afterwards (~0.1 s of CPU for 1 MB of English text, against ~0.2 s in the
graph, and no ~3 s TensorFlow import in every writer process).
tests/tfbert/test_tokenization.py checks the ids against the in-graph tokenizer.

Example:

    encoder = WordPieceEncoder("vocab.txt", do_lower_case=True)
    flat, lengths = encoder.encode(["Hello world.", "Second sentence."])
    # flat: int64 [total tokens]; lengths: int64 [2]
    basic_tokenize("Héllo, world!")    # ["hello", ",", "world", "!"]
"""

import re
import unicodedata

import numpy as np

from tfcore.text import unicode as uni
from tfcore.text import vocab as vocab_files

# WordPiece continuation prefix and word-length limit, google-research/bert
# tokenization.py (WordpieceTokenizer).
SUFFIX_INDICATOR = "##"
MAX_INPUT_CHARS_PER_WORD = 100
# Distinct tokens remembered before the memo starts afresh: bounded memory
# (~200 bytes a token: ~50 MB) on corpora whose vocabulary never stops growing.
MAX_MEMO_TOKENS = 1 << 18
# ASCII characters that cleaning drops (category Cc but tab, newline, return).
_ASCII_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(cp):
    kind = uni.char_class(cp)
    if kind == "drop":
        return None
    if kind == "space":
        return " "
    if uni.is_cjk(cp):
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
_MARKS = _Table(lambda cp: None if uni.char_class(cp) == "mark" else cp)
_PUNCT = _Table(lambda cp: f" {chr(cp)} " if uni.char_class(cp) == "punct" else cp)


def clean_text(text):
    """Drops control characters, maps white space to " ", spaces out CJK ideographs."""
    if not text.isascii() or _ASCII_CONTROL.search(text):
        return text.translate(_CLEAN)
    return text


def token_words(token, do_lower_case=True):
    """One cleaned, space-free token -> its words (NFC, case, accents, punctuation)."""
    text = token if token.isascii() else unicodedata.normalize("NFC", token)
    if do_lower_case:
        text = text.lower()
        if not text.isascii():
            text = unicodedata.normalize("NFD", text).translate(_MARKS)
    return text.translate(_PUNCT).split()


def basic_tokenize(text, do_lower_case=True):
    """A str -> its words, as `tfbert.BertTokenizer.basic_tokenize` (before WordPiece)."""
    return [word for token in clean_text(text).split()
            for word in token_words(token, do_lower_case)]


class WordPieceEncoder:
    """Batches of text -> WordPiece ids (no special tokens); vocab facts for masking.

    Attributes: `vocab` (list), `vocab_size`, `cls_id`, `sep_id`, `pad_id`,
    `mask_id`, `unk_id`, `is_continuation` (bool `[vocab_size]`, True for
    `##` pieces) and `random_ids` (int64 ids of ordinary tokens: not
    `[...]`-bracketed entries such as `[PAD]`, `[MASK]`, `[unused7]`).
    """

    def __init__(self, vocab_file, do_lower_case=True,
                 max_input_chars_per_word=MAX_INPUT_CHARS_PER_WORD):
        self.vocab = vocab_files.read_vocab(vocab_file)
        self.vocab_size = len(self.vocab)
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word
        self._ids = {t: i for i, t in enumerate(self.vocab)}
        # No piece is longer than the longest vocab entry: bounds the greedy search.
        self._longest = max(map(len, self.vocab))
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (
            self._ids[t] for t in vocab_files.SPECIAL_TOKENS)
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
            for token in clean_text(text).split():
                token_ids = memo.get(token)
                extend(token_ids if token_ids is not None else self._token_ids(token))
            end(len(ids))
        lengths = np.diff(np.array(ends, np.int64), prepend=0)
        return np.array(ids, np.int64), lengths

    def _token_ids(self, token):
        """Ids of one cleaned, space-free token, remembered in the memo."""
        ids = []
        for word in token_words(token, self.do_lower_case):
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
