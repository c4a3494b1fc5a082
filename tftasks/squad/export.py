"""Export a fine-tuned `BertSpanLabeler` as a SavedModel that answers raw questions.

`serving_default(question: tf.string [b], context: tf.string [b])` returns
`answer` tf.string `[b]`, `start`, `end` int64 `[b]` (CHARACTER offsets:
`context[start:end] == answer` in Python) and `score` float32 `[b]` (start +
end logit of the answer; `NO_SPAN_SCORE` when the context has no candidate),
plus `null_score_diff` float32 `[b]` for SQuAD 2.0 models (null score - best
span score; "" is answered when it exceeds the threshold the run used).

Everything happens in the graph, as `run_squad.py` predicts: the question's
WordPieces (at most `max_query_length`), windows over the context's pieces
every `doc_stride` pieces (contexts of any length), one model call over all
windows of the batch, the best span over every window with Google's
constraints (start and end among the `n_best_size` best positions of their
window, inside the context, the start in its max-context window, end >=
start, at most `max_answer_length` pieces). The answer runs from the first
character of the start piece's word to the last character of the end
piece's word, words being those of `BertTokenizer.tokenize_with_offsets`
(white space, punctuation and CJK characters split): like Google's
`get_final_text`, "(1895-1943)." gives "1895". Differences from
`predictions.json`: no "empty" placeholder (a context without candidates
answers ""), and a span inside one word of several pieces still returns
the whole word.

Hostile input is answered: "" question or context (answer ""), invalid UTF-8
(U+FFFD first: offsets then count characters of the repaired text), control
characters (dropped by the tokenizer, kept in the answer's span), a 100 KB
context (~200 windows of 384 tokens in one call: seconds for a small model).
`question` and `context` of different lengths raise InvalidArgumentError.

    import tensorflow as tf, tensorflow_text
    model = tf.saved_model.load("out/saved_model")
    out = model.signatures["serving_default"](
        question=tf.constant(["Who won?"]), context=tf.constant(["Denver won the game."]))
    out["answer"], out["start"], out["end"], out["score"]
"""

import tensorflow as tf

from tfcore.export import ServingModule, check_max_seq_length, save_atomically, text_spec
from tftasks.common.batches import trim_padding

# `score` when no span is possible (empty context): far below any logit sum.
NO_SPAN_SCORE = -1e9


def _flat_gather(values, index, found):
    """`values[index]` where `found`, else 0; safe when `values` is empty."""
    padded = tf.concat([values, tf.zeros([1], values.dtype)], axis=0)
    return tf.gather(padded, tf.where(found, index, tf.cast(tf.size(values), index.dtype)))


