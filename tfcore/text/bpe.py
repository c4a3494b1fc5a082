"""GPT-2 byte-level BPE in Python: files, byte alphabet and an encoder, without TensorFlow.

`BytePairEncoder` gives the ids of `tfgpt.BytePairTokenizer` (and of Hugging
Face's `GPT2Tokenizer`) on `str` input:

1. Special tokens (default: `<|endoftext|>` when in the vocab) written in the
   text are split out first and become their id.
2. GPT-2's pre-tokenizer regex
   `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`
   cuts each segment into pieces, with `\\p{L}`, `\\p{N}` and `\\s` from
   `tfcore.text.unicode` (the classes the in-graph tokenizer uses; Python's
   `re` has the look-ahead that RE2 lacks).
3. Each piece's UTF-8 bytes become the 256 byte symbols (`bytes_to_unicode`),
   then GPT-2's `bpe()`: merge all non-overlapping occurrences (left to right)
   of the lowest-ranked pair from merges.txt until no pair has a rank.

Pieces repeat, so each distinct piece is merged once and remembered.
tests/tfgpt/test_tokenization.py checks the ids against the in-graph tokenizer.

Example:

    encoder = BytePairEncoder("vocab.json", "merges.txt")
    flat, lengths = encoder.encode(["Hello world"])     # [15496, 995], [2] for GPT-2
"""

import functools
import re

import numpy as np

from tfcore.text import unicode as uni
from tfcore.text import vocab as vocab_files
from tfcore.text.vocab import END_OF_TEXT

# GPT-2's contractions, the first alternatives of its pre-tokenizer regex.
GPT2_CONTRACTIONS = "'s|'t|'re|'ve|'m|'ll|'d"
# Distinct pieces remembered before the memo starts afresh (bounded memory).
MAX_MEMO_PIECES = 1 << 18


def bytes_to_unicode():
    """GPT-2's map of the 256 bytes to printable characters (its vocab.json alphabet).

    Printable Latin-1 bytes map to themselves; the other 68 bytes, in order,
    to U+0100, U+0101, ... (so the space 0x20 is "Ġ" U+0120).
    """
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def byte_symbol_ids(vocab, vocab_file):
    """Ids of the 256 byte symbols, in byte order; a ValueError naming the file if any lacks."""
    byte_chars = bytes_to_unicode()
    missing = [f"0x{b:02x} ({c!r})" for b, c in byte_chars.items() if c not in vocab]
    if missing:
        raise ValueError(f"{vocab_file!r} lacks byte symbol(s) {missing[:8]}: a byte-level "
                         "BPE vocab has all 256")
    return [vocab[byte_chars[b]] for b in range(256)]


def read_merges(path, vocab):
    """merges.txt -> list of `(left, right)`; each part and their join must be in `vocab`."""
    if not vocab_files.file_exists(path):
        raise FileNotFoundError(f"merges file not found: {path!r}")
    with vocab_files.open_text(path) as f:
        lines = f.read().split("\n")
    merges = []
    for number, line in enumerate(lines, start=1):
        if not line or (number == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected two symbols separated by one space, "
                             f"got {line!r}")
        missing = [t for t in (parts[0], parts[1], parts[0] + parts[1]) if t not in vocab]
        if missing:
            raise ValueError(f"{path}:{number}: merge {line!r} uses {missing}, not in the vocab")
        merges.append((parts[0], parts[1]))
    return merges


def gpt2_classes(to_class):
    """(white space, letters, numbers) of GPT-2's regex as class bodies made by `to_class`.

    `to_class` is `unicode.re2_class` (in the graph) or `unicode.python_class`.
    """
    return (to_class(uni.WHITE_SPACE), to_class(uni.category_ranges("L")),
            to_class(uni.category_ranges("N")))


@functools.lru_cache(maxsize=None)
def gpt2_regex():
    """GPT-2's pre-tokenizer as a compiled Python `re` pattern (look-ahead included)."""
    space, letter, number = gpt2_classes(uni.python_class)
    return re.compile(f"{GPT2_CONTRACTIONS}| ?[{letter}]+| ?[{number}]+"
                      f"| ?[^{space}{letter}{number}]+|[{space}]+(?![^{space}])|[{space}]+")


class BytePairEncoder:
    """Batches of text -> GPT-2 byte-level BPE ids (see module doc).

    Attributes: `eot_id` (the id of `<|endoftext|>`, put between documents),
    `vocab_size`, `dropped_chars` (always 0: every byte has a symbol).
    """

    def __init__(self, vocab_file, merges_file, special_tokens=None):
        self._vocab = vocab_files.read_vocab_json(vocab_file)
        self.vocab_size = len(self._vocab)
        byte_symbol_ids(self._vocab, vocab_file)  # Raises when a byte symbol is missing.
        table = bytes_to_unicode()
        self._byte_symbols = [table[b] for b in range(256)]
        merges = read_merges(merges_file, self._vocab)
        self._ranks = {pair: rank for rank, pair in enumerate(merges)}
        if len(self._ranks) != len(merges):
            raise ValueError(f"{merges_file!r} lists a pair twice")
        self.eot_id = self._vocab.get(END_OF_TEXT)
        if self.eot_id is None:
            raise ValueError(f"BPE vocab {vocab_file!r} has no {END_OF_TEXT!r} token to put "
                             "between documents")
        if special_tokens is None:
            special_tokens = [END_OF_TEXT]
        self._special = ({t: self._vocab[t] for t in special_tokens} if special_tokens
                         else {})
        self._split = (re.compile("(" + "|".join(map(re.escape, special_tokens)) + ")").split
                       if special_tokens else lambda text: [text])
        self._pieces = gpt2_regex().findall
        self._memo = {}
        self.dropped_chars = 0

    def encode(self, texts):
        """list of str `[n]` -> (flat int64 ids, int64 `[n]` token counts)."""
        ids, ends = [], []
        memo, special = self._memo, self._special
        for text in texts:
            for segment in self._split(text):
                if segment in special:
                    ids.append(special[segment])
                    continue
                for piece in self._pieces(segment):
                    piece_ids = memo.get(piece)
                    ids.extend(piece_ids if piece_ids is not None else self._piece_ids(piece))
            ends.append(len(ids))
        lengths = np.diff(np.array(ends, np.int64), prepend=0)
        return np.array(ids, np.int64), lengths

    def _piece_ids(self, piece):
        """Ids of one pre-tokenizer piece, remembered in the memo."""
        symbols = [self._byte_symbols[b] for b in piece.encode("utf-8")]
        ids = tuple(self._vocab[s] for s in self._merge(symbols))
        if len(self._memo) >= MAX_MEMO_PIECES:
            self._memo.clear()
        self._memo[piece] = ids
        return ids

    def _merge(self, word):
        """GPT-2's `bpe()`: lowest-ranked pair first, all its occurrences, until none ranks."""
        ranks, unranked = self._ranks, len(self._ranks)
        while len(word) > 1:
            rank, first, second = min((ranks.get(pair, unranked), *pair)
                                      for pair in zip(word, word[1:]))
            if rank == unranked:
                break
            joined, merged = first + second, []
            for symbol in word:
                # A merged symbol never equals `first` (it is longer), so the scan
                # takes occurrences left to right without overlap: "aaa" -> "aa a".
                if symbol == second and merged and merged[-1] == first:
                    merged[-1] = joined
                else:
                    merged.append(symbol)
            word = merged
        return word
