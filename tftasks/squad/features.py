"""SQuAD questions -> BERT features: sliding windows over the context, max context, labels.

As Google's run_squad.py `convert_examples_to_features`: the question's
WordPieces (at most `max_query_length`) and a window of the context's pieces
make `[CLS] question [SEP] window [SEP]`; windows of at most
`max_seq_length - len(question) - 3` pieces start every `doc_stride` pieces
until one reaches the end. A piece seen in several windows is "max context"
in the window where min(left, right context) + 0.01 * window length is
largest (the first such window on ties); answers may only start there.
Training labels are piece positions in the feature; 0 ([CLS]) when the
answer is not wholly inside the window or the question is impossible. The
answer's pieces are narrowed to the tokenized answer text when they contain
it (Google's `_improve_answer_span`: "(1895-1943)." -> "1895").

Pieces come from `tfcore.text.wordpiece.WordPieceEncoder` (the ids of the
in-graph `BertTokenizer`), each paragraph tokenized once.

Example:

    featurizer = Featurizer(encoder, max_seq_length=384, doc_stride=128, max_query_length=64)
    for feature in featurizer.features(data, is_training=True):
        feature.input_ids, feature.start_position, feature.end_position
"""

import dataclasses
import time

import numpy as np
from absl import logging

# Google's first unique_id; features are numbered from it in order.
FIRST_UNIQUE_ID = 1000000000
# Seconds between progress lines while featurizing.
PROGRESS_SECONDS = 10.0


def doc_windows(num_tokens, max_tokens_for_doc, doc_stride):
    """`[(start, length)]` of the windows over `num_tokens` context pieces (none for 0)."""
    windows, start = [], 0
    while start < num_tokens:
        length = min(num_tokens - start, max_tokens_for_doc)
        windows.append((start, length))
        if start + length == num_tokens:
            break
        start += min(length, doc_stride)
    return windows


def max_context_masks(windows, num_tokens):
    """For each window, bool `[length]`: is the window the piece's max-context window."""
    scores = np.full([len(windows), num_tokens], -np.inf)
    positions = np.arange(num_tokens)
    for w, (start, length) in enumerate(windows):
        inside = slice(start, start + length)
        left = positions[inside] - start
        scores[w, inside] = np.minimum(left, length - 1 - left) + 0.01 * length
    best = np.argmax(scores, axis=0)  # the first window on ties, as Google's strict ">"
    return [best[start:start + length] == w for w, (start, length) in enumerate(windows)]


@dataclasses.dataclass
class Feature:
    """One window of one question; arrays are of the feature's real length `n` (no padding)."""

    example_index: int
    input_ids: np.ndarray        # int32 [n]
    segment_ids: np.ndarray      # int32 [n]
    token_to_word: np.ndarray    # int32 [n]: the context word of each piece, -1 elsewhere
    max_context: np.ndarray      # bool [n]
    start_position: int = 0
    end_position: int = 0
    is_impossible: bool = False


class Featurizer:
    """Turns `SquadData` into `Feature`s (see the module doc)."""

    def __init__(self, encoder, max_seq_length=384, doc_stride=128, max_query_length=64):
        self.encoder = encoder
        self.max_seq_length, self.doc_stride = max_seq_length, doc_stride
        self.max_query_length = max_query_length
        self._data, self._paragraphs = None, {}

    def _pieces(self, data, index):
        """`(ids int32 [p], piece -> word int32 [p], word -> first piece int64 [w + 1])`.

        Each paragraph is tokenized once (questions come in any order).
        """
        if self._data is not data:
            self._data, self._paragraphs = data, {}
        if index not in self._paragraphs:
            words = data.paragraphs[index].doc_tokens
            ids, lengths = self.encoder.encode(words)
            to_word = np.repeat(np.arange(len(words), dtype=np.int32), lengths)
            first = np.concatenate([[0], np.cumsum(lengths)])
            self._paragraphs[index] = (ids.astype(np.int32), to_word, first)
        return self._paragraphs[index]

    def answer_pieces(self, question, ids, first_piece):
        """Inclusive piece span of a training answer (narrowed as Google's)."""
        start = int(first_piece[question.start_word])
        end = int(first_piece[question.end_word + 1]) - 1
        answer, _ = self.encoder.encode([question.answer_text])
        k = len(answer)
        for new_start in range(start, end + 1):
            new_end = new_start + k - 1
            if new_end > end:
                break
            if k and np.array_equal(ids[new_start:new_end + 1], answer):
                return new_start, new_end
        return start, end

    def question_features(self, data, example_index, is_training):
        """The `Feature`s of question `example_index` of `data`."""
        question = data.questions[example_index]
        ids, to_word, first_piece = self._pieces(data, question.paragraph)
        query, _ = self.encoder.encode([question.question])
        query = query[:self.max_query_length].astype(np.int32)
        span = None
        if is_training and not question.is_impossible:
            span = self.answer_pieces(question, ids, first_piece)
        windows = doc_windows(len(ids), self.max_seq_length - len(query) - 3, self.doc_stride)
        head = np.concatenate([[self.encoder.cls_id], query, [self.encoder.sep_id]]).astype(np.int32)
        offset = len(head)
        out = []
        for (start, length), is_max in zip(windows, max_context_masks(windows, len(ids))):
            n = offset + length + 1
            feature = Feature(
                example_index,
                np.concatenate([head, ids[start:start + length], [self.encoder.sep_id]]
                               ).astype(np.int32),
                np.concatenate([np.zeros(offset, np.int32), np.ones(length + 1, np.int32)]),
                np.full(n, -1, np.int32), np.zeros(n, bool),
                is_impossible=question.is_impossible)
            feature.token_to_word[offset:offset + length] = to_word[start:start + length]
            feature.max_context[offset:offset + length] = is_max
            if span and start <= span[0] and span[1] <= start + length - 1:
                feature.start_position = span[0] - start + offset
                feature.end_position = span[1] - start + offset
            out.append(feature)
        return out

    def features(self, data, is_training, order=None):
        """Yields every `Feature` of `data` (questions in `order`, default file order)."""
        order = range(len(data.questions)) if order is None else order
        started = last = time.perf_counter()
        count = 0
        for done, example_index in enumerate(order):
            for feature in self.question_features(data, example_index, is_training):
                count += 1
                yield feature
            if time.perf_counter() - last > PROGRESS_SECONDS:
                last = time.perf_counter()
                logging.info("Features of %s: %d of %d questions, %d features, %.0f s.",
                             data.source, done + 1, len(order), count, last - started)
        logging.info("Features of %s: %d questions -> %d features in %.1f s.", data.source,
                     len(order), count, time.perf_counter() - started)
