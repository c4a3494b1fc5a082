"""Words and tags -> BERT token-classification features (Python, then `tf.data`).

Each word is WordPiece-tokenized on its own (`tfcore.text.WordPieceEncoder`,
the ids of the in-graph tokenizer); a word whose characters are all dropped
(control or zero-width characters) becomes `[UNK]`, so every word is
predicted. The FIRST piece of a word carries the word's tag id; the other
pieces, [CLS], [SEP] and padding carry `IGNORE` (-100), which the loss and
the metrics skip.

Sentences longer than `max_seq_length - 2` pieces: for training the words
that do not fit are dropped (truncation, as Hugging Face's run_ner); for
evaluation and prediction the sentence is split into consecutive windows of
whole words, so every word is predicted and the metrics cover every gold
entity. A single word of more pieces than fit keeps its first pieces.

Example:

    features = make_features(sentences, tag_ids, encoder, 128, split_long=True)
    features.arrays["input_ids"].shape        # [windows, 128]
    dataset = make_dataset(features, batch_size=32, is_training=True, seed=1)
"""

import dataclasses
from typing import Dict

import numpy as np
import tensorflow as tf

from tftasks.common.batches import trim_padding

IGNORE = -100  # label id of pieces that carry no label (Hugging Face's convention)


@dataclasses.dataclass
class Features:
    """`arrays`: int32 `[n, max_seq_length]` input_ids/input_mask/segment_ids(/label_ids);
    `word_index` int32 `[n, max_seq_length]`: the word (in its sentence) whose first piece
    sits there, else -1; `sentence` int32 `[n]`: the sentence of each window;
    `dropped_words`: words cut off by truncation (training)."""

    arrays: Dict[str, np.ndarray]
    word_index: np.ndarray
    sentence: np.ndarray
    dropped_words: int = 0

    def __len__(self):
        return len(self.sentence)


def word_pieces(words, encoder):
    """Pieces of each word: a list (per sentence) of lists (per word) of int ids."""
    flat_words = [w for sentence in words for w in sentence]
    ids, lengths = encoder.encode(flat_words)
    ends = np.cumsum(lengths)
    pieces, k = [], 0
    for sentence in words:
        row = []
        for _ in sentence:
            start = ends[k] - lengths[k]
            row.append([int(i) for i in ids[start:ends[k]]] or [encoder.unk_id])
            k += 1
        pieces.append(row)
    return pieces


def windows(word_piece_counts, budget):
    """`[(first, end)]` word ranges of consecutive words with at most `budget` pieces each."""
    out, first, used = [], 0, 0
    for i, count in enumerate(word_piece_counts):
        count = min(count, budget)
        if used + count > budget:
            out.append((first, i))
            first, used = i, 0
        used += count
    out.append((first, len(word_piece_counts)))
    return out


def make_features(sentences, tag_ids, encoder, max_seq_length, split_long):
    """`Sentences` (+ tag ids per word, or None) -> `Features`; see the module doc."""
    budget = max_seq_length - 2
    rows, word_rows, label_rows, owners, dropped = [], [], [], [], 0
    for s, pieces in enumerate(word_pieces(sentences.words, encoder)):
        spans = windows([len(p) for p in pieces], budget)
        if not split_long:
            dropped += len(pieces) - spans[0][1]
            spans = spans[:1]
        for first, end in spans:
            ids, where, labels = [encoder.cls_id], [-1], [IGNORE]
            for w in range(first, end):
                kept = pieces[w][:budget]
                ids += kept
                where += [w] + [-1] * (len(kept) - 1)
                tag = tag_ids[s][w] if tag_ids is not None else IGNORE
                labels += [tag] + [IGNORE] * (len(kept) - 1)
            ids.append(encoder.sep_id)
            where.append(-1)
            labels.append(IGNORE)
            rows.append(ids)
            word_rows.append(where)
            label_rows.append(labels)
            owners.append(s)
    n = len(rows)
    input_ids = np.full([n, max_seq_length], encoder.pad_id, np.int32)
    input_mask = np.zeros([n, max_seq_length], np.int32)
    word_index = np.full([n, max_seq_length], -1, np.int32)
    label_ids = np.full([n, max_seq_length], IGNORE, np.int32)
    for i, (ids, where, labels) in enumerate(zip(rows, word_rows, label_rows)):
        input_ids[i, :len(ids)] = ids
        input_mask[i, :len(ids)] = 1
        word_index[i, :len(ids)] = where
        label_ids[i, :len(ids)] = labels
    arrays = {"input_ids": input_ids, "input_mask": input_mask,
              "segment_ids": np.zeros_like(input_ids)}
    if tag_ids is not None:
        arrays["label_ids"] = label_ids
    return Features(arrays, word_index, np.array(owners, np.int32), dropped)


def make_dataset(features, batch_size, is_training=False, input_context=None, seed=None):
    """`Features` -> batches of dicts int32 `[batch, s' <= max_seq_length]`, padding trimmed.

    Training: sharded by input pipeline, shuffled (seeded), repeated, the last
    partial batch dropped. Otherwise in order, every window once.
    """
    dataset = tf.data.Dataset.from_tensor_slices(features.arrays)
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines,
                                input_context.input_pipeline_id)
    if is_training:
        dataset = dataset.shuffle(len(features), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=is_training)
    dataset = dataset.map(trim_padding, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