class SquadExport(ServingModule):
    """A BertSpanLabeler and its tokenizer behind `serving_default(question, context)`.

    Example:

        SquadExport(model, tokenizer, max_seq_length=384, doc_stride=128).save("out/sm")
    """

    def __init__(self, model, tokenizer, max_seq_length=384, doc_stride=128,
                 max_query_length=64, n_best_size=20, max_answer_length=30,
                 version_2_with_negative=False, null_score_diff_threshold=0.0):
        super().__init__()
        check_max_seq_length(max_seq_length, model.config)
        if max_seq_length <= max_query_length + 3:
            raise ValueError(f"max_seq_length {max_seq_length} must exceed max_query_length "
                             f"{max_query_length} + 3.")
        self.model, self.tokenizer = model, tokenizer
        self.max_seq_length, self.doc_stride = max_seq_length, doc_stride
        self.max_query_length, self.n_best_size = max_query_length, n_best_size
        self.max_answer_length = max_answer_length
        self.version_2 = version_2_with_negative
        self.null_threshold = float(null_score_diff_threshold)

    def _windows(self, query, ids):
        """Per window: row, first piece (flat index into `ids`), length; and the packed inputs."""
        q_len, p_len = query.row_lengths(), ids.row_lengths()
        room = self.max_seq_length - 3 - q_len
        step = tf.minimum(tf.constant(self.doc_stride, tf.int64), room)
        n_win = 1 + (tf.maximum(p_len - room, 0) + step - 1) // step
        row = tf.repeat(tf.range(ids.nrows()), n_win)
        start = tf.ragged.range(n_win).flat_values * tf.gather(step, row)
        length = tf.maximum(tf.minimum(tf.gather(p_len, row) - start, tf.gather(room, row)), 0)
        local = tf.ragged.range(length)                               # [W, (length)]
        first = tf.gather(ids.row_starts(), row) + start
        piece = local.flat_values + tf.gather(first, local.value_rowids())
        window_ids = local.with_flat_values(tf.gather(ids.flat_values, piece))
        inputs = trim_padding(self.tokenizer.pack([tf.gather(query, row), window_ids],
                                                  self.max_seq_length))
        return row, length, local, piece, inputs

    def _span_masks(self, row, length, local, piece, q_len, shape):
        """bool `[W, s]` allowed starts and ends, int64 `[W, s]` flat piece index (-1 elsewhere)."""
        window = local.value_rowids()
        k = local.flat_values
        position = tf.stack([window, 2 + tf.gather(q_len, tf.gather(row, window)) + k], axis=1)
        # Google's max context: min(left, right) + 0.01 * length, the first window on ties.
        span_length = tf.cast(tf.gather(length, window), tf.float64)
        kf = tf.cast(k, tf.float64)
        score = tf.minimum(kf, span_length - 1 - kf) + 0.01 * span_length
        pieces = tf.reduce_max(tf.concat([piece, [-1]], 0)) + 1
        best = tf.math.unsorted_segment_max(score, piece, pieces)
        candidate = tf.where(tf.equal(score, tf.gather(best, piece)), window,
                             tf.reduce_max(tf.concat([window, [0]], 0)) + 1)
        first_window = tf.math.unsorted_segment_min(candidate, piece, pieces)
        is_max = tf.equal(window, tf.gather(first_window, piece))
        shape = tf.cast(shape, tf.int64)
        in_context = tf.scatter_nd(position, tf.ones_like(k, tf.int32), shape) > 0
        max_context = tf.scatter_nd(position, tf.cast(is_max, tf.int32), shape) > 0
        piece_at = tf.scatter_nd(position, piece + 1, shape) - 1
        return max_context, in_context, piece_at

    def _top(self, logits, real):
        """bool `[W, s]`: among the window's `n_best_size` highest logits (real tokens only)."""
        masked = tf.where(real, logits, -float("inf"))
        k = tf.minimum(self.n_best_size, tf.shape(logits)[1])
        kth = tf.math.top_k(masked, k).values[:, -1:]
        return masked >= kth

    def answer(self, question, context):
        """Raw text `[b]` pairs -> the outputs described in the module doc."""
        tf.debugging.assert_equal(tf.size(question), tf.size(context), message=(
            "question and context must have the same number of strings"))
        query = self.tokenizer.tokenize(question)[:, :self.max_query_length]
        doc = self.tokenizer.tokenize_with_offsets(context)
        ids = doc["ids"]
        q_len = query.row_lengths()
        row, length, local, piece, inputs = self._windows(query, ids)
        out = self.model(inputs, training=False)
        start_logits = tf.cast(out["start_logits"], tf.float32)
        end_logits = tf.cast(out["end_logits"], tf.float32)
        shape = tf.shape(start_logits)
        max_context, in_context, piece_at = self._span_masks(row, length, local, piece, q_len,
                                                             shape)
        real = tf.sequence_mask(3 + tf.gather(q_len, row) + length, shape[1])
        minus_inf = tf.fill(shape, -float("inf"))
        starts = tf.where(self._top(start_logits, real) & max_context, start_logits, minus_inf)
        ends = tf.where(self._top(end_logits, real) & in_context, end_logits, minus_inf)
        # Pairs (i, i + a), a < max_answer_length: [W, s, A].
        span = self.max_answer_length
        ends = tf.concat([ends, tf.fill([shape[0], span], -float("inf"))], axis=1)
        ends = tf.gather(ends, tf.range(shape[1])[:, None] + tf.range(span)[None, :], axis=1)
        pairs = tf.reshape(starts[:, :, None] + ends, [shape[0], -1])
        # Windows without a candidate (-inf) at float32's lowest, as empty segments are.
        window_best = tf.maximum(tf.reduce_max(pairs, axis=1), tf.float32.min)
        flat = tf.argmax(pairs, axis=1, output_type=tf.int32)
        window_start, window_end = flat // span, flat // span + flat % span
        # The best window of each question (the first on ties).
        batch = tf.cast(ids.nrows(), tf.int32)
        best = tf.math.unsorted_segment_max(window_best, row, batch)
        windows = tf.cast(tf.range(shape[0]), tf.int64)
        chosen = tf.math.unsorted_segment_min(
            tf.where(tf.equal(window_best, tf.gather(best, row)), windows,
                     tf.cast(shape[0], tf.int64)), row, batch)
        found = best > tf.float32.min
        chosen = tf.where(found, chosen, 0)
        at = lambda i: tf.stack([chosen, tf.cast(tf.gather(i, chosen), tf.int64)], 1)  # noqa: E731
        first_piece, last_piece = (tf.gather_nd(piece_at, at(i))
                                   for i in (window_start, window_end))
        outputs = {"score": tf.where(found, best, NO_SPAN_SCORE)}
        if self.version_2:
            null = tf.math.unsorted_segment_min(start_logits[:, 0] + end_logits[:, 0], row, batch)
            outputs["null_score_diff"] = null - outputs["score"]
            found = found & (null - best <= self.null_threshold)
        outputs.update(self._char_span(doc, first_piece, last_piece, found))
        return outputs

    def _char_span(self, doc, first_piece, last_piece, found):
        """answer, start, end of pieces' words (0, 0 and "" where not `found`)."""
        found = found & (first_piece >= 0) & (last_piece >= 0)
        word_ids = tf.cast(doc["word_ids"].flat_values, tf.int64)
        piece_row = doc["word_ids"].value_rowids()
        words = doc["word_starts"]

        def word_of(p):
            flat = tf.gather(words.row_starts(), _flat_gather(piece_row, p, found)) + \
                _flat_gather(word_ids, p, found)
            return flat

        byte_start = _flat_gather(words.flat_values, word_of(first_piece), found)
        byte_end = _flat_gather(doc["word_ends"].flat_values, word_of(last_piece), found)
        texts = doc["texts"]

        def chars(offset):
            return tf.cast(tf.strings.length(tf.strings.substr(texts, tf.zeros_like(offset), offset),
                                             unit="UTF8_CHAR"), tf.int64)

        return {"answer": tf.where(found, tf.strings.substr(texts, byte_start,
                                                            byte_end - byte_start), ""),
                "start": tf.where(found, chars(byte_start), 0),
                "end": tf.where(found, chars(byte_end), 0)}

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path."""
        self.serve = tf.function(lambda question, context: self.answer(question, context),
                                 input_signature=[text_spec("question"), text_spec("context")])
        return save_atomically(self, export_dir, signatures={"serving_default": self.serve})
