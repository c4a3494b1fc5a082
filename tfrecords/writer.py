"""The writer behind `create_pretraining_data`, callable from Python.

Example:

    config = WriterConfig(input_file="corpus/*.txt", vocab_file="vocab.txt",
                          output_dir="records", num_shards=4, dupe_factor=5)
    summary = write_pretraining_data(config)
    summary["records"], summary["masked_fraction"], summary["shards"]

With `num_workers > 1` the workers are spawned processes: a script calling
this must guard its entry point with `if __name__ == "__main__":`.
"""

import dataclasses
import os
import time

from tfrecords import corpus, pipeline, report, shards
from tfrecords.bert_records import BertOptions, BertRecordMaker

MIN_BERT_SEQ_LENGTH = 5  # [CLS] a [SEP] b [SEP]
# Passes over the input: Google's default for BERT; one epoch of windows for GPT.
DEFAULT_DUPE_FACTOR = {"bert": 10, "gpt": 1}


@dataclasses.dataclass(frozen=True)
class WriterConfig:
    """Every option of the writer; field names are the CLI's flag names."""
    input_file: str
    input_format: str = "sentences"
    vocab_file: str = None
    output_file: str = None
    output_dir: str = None
    num_shards: int = None
    num_workers: int = 1
    model: str = "bert"
    tokenizer: str = "wordpiece"
    eot_token: str = "[SEP]"
    merges_file: str = None
    block_bytes: int = 1 << 20
    do_lower_case: bool = True
    do_whole_word_mask: bool = False
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    random_seed: int = 12345
    dupe_factor: int = None  # None: Google's 10 for BERT, 1 for GPT
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1

    def __post_init__(self):
        if self.dupe_factor is None:
            object.__setattr__(self, "dupe_factor", DEFAULT_DUPE_FACTOR.get(self.model, 10))

    def validate(self):
        """Raises ValueError for a bad combination of options (before any work)."""
        if bool(self.output_file) == bool(self.output_dir):
            raise ValueError("give exactly one of --output_file and --output_dir")
        if self.num_shards is not None and not self.output_dir:
            raise ValueError("--num_shards needs --output_dir")
        if min(self.num_shards or 1, self.num_workers, self.dupe_factor, self.block_bytes) < 1:
            raise ValueError("--num_shards, --num_workers, --dupe_factor, --block_bytes: >= 1")
        if not (0 <= self.masked_lm_prob <= 1 and 0 <= self.short_seq_prob <= 1):
            raise ValueError("--masked_lm_prob and --short_seq_prob must be in [0, 1]")
        if self.random_seed < 0 or self.max_predictions_per_seq < 0:
            raise ValueError("--random_seed and --max_predictions_per_seq must be >= 0")
        if self.model not in ("bert", "gpt"):
            raise ValueError(f"--model must be bert or gpt, not {self.model!r}")
        if self.input_format not in corpus.INPUT_FORMATS:
            raise ValueError(f"--input_format must be one of {corpus.INPUT_FORMATS}, "
                             f"not {self.input_format!r}")
        if self.model == "bert" and self.input_format != "sentences":
            raise ValueError("--model=bert reads --input_format=sentences only (sentence "
                             "pairs need Google's one-sentence-per-line format)")
        if self.model == "bert" and self.tokenizer != "wordpiece":
            raise ValueError("--model=bert takes --tokenizer=wordpiece only")
        if self.model == "bert" and self.max_seq_length < MIN_BERT_SEQ_LENGTH:
            raise ValueError(f"--max_seq_length must be >= {MIN_BERT_SEQ_LENGTH} for BERT")
        if self.max_seq_length < 1:
            raise ValueError("--max_seq_length must be >= 1")
        if self.tokenizer not in ("wordpiece", "char", "bpe"):
            raise ValueError(f"unknown --tokenizer={self.tokenizer!r}")
        if self.tokenizer == "bpe" and not (self.vocab_file and self.merges_file):
            raise ValueError("--tokenizer=bpe needs --vocab_file (GPT-2 vocab.json) and "
                             "--merges_file (merges.txt)")
        for flag in ("vocab_file", "merges_file"):
            path = getattr(self, flag)
            if path and "://" not in path and not os.path.isfile(path):
                raise ValueError(f"--{flag} {path!r} does not exist")
        if self.tokenizer == "wordpiece" and not self.vocab_file:
            raise ValueError("--vocab_file is required (a WordPiece vocab.txt)")

    def output_paths(self):
        if self.output_file:
            return [p.strip() for p in self.output_file.split(",") if p.strip()]
        return shards.shard_paths(self.output_dir, self.model, self.num_shards or 1)

    def bert_options(self):
        names = [f.name for f in dataclasses.fields(BertOptions)]
        return BertOptions(**{name: getattr(self, name) for name in names})


def _char_vocab_file(config, files, paths):
    """The given character vocab, or one learned from the input, saved beside the output."""
    from tfrecords import encoders
    if config.vocab_file:
        return config.vocab_file
    counts = {}
    for block in corpus.iter_blocks(files, config.block_bytes, config.input_format):
        report.add_stats(counts, encoders.count_code_points(
            ["\n".join(doc) for doc in block.documents]))
    folder = config.output_dir or os.path.dirname(paths[0]) or "."
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "vocab.json")
    encoders.CharEncoder.learn(counts).save(path)
    return path


def _gpt_maker(config, files, paths):
    from tfrecords import gpt_records
    vocab_file = (_char_vocab_file(config, files, paths) if config.tokenizer == "char"
                  else config.vocab_file)
    return gpt_records.GptTokenMaker(gpt_records.EncoderFactory(
        config.tokenizer, vocab_file, config.do_lower_case, config.eot_token,
        config.merges_file))


def _write(config, mapper, blocks, writer, progress, totals):
    """Feeds the mapper's results to the shard writer; GPT windows are cut here."""
    windower = None
    if config.model == "gpt":
        from tfrecords import gpt_records
        windower = gpt_records.GptWindower(config.max_seq_length, config.random_seed,
                                           config.dupe_factor)
    for result in mapper.map(blocks):
        if windower is None:
            blob, lengths, stats = result.blob, result.lengths, result.stats
        else:
            blob, lengths, stats = windower.push(result)
        writer.write(blob, lengths)
        progress.update(report.add_stats(totals, stats))
    if windower is not None:
        totals["tail_tokens"] = windower.tail_tokens


def write_pretraining_data(config, progress=None):
    """Writes the records of `config`; returns the summary (see `report.summarize`).

    Raises ValueError for bad options, `corpus.InputError` for bad input (the
    partial outputs are deleted; earlier complete files are untouched).
    """
    config.validate()
    start = time.monotonic()
    progress = progress or report.Progress(None, enabled=False)
    paths = config.output_paths()
    files = corpus.expand_input_patterns(config.input_file)
    if config.model == "bert":
        maker = BertRecordMaker(config.bert_options())
    else:
        maker = _gpt_maker(config, files, paths)
    totals = {}
    with pipeline.BlockMapper(maker, config.num_workers) as mapper:
        with shards.ShardWriter(paths) as writer:
            blocks = corpus.iter_blocks(files, config.block_bytes, config.input_format)
            _write(config, mapper, blocks, writer, progress, totals)
    if config.model == "gpt" and config.tokenizer == "char":
        totals["vocab_file"] = maker.factory.vocab_file
    progress.finish(totals)
    return report.summarize(totals, writer.counts, paths, time.monotonic() - start)
