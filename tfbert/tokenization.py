"""In-graph BERT WordPiece tokenization and input packing.

`BertTokenizer` turns raw `tf.string` text into the WordPiece ids of Hugging
Face's (slow, Python) `BertTokenizer`, which is Google's `FullTokenizer` plus
an NFC step, entirely with TensorFlow / tensorflow-text ops, so it runs inside
`tf.data`, inside a `tf.function` and inside an exported SavedModel.

The pipeline follows the published BasicTokenizer + WordPiece algorithm:
drop control characters, map whitespace to a space, put spaces around CJK
ideographs, NFC; when lower-casing: lower-case, NFD, drop non-spacing marks;
split off punctuation; split on spaces; a word longer than
`max_input_chars_per_word` characters becomes `[UNK]`; greedy
longest-match-first WordPiece (tensorflow-text's `FastWordpieceTokenizer`).

tensorflow-text's own `BertTokenizer` is not used: it folds case with NFKC and
limits word length in bytes, so its ids differ from Hugging Face's.

Character classes (control, whitespace, punctuation, non-spacing mark) are
built from the running Python's `unicodedata`, the tables Hugging Face's
tokenizer uses, rather than RE2's `\\p{..}` (a newer Unicode version).

Differences from Hugging Face's slow `BertTokenizer` (transformers 5:
`BertTokenizerLegacy`), checked by `python -m bench tokenizer_hf`:
  * Special-token strings in raw text ("[MASK]", "[CLS]", ...) are ordinary
    text, split into "[", "mask", "]" as in Google's `FullTokenizer`;
    Hugging Face keeps them as one special token. The only known difference.
  * Case mapping and NFC/NFD come from ICU inside TensorFlow; where its Unicode
    version and Python's disagree (code points assigned after Python's
    `unicodedata.unidata_version`) the ids could differ. None seen: every code
    point in "Ab<c>É", both casings, matched Python 3.11 (Unicode 14).
  * Bytes that are not UTF-8 become U+FFFD, which cleaning drops, as Python's
    `bytes.decode(errors="replace")` followed by the tokenizer would do.
The Rust `BertTokenizerFast` agrees on ordinary text but not on unassigned
code points (it keeps them), Greek final sigma (it lower-cases per character),
marks, punctuation and CJK blocks newer than its tables, and characters that
NFC changes (only the slow tokenizer applies NFC).

A SavedModel using the tokenizer needs `import tensorflow_text` before
`tf.saved_model.load` (it registers the NormalizeUTF8 and WordPiece ops).

Speed (2 shared vCPUs, SST-2 dev, 6,735 sentences in batches of 256 in
`tf.data`): 78k-131k sentences/s for `tokenize`, 45k-50k/s for `__call__`
packing to 128, over four runs (`python -m bench tokenizer_hf --speed`).
"""

from absl import logging
import tensorflow as tf
import tensorflow_text as tf_text

# Vocab files, special tokens and character classes are shared with the
# writer's Python encoder (tfcore.text), so both give the same ids.
from tfcore.text.unicode import CJK_RANGES, bert_class_ranges, re2_class
from tfcore.text.vocab import CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN, read_vocab
from tfcore.text.vocab import SPECIAL_TOKENS  # noqa: F401  (part of this module's API)
from tfcore.text.wordpiece import MAX_INPUT_CHARS_PER_WORD, SUFFIX_INDICATOR

# UTF-8 encodes a code point in at most 4 bytes (RFC 3629).
_MAX_UTF8_BYTES_PER_CHAR = 4


def _regex_class(ranges):
    """RE2 character class `[\\x{a}-\\x{b}...]` from inclusive code point ranges."""
    return "[" + re2_class(ranges) + "]"


def _char_classes():
    """RE2 classes (drop, space, punct, mark) from Python's unicodedata tables."""
    return {name: _regex_class(ranges) for name, ranges in bert_class_ranges().items()}


