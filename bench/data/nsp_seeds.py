r"""Instance count and random-next fraction over many seeds: Google's packing and ours.

Google's figures at one seed swing by +-2 points on a corpus of few long
documents (the short target length is drawn once per document). This compares
the two algorithms' distributions instead of one draw each: the corpus is
tokenized once (our WordPiece; its ids equal Google's `FullTokenizer`'s on
this input), then, for each seed,

* Google: its own `create_instances_from_document` (imported from the patched
  copy, see bench/data/common.py), over its shuffled document list, as
  its `create_training_instances` calls it. Its masking draws from the same
  generator; by default the masking is skipped (`--google_masking` keeps it,
  which reproduces the script's exact per-seed figures but is ~10x slower):
  which draws the masking takes moves later draws, not their distribution.
* ours: `tfrecords.packing.pack_documents` per block, as the writer runs it.

    python -m bench nsp_seeds --google_dir=/tmp/google_bert \
        --seeds=0:1000 [--input_file=... --dupe_factor=3 --google_masking]

Google's module defines flags of the same names as ours (`--input_file`,
`--vocab_file`, `--dupe_factor`) on absl's global FLAGS when it is imported:
ours allow the override and are read before.
"""

import importlib.util
import os
import random
import statistics
import sys

from absl import flags
import numpy as np

from bench.data import common
from tfrecords import corpus, packing
from tfrecords.bert_records import block_generators, sentence_layout
from tfrecords.encoders import WordPieceEncoder

FLAGS = flags.FLAGS
common.define_corpus_flags(google=True, allow_override=True)
flags.DEFINE_integer("block_bytes", 1 << 20, "Our writer's block size.")
flags.DEFINE_string("seeds", "0:200", "Seeds first:end.")
flags.DEFINE_bool("google_masking", False, "Keep Google's masking draws (~10x slower).")
flags.DEFINE_list("sides", ["google", "ours"], "Packers to run.")
MAX_SEQ_LENGTH, SHORT_SEQ_PROB = 128, 0.1  # Google's defaults.


def _tokenized_blocks(input_file, vocab_file, block_bytes):
    """-> [(block, flat ids, tokens per sentence)] as our writer makes them."""
    encoder = WordPieceEncoder(vocab_file)
    out = []
    for block in corpus.iter_blocks(corpus.expand_input_patterns(input_file), block_bytes):
        flat, lengths = encoder.encode([s for doc in block.documents for s in doc])
        out.append((block, flat, lengths))
    return out


def _ours(blocks, seed, dupe_factor):
    count = random_next = tokens = 0
    for block, _, lengths in blocks:
        docs, starts, _ = sentence_layout(block.documents, lengths)
        rng, _ = block_generators(seed, block.index)
        spans = packing.pack_documents(docs, starts, MAX_SEQ_LENGTH, SHORT_SEQ_PROB, rng,
                                       dupe_factor)
        count += len(spans)
        random_next += int(spans[:, 4].sum())
        tokens += int(spans[:, 1].sum() + spans[:, 3].sum())
    return count, random_next, tokens


def _google_documents(blocks):
    """Google's all_documents: token lists per sentence, empty ones dropped."""
    documents = []
    for block, flat, lengths in blocks:
        pieces = np.split(flat, np.cumsum(lengths)[:-1])
        k = 0
        for doc in block.documents:
            sentences = [p.tolist() for p in pieces[k:k + len(doc)] if len(p)]
            k += len(doc)
            if sentences:
                documents.append(sentences)
    return documents


def _google(module, documents, seed, dupe_factor):
    rng = random.Random(seed)
    documents = list(documents)
    rng.shuffle(documents)
    vocab_words = [str(i) for i in range(30522)]
    instances = []
    for _ in range(dupe_factor):
        for index in range(len(documents)):
            instances.extend(module.create_instances_from_document(
                documents, index, MAX_SEQ_LENGTH, SHORT_SEQ_PROB, 0.15, 20, vocab_words, rng))
    return (len(instances), sum(i.is_random_next for i in instances),
            sum(len(i.tokens) - 3 for i in instances))


def _sd(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _summary(name, rows):
    counts = [r[0] for r in rows]
    fractions = [r[1] / r[0] for r in rows]
    tokens = [r[2] / r[0] for r in rows]
    n = len(rows)
    print(f"| {name} | {n} | {statistics.mean(counts):,.0f} +- "
          f"{_sd(counts) / n ** 0.5:.0f} (sd {_sd(counts):.0f}) | "
          f"{statistics.mean(fractions):.2%} +- {_sd(fractions) / n ** 0.5:.2%} "
          f"(sd {_sd(fractions):.2%}, {min(fractions):.1%}..{max(fractions):.1%}) "
          f"| {statistics.mean(tokens):.1f} |")


def load_google(script):
    """Google's `create_pretraining_data` module (and its `tokenization`), loaded from files."""
    module = None
    for name in ("tokenization", "create_pretraining_data"):
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(os.path.dirname(script), name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # Google's script imports its tokenization by this name
        spec.loader.exec_module(module)
    return module


def main(argv):
    del argv
    first, end = map(int, FLAGS.seeds.split(":"))
    input_file, dupe_factor = common.corpus_file(), FLAGS.dupe_factor
    blocks = _tokenized_blocks(input_file, common.vocab_file(), FLAGS.block_bytes)
    results = {}
    if "google" in FLAGS.sides:
        google = load_google(common.google_script(FLAGS.google_dir))
        google.FLAGS(["google"])  # Parsed defaults: do_whole_word_mask=False.
        if not FLAGS.google_masking:
            google.create_masked_lm_predictions = lambda tokens, *unused: (tokens, [], [])
        documents = _google_documents(blocks)
        results["google"] = [_google(google, documents, s, dupe_factor)
                             for s in range(first, end)]
    if "ours" in FLAGS.sides:
        results["ours"] = [_ours(blocks, s, dupe_factor) for s in range(first, end)]
    print(f"{input_file}, dupe_factor={dupe_factor}, seeds {first}..{end - 1}; "
          "mean +- standard error")
    print("| packing | seeds | instances | random next | real tokens per record |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        _summary(name, rows)


if __name__ == "__main__":
    from absl import app
    app.run(main)
