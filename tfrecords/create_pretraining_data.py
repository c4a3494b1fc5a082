r"""Text -> TFRecord files for BERT (MLM + NSP) or GPT (packed token blocks).

Google's flags and defaults (google-research/bert `create_pretraining_data.py`)
and Google's record format, with a streaming, multi-process, seeded writer:

    python -m tfrecords.create_pretraining_data \
        --input_file='corpus/*.txt' --vocab_file=vocab.txt \
        --output_dir=records --num_shards=16 --num_workers=2 --dupe_factor=5

Input: one sentence per line, a blank line between documents (UTF-8); for
GPT, `--input_format=text` takes each file verbatim as one document.
Outputs: `--output_file` (comma-separated: records go to each in turn, as
Google's) or `--output_dir` with `--num_shards` files
`<model>-00000-of-000NN.tfrecord`. Files are written as `.<name>.partial` and
renamed when complete. A given `--random_seed` gives byte-identical files for
any `--num_workers`. See `tfrecords.packing` and `tfrecords.masking` for the
algorithm and where it deliberately differs from Google's;
`tfrecords.gpt_records` for GPT records.

Progress goes to stderr; a summary (records per file, masked fraction, 80/10/10
split, next-sentence balance) to stdout, and as JSON to `--summary_json`.
"""

import dataclasses
import json
import sys

from absl import app
from absl import flags

from tfrecords import corpus, report

FLAGS = flags.FLAGS
# Google's flags, Google's defaults.
flags.DEFINE_string("input_file", None, "Input text file(s): comma-separated globs.")
flags.DEFINE_string("output_file", None, "Output TFRecord file(s), comma-separated.")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (BERT; GPT --tokenizer="
                    "wordpiece) or a character vocab.json (GPT --tokenizer=char).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents (uncased vocab).")
flags.DEFINE_bool("do_whole_word_mask", False, "Mask whole words, not single pieces.")
flags.DEFINE_integer("max_seq_length", 128, "Tokens per record (GPT: targets per record).")
flags.DEFINE_integer("max_predictions_per_seq", 20, "Most masked-LM predictions a record.")
flags.DEFINE_integer("random_seed", 12345, "Seed of every random choice.")
flags.DEFINE_integer("dupe_factor", None, "Passes over the input: BERT: each with new masks "
                     "(default 10, Google's); GPT: each cut at another offset (default 1).")
flags.DEFINE_float("masked_lm_prob", 0.15, "Fraction of tokens to predict; 0 writes "
                   "unmasked records for the reader's dynamic masking.")
flags.DEFINE_float("short_seq_prob", 0.1, "Probability of a shorter random target length.")
# Ours.
flags.DEFINE_string("output_dir", None, "Write --num_shards files here (not with --output_file).")
flags.DEFINE_integer("num_shards", None, "Files under --output_dir (default 1).")
flags.DEFINE_integer("num_workers", 1, "Processes that tokenize, pack, mask and encode.")
flags.DEFINE_enum("model", "bert", ["bert", "gpt"], "Record kind.")
flags.DEFINE_enum("input_format", "sentences", ["sentences", "text"],
                  "sentences: Google's format (one sentence per line, blank lines between "
                  "documents). text (GPT): each file is one document, verbatim, newlines "
                  "included, as nanoGPT reads raw text.")
flags.DEFINE_enum("tokenizer", "wordpiece", ["wordpiece", "char", "bpe"],
                  "GPT tokenizer: WordPiece --vocab_file; characters (vocab learned from "
                  "the input and written as vocab.json beside the output unless "
                  "--vocab_file names one); GPT-2 byte-level BPE (--vocab_file=vocab.json "
                  "--merges_file=merges.txt).")
flags.DEFINE_string("merges_file", None, "GPT-2 merges.txt (--tokenizer=bpe).")
flags.DEFINE_string("eot_token", "[SEP]", "GPT with WordPiece: the token between documents.")
flags.DEFINE_integer("block_bytes", 1 << 20, "Text per block: the unit of work, the window "
                     "random-next documents come from and the shuffle buffer. Output "
                     "depends on it, not on --num_workers.")
flags.DEFINE_string("summary_json", None, "Also write the summary here as JSON.")
flags.DEFINE_bool("progress", True, "Show a progress line on stderr.")


def config_from_flags():
    """FLAGS -> `writer.WriterConfig` (same names)."""
    from tfrecords.writer import WriterConfig
    names = [f.name for f in dataclasses.fields(WriterConfig)]
    return WriterConfig(**{name: FLAGS[name].value for name in names})


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not FLAGS.input_file:
        raise app.UsageError("--input_file is required (text files: comma-separated globs).")
    from tfrecords import writer
    config = config_from_flags()
    try:
        config.validate()
    except ValueError as e:
        raise app.UsageError(str(e))
    progress = report.Progress(sys.stderr, FLAGS.progress)
    try:
        summary = writer.write_pretraining_data(config, progress)
    except (corpus.InputError, FileNotFoundError, ValueError) as e:
        sys.exit(f"create_pretraining_data: error: {e}")
    print(report.format_summary(summary))
    if FLAGS.summary_json:
        with open(FLAGS.summary_json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
