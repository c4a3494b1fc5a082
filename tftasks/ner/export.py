"""Export a fine-tuned `BertTokenClassifier` as a SavedModel: raw text in, entities out.

`serving_default(text: tf.string [batch])` splits each text into words
(`BertTokenizer.tokenize_with_offsets`: white space, punctuation and CJK
characters), tags the first WordPiece of every word, decodes the tags into
entities in the graph with conlleval's chunk rules (IOB1, IOB2 and BIOES
alike, `tftasks.ner.tags`) and returns, padded to the most entities (words)
of the batch:

- `entity_text` tf.string `[batch, e]`, `entity_type` tf.string `[batch, e]`
  ("" padding), `entity_start`, `entity_end` int64 `[batch, e]` (CHARACTER
  offsets: `text[start:end] == entity_text` in Python; -1 padding),
  `entity_score` float32 `[batch, e]` (mean over the entity's words of the
  probability of their tag; 0 padding), `num_entities` int32 `[batch]`;
- `word_text`, `word_tag` tf.string `[batch, w]`: every tagged word and its tag.

Texts longer than `max_seq_length - 2` WordPieces are TRUNCATED: the words
after that are not tagged (training truncates the same way; `run_ner.py`'s
evaluation splits long sentences into windows instead). Hostile text is
answered: "" has no entities; invalid UTF-8 becomes U+FFFD first (offsets then
count characters of the repaired text); control characters are dropped
inside words; a 100 KB text is tokenized whole and then truncated. Loads with
only `tensorflow` and `tensorflow_text` imported:

    import tensorflow as tf, tensorflow_text
    model = tf.saved_model.load("out/saved_model")
    out = model.signatures["serving_default"](text=tf.constant(["Alice lives in Paris"]))
    out["entity_text"], out["entity_type"], out["entity_start"], out["entity_end"]
"""

import tensorflow as tf

from tfcore.export import ServingModule, check_max_seq_length, save_atomically, text_spec
from tftasks.common.batches import trim_padding
from tftasks.ner.tags import OUTSIDE, split_tag

# Tag prefixes as integers for the in-graph chunk rules.
PREFIX_CODES = {OUTSIDE: 0, "B": 1, "I": 2, "E": 3, "S": 4}


def _shift(values, fill, boundary):
    """`values` moved one step right (`fill` first and wherever `boundary` is True)."""
    moved = tf.concat([tf.fill([1], fill), values[:-1]], axis=0)[:tf.shape(values)[0]]
    return tf.where(boundary, tf.fill(tf.shape(values), fill), moved)


def decode_entities(prefix, kind, rows):
    """In-graph conlleval chunks of flat tag sequences.

    Args:
      prefix: int32 `[n]` PREFIX_CODES of each word's tag; kind: int32 `[n]`
        entity type ids (0 for O); rows: int `[n]` sentence of each word (sorted).
    Returns:
      `(first, last)` int64 `[entities]`: inclusive flat word indices.
    """
    n = tf.shape(prefix)[0]
    rows = tf.cast(rows, tf.int64)
    new_row = tf.not_equal(rows, _shift(rows, tf.constant(-1, tf.int64), tf.zeros([n], bool)))
    last_of_row = tf.concat([new_row[1:], tf.ones([1], bool)], axis=0)[:n]
    p_prev, k_prev = _shift(prefix, 0, new_row), _shift(kind, 0, new_row)
    p_next = tf.where(last_of_row, 0, tf.concat([prefix[1:], [0]], axis=0)[:n])
    k_next = tf.where(last_of_row, 0, tf.concat([kind[1:], [0]], axis=0)[:n])
    is_b_or_s = lambda p: (p == 1) | (p == 4)  # noqa: E731
    is_i_or_e = lambda p: (p == 2) | (p == 3)  # noqa: E731
    starts = is_b_or_s(prefix) | (is_i_or_e(prefix) & (
        (p_prev == 0) | (p_prev == 3) | (p_prev == 4) | (kind != k_prev)))
    in_b_or_i = (prefix == 1) | (prefix == 2)
    ends = (prefix == 3) | (prefix == 4) | (in_b_or_i & (
        is_b_or_s(p_next) | (p_next == 0) | (k_next != kind)))
    first = tf.where(starts)[:, 0]
    end_positions = tf.where(ends)[:, 0]
    last = tf.gather(end_positions, tf.searchsorted(end_positions, first, side="left"))
    return first, last


