r"""Learns a WordPiece `vocab.txt` (Google's format) from a text corpus.

    python -m tfrecords.build_vocab --input_file='corpus/*.txt' \
        --output_file=vocab.txt --vocab_size=30522 [--layout=google]

Words come from `tfbert.tokenization.BertTokenizer.basic_tokenize` (the
splitting, cleaning and casing that will be applied before WordPiece), counted
block by block so the corpus is streamed; the pieces are learned by
tensorflow-text's WordPiece learner
(`tensorflow_text.tools.wordpiece_vocab.wordpiece_tokenizer_learner_lib.learn`,
bottom-up with a count threshold found by binary search).

Layouts of the special tokens (one token a line, id = line number):
* `compact` (default): `[PAD] [UNK] [CLS] [SEP] [MASK]` are ids 0-4, then
  `--num_unused` `[unusedN]` entries, then single characters, then the
  learned pieces by count.
* `google`: as Google's released vocabularies (BERT-base uncased):
  `[PAD]`=0, `[unused0]`..`[unused98]`, `[UNK]`=100, `[CLS]`=101, `[SEP]`=102,
  `[MASK]`=103, then `[unused99]`.. up to `--num_unused` (default 994 here).
Either file works with `BertTokenizer`, which looks the special tokens up by name.

From Python (what the command line runs):

    from tfrecords.build_vocab import build_vocab
    summary = build_vocab("corpus/*.txt", "vocab.txt", vocab_size=4000)
    summary["tokens"], summary["words"], summary["files"]
"""

import collections
import os
import tempfile

from absl import app
from absl import flags
import numpy as np

from tfrecords import corpus

FLAGS = flags.FLAGS


def define_flags():
    """CLI flags, defined only when run as a script (the module is also a library)."""
    flags.DEFINE_string("input_file", None, "Input text: comma-separated globs.")
    flags.DEFINE_string("output_file", None, "The vocab.txt to write.")
    flags.DEFINE_integer("vocab_size", 30522, "Largest vocabulary size (BERT-base: 30522).")
    flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents first.")
    flags.DEFINE_enum("layout", "compact", ["compact", "google"], "Special-token layout.")
    flags.DEFINE_integer("num_unused", None, "[unusedN] entries (compact: 0, google: 994).")
    flags.DEFINE_integer("max_unique_chars", 1000, "Alphabet size limit (the learner's).")
    flags.DEFINE_integer("block_bytes", 1 << 22, "Text counted per step.")

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Google's released vocabularies: [UNK] at id 100, after [PAD] and 99 unused.
GOOGLE_UNUSED_BEFORE_UNK = 99
GOOGLE_NUM_UNUSED = 994


def reserved_tokens(layout, num_unused=None):
    """The special and `[unusedN]` tokens that open the vocabulary, in order."""
    if layout == "compact":
        return list(SPECIAL_TOKENS) + [f"[unused{i}]" for i in range(num_unused or 0)]
    num_unused = GOOGLE_NUM_UNUSED if num_unused is None else num_unused
    if num_unused < GOOGLE_UNUSED_BEFORE_UNK:
        raise ValueError(f"the google layout needs --num_unused >= {GOOGLE_UNUSED_BEFORE_UNK}")
    unused = [f"[unused{i}]" for i in range(num_unused)]
    return (["[PAD]"] + unused[:GOOGLE_UNUSED_BEFORE_UNK] + ["[UNK]", "[CLS]", "[SEP]",
            "[MASK]"] + unused[GOOGLE_UNUSED_BEFORE_UNK:])


def _basic_tokenizer(do_lower_case):
    """A `BertTokenizer` for its `basic_tokenize` (it needs some vocab file to exist)."""
    from tfbert.tokenization import BertTokenizer
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(SPECIAL_TOKENS) + "\n")
        return BertTokenizer(path, do_lower_case=do_lower_case)


def count_words(files, do_lower_case=True, block_bytes=1 << 22):
    """{word: count} over the corpus, streamed block by block."""
    tokenizer = _basic_tokenizer(do_lower_case)
    counts = collections.Counter()
    for block in corpus.iter_blocks(files, block_bytes):
        lines = [line for doc in block.documents for line in doc]
        words = tokenizer.basic_tokenize(lines).flat_values.numpy()
        values, numbers = np.unique(words, return_counts=True)
        counts.update(dict(zip(values.tolist(), numbers.tolist())))
    return {word.decode("utf-8"): count for word, count in counts.items()}


def learn_vocab(word_counts, vocab_size, reserved, max_unique_chars=1000):
    """Word counts -> vocabulary list (reserved tokens first)."""
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as lib
    if vocab_size <= len(reserved):
        raise ValueError(f"--vocab_size={vocab_size} leaves no room after "
                         f"{len(reserved)} reserved tokens")
    return lib.learn(word_counts, vocab_size, reserved, max_unique_chars=max_unique_chars)


def build_vocab(input_file, output_file, vocab_size=30522, do_lower_case=True,
                layout="compact", num_unused=None, max_unique_chars=1000, block_bytes=1 << 22):
    """Learns a vocabulary from `input_file` (comma-separated globs) into `output_file`.

    The file is written atomically (complete or absent). Raises
    `corpus.InputError` for unreadable input and ValueError for bad options.
    Returns `{"tokens", "words", "distinct_words", "files"}` (counts).
    """
    from tfcore.io import write_text_atomically
    reserved = reserved_tokens(layout, num_unused)
    files = corpus.expand_input_patterns(input_file)
    word_counts = count_words(files, do_lower_case, block_bytes)
    vocab = learn_vocab(word_counts, vocab_size, reserved, max_unique_chars)
    write_text_atomically(output_file, "\n".join(vocab) + "\n")
    return {"tokens": len(vocab), "words": sum(word_counts.values()),
            "distinct_words": len(word_counts), "files": len(files)}


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not FLAGS.input_file or not FLAGS.output_file:
        raise app.UsageError("--input_file and --output_file are required")
    try:
        summary = build_vocab(FLAGS.input_file, FLAGS.output_file, FLAGS.vocab_size,
                              FLAGS.do_lower_case, FLAGS.layout, FLAGS.num_unused,
                              FLAGS.max_unique_chars, FLAGS.block_bytes)
    except (corpus.InputError, ValueError) as e:
        raise SystemExit(f"build_vocab: error: {e}")
    print(f"Wrote {summary['tokens']:,} tokens to {FLAGS.output_file} from "
          f"{summary['words']:,} words ({summary['distinct_words']:,} distinct) "
          f"in {summary['files']} file(s)")


if __name__ == "__main__":
    from tfcore.cli import run_main
    define_flags()
    run_main(main)
