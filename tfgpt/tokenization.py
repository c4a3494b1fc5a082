"""In-graph GPT tokenizers: GPT-2 byte-level BPE and characters, with detokenizers.

Both run with TensorFlow / tensorflow-text ops only (no `tf.py_function`),
so they work inside `tf.data`, a `tf.function` and an exported SavedModel.

`BytePairTokenizer(vocab.json, merges.txt)` gives the ids of Hugging Face's
`GPT2Tokenizer` (checked on WikiText-2 and Shakespeare, figures in bench/RESULTS.md;
tests/journeys/test_hf_folders.py compares with a tokenizer saved by transformers):

1. Special tokens (default: `<|endoftext|>` when in the vocab) written in the
   text are split out first and become their id, as Hugging Face does.
2. GPT-2's pre-tokenizer regex
   `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`
   cuts each segment into pieces. RE2 has no look-ahead, so `\\s+(?!\\S)` is
   emulated: a whitespace run of two or more characters followed by a
   non-space is first cut before its last character (the only place the
   look-ahead changes the result), then RE2 runs the regex without it.
   `\\p{L}`, `\\p{N}` come from the running Python's `unicodedata` and `\\s`
   is Unicode's White_Space property, as in Hugging Face's regex engine; they
   could differ only on code points assigned after Python's Unicode version.
3. Each piece's UTF-8 bytes become the 256 byte symbols, then the merge loop
   (a `tf.while_loop` over all pieces of the batch at once) applies, in
   every piece, all non-overlapping occurrences (left to right) of its
   lowest-ranked pair from merges.txt, until no pair in any piece has a rank.

Text that is not valid UTF-8 is read with each bad sequence replaced by
U+FFFD (as Python's `bytes.decode(errors="replace")` would, before Hugging
Face sees a `str`). `detokenize` joins the tokens' bytes and decodes them the
same way, so a generated token that ends mid-character becomes U+FFFD.

`CharTokenizer(vocab.json)` reads the character vocabulary written by
`tfcore.text.CharEncoder`, the record writer's (`{token: id}`, id 0
`<|endoftext|>`, then one character per id): one id per character, characters not in the vocab
are dropped (as the record writer drops them).

Example:

    tokenizer = load_tokenizer("gpt2_folder")      # merges.txt -> BPE, else characters
    ids = tokenizer.tokenize(["Hello world"])      # RaggedTensor int32 [1, (2)]
    text = tokenizer.detokenize(ids)               # tf.string [1]: b"Hello world"
"""

import os
import re

import numpy as np
import tensorflow as tf

# The byte alphabet, vocab.json reading and character classes are shared with
# the writer's Python encoders (tfcore.text), so both give the same ids.
from tfcore.text.bpe import (GPT2_CONTRACTIONS, byte_symbol_ids, bytes_to_unicode,
                             gpt2_classes, read_merges)
from tfcore.text.unicode import re2_class
from tfcore.text.vocab import END_OF_TEXT, read_vocab_json, tokens_by_id

__all__ = ["BytePairTokenizer", "CharTokenizer", "END_OF_TEXT", "bytes_to_unicode",
           "gpt2_patterns", "load_tokenizer", "read_vocab_json"]

VOCAB_FILE, MERGES_FILE = "vocab.json", "merges.txt"
# Never in valid UTF-8: marks the cuts of the look-ahead emulation and the
# ends of pre-tokenizer pieces.
_CUT = b"\xff"


def gpt2_patterns():
    """RE2 patterns `(cut, pieces)`: the look-ahead cut and GPT-2's regex without it."""
    space, letter, number = gpt2_classes(re2_class)
    cut = f"([{space}])([{space}][^{space}])"
    pieces = (f"{GPT2_CONTRACTIONS}| ?[{letter}]+| ?[{number}]+"
              f"| ?[^{space}{letter}{number}]+|[{space}]+")
    return cut, pieces


def _split_marked(texts):
    """Split at `_CUT` marks, empty pieces dropped: `[n]` -> RaggedTensor `[n, (pieces)]`.

    `tf_text.regex_split` would be the direct way, but it stops reading a
    string at its first NUL byte (tensorflow-text 2.21: "a\\x00b" gives only
    "a"); `regex_replace` and `split` read the whole string.
    """
    pieces = tf.strings.split(texts, sep=_CUT)
    return tf.ragged.boolean_mask(pieces, tf.strings.length(pieces) > 0)


