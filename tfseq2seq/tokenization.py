"""SentencePiece tokenization in the graph (tf.data, SavedModels) and in Python.

`SentencePieceTokenizer` runs a SentencePiece `.model` with tensorflow-text's
`SentencepieceTokenizer` (the same C++ library as the `sentencepiece` Python
package), so `tokenize` in the graph and `encode` in Python give the same ids.
The model proto is held by tensorflow-text's resource: a SavedModel stores it
inside the resource's creation function and needs only `import
tensorflow_text` to load (no file beside the SavedModel).

Ids are the model's own (our models: pad = 0, eos = 1, unk = 2, no bos; see
tftasks/translation/vocab.py), or, with `pieces_to_ids`, another table's:
Marian folders hold `source.spm` / `target.spm` whose pieces map to the model's
ids through `vocab.json`. Then pieces go through a `tf.lookup.StaticHashTable`
(pieces absent from the table -> its unk id) and back for `detokenize`, and
the special ids are the table's ids of the pieces "</s>", "<unk>", "<pad>"
(or given).

Conventions:
  * `tokenize` appends eos (`add_eos=True`); `max_length` truncates to at most
    that many ids, eos kept as the last one.
  * `detokenize` reads ids up to the first eos (excluded) and drops pad, unk
    and ids outside the vocabulary (as Hugging Face's `decode(...,
    skip_special_tokens=True)`: a " ⁇ " for unk would only cost BLEU).
  * Text that is not valid UTF-8: every invalid byte sequence becomes U+FFFD
    before tokenization, in the graph (`tf.strings.unicode_transcode`) as in
    Python (`bytes.decode("utf-8", "replace")`, which agree). The `nmt_nfkc`
    normalizer then drops U+FFFD; an `identity` model makes it unk. No error.
  * Empty text -> `[eos]` (`[]` without eos).

Example:

    tokenizer = SentencePieceTokenizer("spm.model")
    ids = tokenizer.tokenize(["Ein Mann fährt Rad."])     # ragged int32 [1, (n)], ends with eos 1
    tokenizer.detokenize(ids)                             # [b"Ein Mann f\\xc3\\xa4hrt Rad."]
    tokenizer.encode("Ein Mann fährt Rad.")               # same ids, plain Python list

    # A Marian folder: one tokenizer per side, both through vocab.json.
    table = json.load(open("opus-mt-de-en/vocab.json"))
    source = SentencePieceTokenizer("opus-mt-de-en/source.spm", pieces_to_ids=table)
    target = SentencePieceTokenizer("opus-mt-de-en/target.spm", pieces_to_ids=table)

Checked against transformers' `MarianTokenizer` (a tiny model with a
reordered vocab.json missing one piece, 39 texts with unknown characters,
empty and doubly spaced text): equal ids, and equal text for its
`decode(ids, skip_special_tokens=True)`.
"""

import tensorflow as tf
import tensorflow_text as tf_text

EOS_PIECE, UNK_PIECE, PAD_PIECE = "</s>", "<unk>", "<pad>"
_REPLACEMENT_CHAR = 0xFFFD


def read_model_proto(model_file):
    """The serialized SentencePiece model (bytes) of a `.model` file (gs:// too)."""
    with tf.io.gfile.GFile(model_file, "rb") as f:
        return f.read()


class _PythonSide:
    """The `sentencepiece` processor and tables (kept out of TF's object tracking)."""

    def __init__(self, model_proto, pieces_to_ids):
        import sentencepiece as spm
        self.processor = spm.SentencePieceProcessor(model_proto=model_proto)
        self.pieces_to_ids = pieces_to_ids
        self.ids_to_pieces = None
        if pieces_to_ids is not None:
            self.ids_to_pieces = {}
            for piece, index in pieces_to_ids.items():
                self.ids_to_pieces.setdefault(index, piece)