class NerExport(ServingModule):
    """A BertTokenClassifier, its tokenizer and tag set behind a raw-text signature.

    Example:

        NerExport(model, tokenizer, tag_set, max_seq_length=128).save("out/saved_model")
    """

    def __init__(self, model, tokenizer, tag_set, max_seq_length):
        super().__init__()
        check_max_seq_length(max_seq_length, model.config)
        self.model, self.tokenizer, self.max_seq_length = model, tokenizer, max_seq_length
        types = tag_set.entity_types
        parts = [split_tag(t) for t in tag_set.names]
        self.type_names = [""] + types
        self.prefix_table = [PREFIX_CODES[p] for p, _ in parts]
        self.type_table = [types.index(k) + 1 if k else 0 for _, k in parts]
        self.tag_names = list(tag_set.names)

    def tag(self, text):
        """Raw text `[batch]` -> the outputs described in the module doc."""
        tokens = self.tokenizer.tokenize_with_offsets(text)
        budget = self.max_seq_length - 2
        ids, word_ids = tokens["ids"][:, :budget], tokens["word_ids"][:, :budget]
        features = trim_padding(self.tokenizer.pack(ids, self.max_seq_length))
        probabilities = tf.nn.softmax(tf.cast(self.model(features, training=False),
                                              tf.float32), axis=-1)
        # The first piece of each word: its word differs from the previous piece's.
        flat_words = word_ids.flat_values
        piece_rows = word_ids.value_rowids()
        position = tf.cast(tf.range(tf.shape(flat_words, out_type=tf.int64)[0])
                           - tf.gather(word_ids.row_starts(), piece_rows), tf.int32)
        is_first = (position == 0) | tf.not_equal(
            flat_words, tf.concat([[-1], flat_words[:-1]], axis=0)[:tf.shape(flat_words)[0]])
        rows = tf.boolean_mask(piece_rows, is_first)
        words = tf.cast(tf.boolean_mask(flat_words, is_first), tf.int64)
        at = tf.stack([tf.cast(rows, tf.int32), tf.boolean_mask(position, is_first) + 1], 1)
        word_probabilities = tf.gather_nd(probabilities, at)           # [tagged words, k]
        tag_ids = tf.argmax(word_probabilities, axis=-1, output_type=tf.int32)
        scores = tf.reduce_max(word_probabilities, axis=-1)
        # Byte spans of the tagged words in the (repaired) texts.
        flat_index = tf.gather(tokens["word_starts"].row_starts(), rows) + words
        byte_starts = tf.gather(tokens["word_starts"].flat_values, flat_index)
        byte_ends = tf.gather(tokens["word_ends"].flat_values, flat_index)
        texts = tokens["texts"]
        kinds = tf.gather(tf.constant(list(self.type_table)), tag_ids)
        first, last = decode_entities(tf.gather(tf.constant(list(self.prefix_table)), tag_ids),
                                      kinds, rows)
        entity_rows = tf.gather(rows, first)
        entity_texts = tf.gather(texts, entity_rows)
        start_bytes, end_bytes = tf.gather(byte_starts, first), tf.gather(byte_ends, last)
        totals = tf.concat([[0.0], tf.cumsum(scores)], axis=0)
        mean_score = ((tf.gather(totals, last + 1) - tf.gather(totals, first))
                      / tf.cast(last - first + 1, tf.float32))
        batch = tf.shape(texts, out_type=tf.int64)[0]

        def padded(values, rows_of, default):
            return tf.RaggedTensor.from_value_rowids(values, rows_of, nrows=batch).to_tensor(
                default_value=default)

        def chars(texts_of, byte_offsets):
            prefix = tf.strings.substr(texts_of, tf.zeros_like(byte_offsets), byte_offsets)
            return tf.cast(tf.strings.length(prefix, unit="UTF8_CHAR"), tf.int64)

        entity = {
            "entity_text": tf.strings.substr(entity_texts, start_bytes, end_bytes - start_bytes),
            "entity_type": tf.gather(tf.constant(list(self.type_names)), tf.gather(kinds, first)),
            "entity_start": chars(entity_texts, start_bytes),
            "entity_end": chars(entity_texts, end_bytes),
            "entity_score": mean_score}
        defaults = {"entity_text": "", "entity_type": "", "entity_start": tf.constant(-1, tf.int64),
                    "entity_end": tf.constant(-1, tf.int64), "entity_score": 0.0}
        out = {k: padded(v, entity_rows, defaults[k]) for k, v in entity.items()}
        out["num_entities"] = tf.cast(tf.math.bincount(
            tf.cast(entity_rows, tf.int32), minlength=tf.cast(batch, tf.int32),
            maxlength=tf.cast(batch, tf.int32)), tf.int32)
        word_texts = tf.gather(texts, rows)
        out["word_text"] = padded(tf.strings.substr(word_texts, byte_starts,
                                                    byte_ends - byte_starts), rows, "")
        out["word_tag"] = padded(tf.gather(tf.constant(list(self.tag_names)), tag_ids), rows, "")
        return out

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path."""
        self.serve = tf.function(lambda text: self.tag(text), input_signature=[text_spec("text")])
        return save_atomically(self, export_dir, signatures={"serving_default": self.serve})