def _valid_utf8(texts):
    texts = tf.convert_to_tensor(texts, tf.string)
    if texts.shape.rank == 0:
        texts = texts[None]
    return tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace",
                                        replacement_char=0xFFFD)


class _Detokenizer(tf.Module):
    """ids -> text through a table of each id's bytes; invalid UTF-8 -> U+FFFD."""

    def _init_detokenizer(self, token_bytes):
        self.token_bytes = tf.constant(token_bytes, tf.string)
        self.vocab_size = len(token_bytes)

    def detokenize(self, ids):
        """int `[batch, (length)]` (ragged or dense; every id is used) -> tf.string `[batch]`.

        Ids outside the vocabulary are clipped into it (a served model never fails here).
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(tf.convert_to_tensor(ids))
        ids = tf.clip_by_value(tf.cast(ids, tf.int32), 0, self.vocab_size - 1)
        pieces = ids.with_flat_values(tf.gather(self.token_bytes, ids.flat_values))
        return tf.strings.unicode_transcode(
            tf.strings.reduce_join(pieces, axis=-1), "UTF-8", "UTF-8", errors="replace",
            replacement_char=0xFFFD)


class BytePairTokenizer(_Detokenizer):
    """GPT-2 byte-level BPE from `vocab.json` + `merges.txt`; ids of HF `GPT2Tokenizer`.

    Args:
      vocab_file, merges_file: GPT-2's files (or any byte-level BPE in that format).
      special_tokens: strings in the text that become their own id (default:
        `<|endoftext|>` if the vocab has it; `()` keeps them ordinary text).

    Example:

        tokenizer = BytePairTokenizer("vocab.json", "merges.txt")
        tokenizer.tokenize(["Hello world"])     # <tf.RaggedTensor [[15496, 995]]> for GPT-2
    """

    def __init__(self, vocab_file, merges_file, special_tokens=None, name=None):
        super().__init__(name=name)
        from tfgpt.bpe import BpeMerger
        vocab = read_vocab_json(vocab_file)
        self.byte_ids = tf.constant(byte_symbol_ids(vocab, vocab_file), tf.int32)
        self.merger = BpeMerger(vocab, read_merges(merges_file, vocab))
        if special_tokens is None:
            special_tokens = [END_OF_TEXT] if END_OF_TEXT in vocab else []
        self.special_tokens = tuple(special_tokens)
        self.special_ids = [vocab[t] for t in self.special_tokens]
        self.end_token_id = vocab.get(END_OF_TEXT)
        self.files = (vocab_file, merges_file)
        self._cut_pattern, self._piece_pattern = gpt2_patterns()
        decoder = {c: b for b, c in bytes_to_unicode().items()}
        tokens = tokens_by_id(vocab)
        self._init_detokenizer([
            bytes(decoder[c] for c in t) if all(c in decoder for c in t) else t.encode()
            for t in tokens])

    def _segments(self, texts):
        """`[batch]` -> RaggedTensor `[batch, (segments)]`, special tokens apart."""
        if not self.special_tokens:
            return tf.RaggedTensor.from_tensor(texts[:, None])
        pattern = "|".join(re.escape(t) for t in self.special_tokens)
        return _split_marked(tf.strings.regex_replace(texts, f"({pattern})",
                                                      _CUT + b"\\1" + _CUT))

    def _pieces(self, segments):
        """Ordinary text `[n]` -> pre-tokenized pieces, RaggedTensor tf.string `[n, (pieces)]`.

        Every character belongs to a match of the piece pattern, so marking the
        end of each match and splitting there gives the matches.
        """
        cut = tf.strings.regex_replace(segments, self._cut_pattern, b"\\1" + _CUT + b"\\2")
        return _split_marked(tf.strings.regex_replace(cut, self._piece_pattern,
                                                      b"\\0" + _CUT))

    def pieces(self, texts):
        """Text `[batch]` -> GPT-2 pieces `[batch, (pieces)]`, special tokens whole."""
        segments = self._segments(_valid_utf8(texts))
        special = self._special_mask(segments.flat_values)
        pieces = self._pieces(tf.where(tf.reduce_any(special, 1), "", segments.flat_values))
        specials = tf.ragged.boolean_mask(
            tf.tile(tf.constant(self.special_tokens, tf.string, [len(self.special_tokens)])[None],
                    [tf.size(segments.flat_values), 1]), special)
        return segments.with_flat_values(tf.concat([pieces, specials], 1)).merge_dims(1, 2)

    def _special_mask(self, segments):
        """bool `[n, number of special tokens]`: segment i is special token j."""
        specials = tf.constant(self.special_tokens, tf.string, [len(self.special_tokens)])
        return tf.equal(segments[:, None], specials[None])

    def tokenize(self, texts):
        """Text `[batch]` (str, list or tf.string) -> RaggedTensor int32 `[batch, (ids)]`."""
        segments = self._segments(_valid_utf8(texts))
        special = self._special_mask(segments.flat_values)
        pieces = self._pieces(tf.where(tf.reduce_any(special, 1), "", segments.flat_values))
        byte_strings = tf.strings.bytes_split(pieces.flat_values)
        raw = tf.cast(tf.reshape(tf.io.decode_raw(byte_strings.flat_values, tf.uint8), [-1]),
                      tf.int32)
        ids = self.merger.merge(byte_strings.with_flat_values(tf.gather(self.byte_ids, raw)))
        special_ids = tf.ragged.boolean_mask(
            tf.tile(tf.constant(self.special_ids, tf.int32, [len(self.special_ids)])[None],
                    [tf.size(segments.flat_values), 1]), special)
        per_segment = tf.concat([pieces.with_flat_values(ids).merge_dims(1, 2), special_ids], 1)
        return segments.with_flat_values(per_segment).merge_dims(1, 2)


class CharTokenizer(_Detokenizer):
    """One id per character from the `vocab.json` of `tfcore.text.CharEncoder`.

    Id 0 is `<|endoftext|>` (the end token; written as that string by
    `detokenize`), then one character per id. Characters not in the vocab
    are dropped, as the record writer drops them.

    Example:

        tokenizer = CharTokenizer("vocab.json")
        tokenizer.tokenize(["To be"])    # <tf.RaggedTensor [[33, 51, 1, 40, 41]]>
    """

    def __init__(self, vocab_file, name=None):
        super().__init__(name=name)
        tokens = tokens_by_id(read_vocab_json(vocab_file))
        if not tokens or tokens[0] != END_OF_TEXT or any(len(t) != 1 for t in tokens[1:]):
            raise ValueError(f"{vocab_file!r} is not a character vocabulary: id 0 must be "
                             f"{END_OF_TEXT!r} and every other token one character")
        self.end_token_id = 0
        self.special_tokens = (END_OF_TEXT,)
        self.files = (vocab_file,)
        self.code_points = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant([ord(t) for t in tokens[1:]], tf.int32),
                tf.constant(np.arange(1, len(tokens), dtype=np.int32))), -1)
        self._init_detokenizer([t.encode("utf-8") for t in tokens])

    def tokenize(self, texts):
        """Text `[batch]` -> RaggedTensor int32 `[batch, (characters in the vocab)]`."""
        code_points = tf.strings.unicode_decode(_valid_utf8(texts), "UTF-8")
        ids = code_points.with_flat_values(self.code_points.lookup(code_points.flat_values))
        return tf.ragged.boolean_mask(ids, ids >= 0)


def load_tokenizer(folder):
    """The tokenizer of a checkpoint folder: BPE if it has merges.txt, else characters."""
    vocab = os.path.join(folder, VOCAB_FILE)
    merges = os.path.join(folder, MERGES_FILE)
    if not os.path.exists(vocab):
        raise FileNotFoundError(f"No {VOCAB_FILE} in {folder}: a GPT tokenizer needs "
                                f"{VOCAB_FILE} (+ {MERGES_FILE} for byte-level BPE).")
    if os.path.exists(merges):
        return BytePairTokenizer(vocab, merges)
    return CharTokenizer(vocab)