class SentencePieceTokenizer(tf.Module):
    """Text <-> SentencePiece ids, in the graph and in Python (same ids).

    Args:
      model_file: a SentencePiece `.model` file (or give `model_proto`).
      pieces_to_ids: optional dict piece -> model id (Marian's vocab.json);
        None: the SentencePiece model's own ids.
      add_eos: append the eos id to every tokenized text.
      max_length: optional cap on the ids per text (eos included).
      model_proto: the serialized model instead of `model_file`.
      pad_id, eos_id, unk_id: override the special ids (default: the model's,
        or with `pieces_to_ids` the ids of "<pad>", "</s>", "<unk>").
    """

    def __init__(self, model_file=None, pieces_to_ids=None, add_eos=True, max_length=None,
                 model_proto=None, pad_id=None, eos_id=None, unk_id=None, name=None):
        super().__init__(name=name)
        if (model_file is None) == (model_proto is None):
            raise ValueError("give exactly one of model_file and model_proto")
        if model_proto is None:
            model_proto = read_model_proto(model_file)
        if max_length is not None and max_length < 1 + bool(add_eos):
            raise ValueError(f"max_length must leave room for a piece and eos, got {max_length}")
        self.add_eos, self.max_length = add_eos, max_length
        python = _PythonSide(model_proto, None if pieces_to_ids is None else dict(pieces_to_ids))
        object.__setattr__(self, "_python", python)
        processor = python.processor
        self._spm = tf_text.SentencepieceTokenizer(
            model=model_proto, out_type=tf.int32 if pieces_to_ids is None else tf.string)
        if pieces_to_ids is None:
            ids = {"pad": processor.pad_id(), "eos": processor.eos_id(), "unk": processor.unk_id()}
            self.vocab_size = processor.get_piece_size()
        else:
            table = python.pieces_to_ids
            eos_piece = (processor.id_to_piece(processor.eos_id()) if processor.eos_id() >= 0
                         else EOS_PIECE)
            unk_piece = processor.id_to_piece(processor.unk_id())
            ids = {"pad": table.get(PAD_PIECE, -1), "eos": table.get(eos_piece, -1),
                   "unk": table.get(unk_piece, table.get(UNK_PIECE, -1))}
            self.vocab_size = max(table.values()) + 1
        given = {"pad": pad_id, "eos": eos_id, "unk": unk_id}
        ids = {k: given[k] if given[k] is not None else v for k, v in ids.items()}
        if ids["unk"] < 0 or (add_eos and ids["eos"] < 0):
            raise ValueError(f"the SentencePiece model / table has no unk or eos id ({ids}); "
                             "pass unk_id= / eos_id=")
        self.pad_id, self.eos_id, self.unk_id = ids["pad"], ids["eos"], ids["unk"]
        if pieces_to_ids is not None:
            pieces = list(python.pieces_to_ids)
            self._to_ids = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
                tf.constant(pieces, tf.string),
                tf.constant([python.pieces_to_ids[p] for p in pieces], tf.int32)), self.unk_id)
            model_ids = sorted(python.ids_to_pieces)
            self._to_pieces = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
                tf.constant(model_ids, tf.int32),
                tf.constant([python.ids_to_pieces[i] for i in model_ids], tf.string)), "")

    # ------------------------------------------------------------------ graph

    def tokenize(self, texts):
        """`texts` tf.string `[b]` -> ragged int32 ids `[b, (n)]` (eos last when `add_eos`)."""
        texts = tf.strings.unicode_transcode(
            tf.convert_to_tensor(texts, tf.string), "UTF-8", "UTF-8", errors="replace",
            replacement_char=_REPLACEMENT_CHAR)
        pieces = self._spm.tokenize(texts)
        ids = pieces if self._python.pieces_to_ids is None else tf.ragged.map_flat_values(
            self._to_ids.lookup, pieces)
        if self.max_length is not None:
            ids = ids[:, :self.max_length - bool(self.add_eos)]
        if self.add_eos:
            eos = tf.fill([ids.nrows(), 1], tf.constant(self.eos_id, tf.int32))
            ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
        return ids

    def detokenize(self, ids):
        """Ids `[b, n]` (dense or ragged) -> tf.string `[b]`.

        Reads up to the first eos; drops pad, unk and ids the vocabulary lacks.
        """
        if isinstance(ids, tf.RaggedTensor):
            ids = ids.to_tensor(default_value=self.eos_id)
        ids = tf.cast(tf.convert_to_tensor(ids), tf.int32)
        before_eos = tf.math.cumsum(tf.cast(tf.equal(ids, self.eos_id), tf.int32), axis=1) == 0
        keep = before_eos & tf.not_equal(ids, self.pad_id) & tf.not_equal(ids, self.unk_id)
        if self._python.pieces_to_ids is None:
            keep &= (ids >= 0) & (ids < self.vocab_size)
            return self._spm.detokenize(tf.ragged.boolean_mask(ids, keep))
        pieces = self._to_pieces.lookup(ids)  # "" for ids absent from the table
        pieces = tf.ragged.boolean_mask(pieces, keep & tf.not_equal(pieces, ""))
        return self._spm.detokenize(pieces.with_flat_values(self._spm.string_to_id(pieces.flat_values)))

    # ----------------------------------------------------------------- Python

    def encode(self, text):
        """One text (str, or bytes: invalid UTF-8 replaced) -> list of int ids, as `tokenize`."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        python = self._python
        if python.pieces_to_ids is None:
            ids = python.processor.encode(text)
        else:
            ids = [python.pieces_to_ids.get(p, self.unk_id)
                   for p in python.processor.encode(text, out_type=str)]
        if self.max_length is not None:
            ids = ids[:self.max_length - bool(self.add_eos)]
        return ids + [self.eos_id] if self.add_eos else ids

    def decode(self, ids):
        """Ids (ints) -> str, as `detokenize`."""
        python, kept = self._python, []
        for i in (int(i) for i in ids):
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.unk_id):
                kept.append(i)
        processor = python.processor
        if python.pieces_to_ids is None:
            return processor.decode([i for i in kept if 0 <= i < self.vocab_size])
        return processor.decode([processor.piece_to_id(python.ids_to_pieces[i]) for i in kept
                                 if i in python.ids_to_pieces])