class BertTokenizer(tf.Module):
    """Raw text -> BERT WordPiece ids and packed model inputs, in the graph.

    Ids equal Hugging Face `BertTokenizer(vocab_file, do_lower_case=...)` except
    that special-token strings in the text are ordinary text (see module doc).

    Example:

        tokenizer = BertTokenizer("vocab.txt")
        ids = tokenizer.tokenize(["Hello, world!"])  # RaggedTensor [1, (4)]
        features = tokenizer(["a question"], ["a passage"], max_seq_length=128)
        # {"input_ids", "segment_ids", "input_mask"}: int32 [1, 128]
    """

    def __init__(self, vocab_file, do_lower_case=True,
                 max_input_chars_per_word=MAX_INPUT_CHARS_PER_WORD, name=None):
        super().__init__(name=name)
        self.vocab = read_vocab(vocab_file)
        # Tracked so that a SavedModel carries vocab.txt among its assets.
        self.vocab_asset = tf.saved_model.Asset(vocab_file)
        self.do_lower_case = do_lower_case
        self.max_input_chars_per_word = max_input_chars_per_word
        self._classes = _char_classes()
        self._cjk_class = _regex_class(CJK_RANGES)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=self.vocab, suffix_indicator=SUFFIX_INDICATOR,
            max_bytes_per_word=max_input_chars_per_word * _MAX_UTF8_BYTES_PER_CHAR,
            token_out_type=tf.int32, unknown_token=UNK_TOKEN,
            no_pretokenization=True)
        ids = {t: i for i, t in enumerate(self.vocab)}
        self.cls_id, self.sep_id = ids[CLS_TOKEN], ids[SEP_TOKEN]
        self.pad_id, self.unk_id, self.mask_id = (
            ids[PAD_TOKEN], ids[UNK_TOKEN], ids[MASK_TOKEN])
        logging.info("BertTokenizer: %d tokens from %s, do_lower_case=%s",
                     len(self.vocab), vocab_file, do_lower_case)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def id_to_token(self, ids):
        """Python ints (or a nested list of them) -> token strings."""
        if isinstance(ids, int):
            return self.vocab[ids]
        return [self.id_to_token(i) for i in ids]

    def basic_tokenize(self, texts):
        """Text `[batch]` -> words `RaggedTensor` tf.string `[batch, (words)]`.

        Hugging Face's BasicTokenizer: clean, split CJK, case and accents,
        split punctuation, split on whitespace.
        """
        texts = _as_batch(texts)
        # Invalid UTF-8 becomes U+FFFD, which the cleaning step then drops.
        texts = tf.strings.unicode_transcode(
            texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)
        texts = tf.strings.regex_replace(texts, self._classes["drop"], "")
        texts = tf.strings.regex_replace(texts, self._classes["space"], " ")
        texts = tf.strings.regex_replace(texts, self._cjk_class, r" \0 ")
        texts = tf_text.normalize_utf8(texts, "NFC")
        if self.do_lower_case:
            texts = tf.strings.lower(texts, encoding="utf-8")
            texts = tf_text.normalize_utf8(texts, "NFD")
            texts = tf.strings.regex_replace(texts, self._classes["mark"], "")
        texts = tf.strings.regex_replace(texts, self._classes["punct"], r" \0 ")
        return tf.strings.split(texts)

    def tokenize(self, texts):
        """Text -> WordPiece ids, no special tokens.

        Args:
          texts: `tf.string` `[batch]` (or a list of str); a scalar is a batch of 1.

        Returns:
          `tf.RaggedTensor` int32 `[batch, (tokens)]`.
        """
        words = self.basic_tokenize(texts)
        # Length limit in characters, as Hugging Face (the op counts bytes).
        too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > (
            self.max_input_chars_per_word)
        words = words.with_flat_values(
            tf.where(too_long, UNK_TOKEN, words.flat_values))
        return self._wordpiece.tokenize(words).merge_dims(1, 2)

    def tokenize_with_offsets(self, texts):
        """Text -> WordPiece ids with the word each piece comes from, and its place.

        Words are split on the raw text (whitespace; punctuation and CJK
        characters are words of their own), then each word is tokenized as
        `tokenize` would: the ids equal `tokenize(texts)` except where
        normalisation itself creates a split (e.g. a lower-cased character
        that becomes punctuation), which no known text does.

        Args:
          texts: `tf.string` `[batch]` (a scalar is a batch of 1).

        Returns:
          dict of `tf.RaggedTensor`s:
          - "ids": int32 `[batch, (pieces)]`;
          - "word_ids": int32 `[batch, (pieces)]`, index of the piece's word;
          - "word_starts", "word_ends": int64 `[batch, (words)]`, byte offsets
            of each word in the text (after invalid UTF-8 became U+FFFD);
            a word of dropped characters only has no pieces.
          - "texts": tf.string `[batch]`, the texts the offsets refer to.
        """
        texts = tf.strings.unicode_transcode(
            _as_batch(texts), "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)
        # The split op stops at a NUL byte: make it another dropped control character.
        texts = tf.strings.regex_replace(texts, "\\x00", "\x01")
        alone = f"{self._classes['punct']}|{self._cjk_class}"
        words, starts, ends = tf_text.regex_split_with_offsets(
            texts, f"{self._classes['space']}|{alone}", alone)
        pieces = self.tokenize(words.flat_values)                 # [words, (pieces)]
        ids = words.with_flat_values(pieces)                      # [b, (words), (pieces)]
        word_ids = tf.ragged.range(tf.cast(words.row_lengths(), tf.int32))
        word_ids = tf.gather(word_ids.flat_values, pieces.value_rowids())
        return {"ids": ids.merge_dims(1, 2),
                "word_ids": ids.merge_dims(1, 2).with_flat_values(tf.cast(word_ids, tf.int32)),
                "word_starts": starts, "word_ends": ends, "texts": texts}

    def pack(self, segments, max_seq_length):
        """One or two id segments -> `[CLS] a [SEP] (b [SEP])`, padded.

        Truncation follows Google's `_truncate_seq_pair`: drop the last token of
        the longer segment (the second when equal) until it fits.

        Args:
          segments: a `RaggedTensor` int `[batch, (tokens)]` or a list/tuple of
            one or two of them.
          max_seq_length: int, the padded length.

        Returns:
          dict of int32 `[batch, max_seq_length]`: "input_ids", "segment_ids"
          (0 for `[CLS] a [SEP]`, 1 for `b [SEP]`), "input_mask".
        """
        if isinstance(segments, tf.RaggedTensor):
            segments = [segments]
        segments = [tf.cast(s, tf.int32) for s in segments]
        if len(segments) not in (1, 2):
            raise ValueError(f"pack takes 1 or 2 segments, got {len(segments)}")
        budget = max_seq_length - 1 - len(segments)  # [CLS] and one [SEP] each.
        if isinstance(budget, int) and budget < 0:
            raise ValueError(f"max_seq_length={max_seq_length} is too short for "
                             f"{len(segments)} segment(s) and special tokens")
        keep = _truncated_lengths(segments, budget)
        batch = tf.shape(keep[0])[0]
        cls, sep = (tf.fill([batch, 1], tf.constant(i, tf.int32))
                    for i in (self.cls_id, self.sep_id))
        pieces, segment_pieces = [cls], [tf.zeros_like(cls)]
        for index, (segment, length) in enumerate(zip(segments, keep)):
            # to_tensor(shape=...) truncates rows; from_tensor re-trims them.
            dense = segment.to_tensor(shape=[None, max_seq_length])
            kept = tf.RaggedTensor.from_tensor(dense, lengths=length)
            kept = tf.concat([kept, sep], axis=1)
            pieces.append(kept)
            segment_pieces.append(tf.ones_like(kept) * index)
        shape = [None, max_seq_length]
        ids = tf.concat(pieces, axis=1)
        return {
            "input_ids": ids.to_tensor(default_value=self.pad_id, shape=shape),
            "segment_ids": tf.concat(segment_pieces, axis=1).to_tensor(shape=shape),
            "input_mask": tf.sequence_mask(ids.row_lengths(), max_seq_length,
                                           dtype=tf.int32),
        }

    def __call__(self, text_a, text_b=None, max_seq_length=128):
        """Text (pairs) -> packed model inputs; see `tokenize` and `pack`."""
        segments = [self.tokenize(text_a)]
        if text_b is not None:
            segments.append(self.tokenize(text_b))
        return self.pack(segments, max_seq_length)


def _as_batch(texts):
    """str / list / tensor -> tf.string `[batch]`; a scalar becomes `[1]`."""
    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    if texts.shape.rank == 0:
        texts = texts[tf.newaxis]
    elif texts.shape.rank != 1:
        raise ValueError(f"texts must be a scalar or [batch], got {texts.shape}")
    return texts


def _truncated_lengths(segments, budget):
    """Google's `_truncate_seq_pair` in closed form: kept length per segment.

    Dropping from the longer (ties: the second) leaves the first segment
    `min(len_a, max(budget - len_b, ceil(budget / 2)))` tokens.
    """
    lengths = [tf.cast(s.row_lengths(), tf.int32) for s in segments]
    budget = tf.maximum(tf.cast(budget, tf.int32), 0)
    if len(segments) == 1:
        return [tf.minimum(lengths[0], budget)]
    keep_a = tf.minimum(lengths[0],
                        tf.maximum(budget - lengths[1], (budget + 1) // 2))
    return [keep_a, tf.minimum(lengths[1], budget - keep_a)]
