"""One block of documents -> serialized BERT pretraining records (MLM + NSP).

`BertRecordMaker` runs in the writer's worker processes: tokenize every
sentence of the block (`encoders.WordPieceEncoder`: the in-graph tokenizer's
ids without TensorFlow, which the BERT writer does not import for local
files), pack sentence pairs (`tfrecords.packing`, all `dupe_factor` passes),
mask (`tfrecords.masking`), shuffle the block's instances, and encode them as
`tf.train.Example` bytes (`tfrecords.wire`). Everything random comes from
generators seeded by `(random_seed, block index)`, so the output does not
depend on which process made a block, nor on how many there are.

Example:

    maker = BertRecordMaker(BertOptions(vocab_file="vocab.txt"))
    maker.setup()                      # builds the tokenizer (once per process)
    result = maker(block)              # result.blob, result.lengths, result.stats
"""

import dataclasses
import random

import numpy as np

from tfrecords import features, masking, packing, wire

# Instances assembled, masked and encoded at a time: [4096, 128] int32 arrays
# stay in the CPU cache's neighbourhood; larger chunks measured no faster.
CHUNK_INSTANCES = 4096


@dataclasses.dataclass(frozen=True)
class BertOptions:
    """The flags of Google's `create_pretraining_data.py` (same defaults)."""
    vocab_file: str
    do_lower_case: bool = True
    do_whole_word_mask: bool = False
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    random_seed: int = 12345
    dupe_factor: int = 10
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1


@dataclasses.dataclass
class BlockResult:
    """Serialized records of one block (`blob` bytes back to back, `lengths`) and counts."""
    index: int
    blob: np.ndarray
    lengths: np.ndarray
    stats: dict


def block_generators(random_seed, block_index):
    """(`random.Random`, `numpy.random.Generator`) for one block, from the seed and index."""
    sequence = np.random.SeedSequence([random_seed, block_index])
    return random.Random(int(sequence.generate_state(1, np.uint64)[0])), np.random.default_rng(
        sequence)


def sentence_layout(documents, lengths):
    """Drops sentences without tokens and documents without sentences.

    Args:
      documents: list of lists of sentences (only their counts are used).
      lengths: int `[num_sentences]` tokens per sentence, in document order.

    Returns:
      `(docs, starts, keep)`: `(first, end)` kept-sentence ranges per kept
      document, token offsets of the kept sentences plus the total, and the
      bool mask of kept sentences.
    """
    counts = np.array([len(d) for d in documents], np.int64)
    keep = lengths > 0
    kept_per_doc = np.bincount(np.repeat(np.arange(len(documents)), counts)[keep],
                               minlength=len(documents))
    kept_per_doc = kept_per_doc[kept_per_doc > 0]
    ends = np.cumsum(kept_per_doc)
    docs = list(zip((ends - kept_per_doc).tolist(), ends.tolist()))
    starts = np.concatenate([[0], np.cumsum(lengths[keep])])
    return docs, starts, keep


class BertRecordMaker:
    """Callable: `corpus.Block` -> `BlockResult` of BERT records (see module doc)."""

    def __init__(self, options):
        self.options = options
        self.schema = features.bert_schema(options.max_seq_length,
                                           options.max_predictions_per_seq)
        self.encoder = None

    def setup(self):
        """Builds the tokenizer; called once in each process that makes blocks."""
        if self.encoder is None:
            from tfrecords.encoders import WordPieceEncoder
            self.encoder = WordPieceEncoder(self.options.vocab_file,
                                            self.options.do_lower_case)

    def __getstate__(self):  # Worker processes build their own tokenizer.
        return dict(self.__dict__, encoder=None)

    def tokenize(self, block):
        """First stage: the block's sentences -> (flat ids, tokens per sentence)."""
        self.setup()
        return self.encoder.encode([line for doc in block.documents for line in doc])

    def __call__(self, block, tokenized=None):
        """Both stages; `tokenized` is `tokenize(block)` when already done."""
        self.setup()
        opts = self.options
        tokens, lengths = tokenized or self.tokenize(block)
        docs, starts, _ = sentence_layout(block.documents, lengths)
        rng, np_rng = block_generators(opts.random_seed, block.index)
        spans = packing.pack_documents(docs, starts, opts.max_seq_length,
                                       opts.short_seq_prob, rng, opts.dupe_factor)
        spans = spans[np_rng.permutation(len(spans))]  # Shuffle within the block.
        stats = {"instances": len(spans), "documents": len(docs),
                 "sentences": len(starts) - 1, "input_bytes": block.num_bytes,
                 "random_next": int(spans[:, 4].sum())}
        blobs, sizes = [], []
        # Chunks keep the [n, seq] temporaries small (cache-friendly, bounded memory).
        for first in range(0, len(spans), CHUNK_INSTANCES):
            blob, size = self._encode(spans[first:first + CHUNK_INSTANCES], tokens,
                                      np_rng, stats)
            blobs.append(blob)
            sizes.append(size)
        if not blobs:
            return BlockResult(block.index, np.zeros(0, np.uint8), np.zeros(0, np.int64), stats)
        return BlockResult(block.index, np.concatenate(blobs), np.concatenate(sizes), stats)

    def _encode(self, spans, tokens, np_rng, stats):
        """Assembles, masks and serializes some instances; adds their counts to `stats`."""
        opts, enc = self.options, self.encoder
        pairs = packing.assemble_pairs(spans, tokens, opts.max_seq_length,
                                       enc.cls_id, enc.sep_id, enc.pad_id)
        masked = masking.mask_tokens(
            pairs["input_ids"], pairs["candidates"], np_rng, enc.mask_id, enc.random_ids,
            opts.masked_lm_prob, opts.max_predictions_per_seq,
            enc.is_continuation if opts.do_whole_word_mask else None)
        columns = dict(masked, input_mask=pairs["input_mask"],
                       segment_ids=pairs["segment_ids"], next_sentence_labels=spans[:, 4:5])
        outcome = np.bincount(masked["outcome"].reshape(-1), minlength=4)
        counts = {"tokens": int(pairs["input_mask"].sum()),
                  "real_tokens": int(pairs["candidates"].sum()),
                  "masked": int(outcome[1:].sum()), "masked_as_mask": int(outcome[1]),
                  "masked_kept": int(outcome[2]), "masked_random": int(outcome[3])}
        for key, value in counts.items():
            stats[key] = stats.get(key, 0) + value
        return wire.encode_examples(self.schema, columns)
