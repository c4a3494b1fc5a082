r"""Learns a WordPiece `vocab.txt` (Google's format) from a text corpus.

    python -m tfrecords.build_vocab --input_file='corpus/*.txt' \
        --output_file=vocab.txt --vocab_size=30522 [--layout=google]

Words come from `tfcore.text.basic_tokenize` (the splitting, cleaning and
casing that `tfbert.BertTokenizer` applies before WordPiece, in Python), counted
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

from absl import app
from absl import flags

from tfcore.text.vocab import SPECIAL_TOKENS
from tfcore.text.wordpiece import basic_tokenize
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


def count_words(files, do_lower_case=True, block_bytes=1 << 22):
    """{word: count} over the corpus, streamed block by block."""
    counts = collections.Counter()
    for block in corpus.iter_blocks(files, block_bytes):
        block_counts = collections.Counter(
            word for doc in block.documents for line in doc
            for word in basic_tokenize(line, do_lower_case))
        # New words enter in code point (= UTF-8 byte) order, block by block: the
        # learner breaks ties by this order, so the vocab stays as it always was.
        counts.update({word: block_counts[word] for word in sorted(block_counts)})
    return dict(counts)


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
