"""Documents -> GPT records: a token stream cut into `seq_length + 1` windows.

Documents are tokenized (lines of a document joined by "\\n"; with
`--input_format=text` each file verbatim) and packed back to back with an
end-of-text id after each, into one stream that runs across
blocks. Window i is `stream[i * L : i * L + L + 1]` for `L = seq_length`:
consecutive windows share one token, so every next-token transition of the
stream is a target exactly once, and nothing is padded. Only the stream's
tail of fewer than `L + 1` tokens is dropped (counted in the summary).
Windows are shuffled within the block that completed them.

Workers tokenize (`GptTokenMaker`); the main process cuts and encodes
(`GptWindower`), since a window may span two blocks.

Example:

    windower = GptWindower(seq_length=128, random_seed=12345)
    for result in map_blocks(blocks, GptTokenMaker(encoder_factory), num_workers):
        blob, lengths = windower.push(result)
"""

import dataclasses

import numpy as np

from tfrecords import features, wire
from tfrecords.bert_records import BlockResult, block_generators


@dataclasses.dataclass(frozen=True)
class EncoderFactory:
    """Picklable recipe of an encoder: kind "wordpiece", "char" or "bpe", and its files.

    `eot_token` (WordPiece only) separates documents; characters use id 0 and
    BPE `<|endoftext|>`.
    """
    kind: str
    vocab_file: str
    do_lower_case: bool = True
    eot_token: str = "[SEP]"
    merges_file: str = None

    def build(self):
        """-> (encoder, end-of-text id)."""
        from tfrecords import encoders
        if self.kind == "char":
            encoder = encoders.CharEncoder.from_file(self.vocab_file)
            return encoder, encoder.eot_id
        if self.kind == "bpe":
            encoder = encoders.BytePairEncoder(self.vocab_file, self.merges_file)
            return encoder, encoder.eot_id
        encoder = encoders.WordPieceEncoder(self.vocab_file, self.do_lower_case)
        return encoder, encoder.token_id(self.eot_token, "eot_token")


class GptTokenMaker:
    """Callable: `corpus.Block` -> `BlockResult` whose `blob` is the block's stream."""

    def __init__(self, factory):
        self.factory = factory
        self.encoder = self.eot_id = None

    def setup(self):
        if self.encoder is None:
            self.encoder, self.eot_id = self.factory.build()

    def __getstate__(self):
        return dict(self.__dict__, encoder=None, eot_id=None)

    def tokenize(self, block):
        """First stage: documents -> (flat ids, tokens per document, dropped characters)."""
        self.setup()
        before = self.encoder.dropped_chars
        flat, lengths = self.encoder.encode(["\n".join(doc) for doc in block.documents])
        return flat, lengths, self.encoder.dropped_chars - before

    def __call__(self, block, tokenized=None):
        flat, lengths, dropped = tokenized or self.tokenize(block)
        # Insert the end-of-text id after each document that ends (not after
        # a piece of a raw text file that continues in the next).
        ends = np.cumsum(lengths)[np.asarray(block.ends(), bool)]
        stream = np.insert(flat, ends, self.eot_id)
        stats = {"documents": len(lengths), "input_bytes": block.num_bytes,
                 "dropped_chars": dropped}
        return BlockResult(block.index, stream.astype(np.int64), lengths, stats)


class GptWindower:
    """Main-process side: stream pieces in block order -> encoded windows.

    With `dupe_factor = D`, the stream is cut D times, pass k starting at token
    `k * seq_length // D`: a token is then predicted after contexts of D
    different lengths (as random-offset sampling gives), and each pass is a
    full epoch of distinct windows.
    """

    def __init__(self, seq_length, random_seed, dupe_factor=1):
        self.seq_length = seq_length
        self.random_seed = random_seed
        self.schema = features.gpt_schema(seq_length)
        offsets = [k * seq_length // dupe_factor for k in range(dupe_factor)]
        self._skip = sorted(set(offsets))  # distinct offsets (D may exceed seq_length)
        self._carry = [np.zeros(0, np.int64) for _ in self._skip]

    def _cut(self, k, piece):
        """Windows that pass k completes with `piece` appended."""
        stream = np.concatenate([self._carry[k], piece])
        skip = min(self._skip[k], len(stream))
        stream, self._skip[k] = stream[skip:], self._skip[k] - skip
        length = self.seq_length
        count = max(0, (len(stream) - 1) // length)
        starts = np.arange(count)[:, None] * length
        self._carry[k] = stream[count * length:]
        return stream[starts + np.arange(length + 1)[None, :]]

    def push(self, result):
        """Adds a block's stream; returns `(blob, lengths, stats)` of the windows it completes."""
        windows = np.concatenate([self._cut(k, result.blob) for k in range(len(self._carry))])
        count = len(windows)
        _, np_rng = block_generators(self.random_seed, result.index)
        windows = windows[np_rng.permutation(count)]
        stats = dict(result.stats, instances=count, tokens=count * self.seq_length)
        if not count:
            return np.zeros(0, np.uint8), np.zeros(0, np.int64), stats
        blob, lengths = wire.encode_examples(self.schema, {features.GPT_TOKEN_IDS: windows})
        return blob, lengths, stats

    @property
    def tail_tokens(self):
        """Stream tokens after the first pass's last window (dropped at the end)."""
        return max(0, len(self._carry[0]) - 1)
