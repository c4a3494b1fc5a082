r"""Instance count and random-next fraction over many seeds: Google's packing and ours.

Google's figures at one seed swing by +-2 points on a corpus of few long
documents (the short target length is drawn once per document). This compares
the two algorithms' distributions instead of one draw each: the corpus is
tokenized once (our WordPiece; its ids equal Google's `FullTokenizer`'s on
this input), then, for each seed,

* Google: its own `create_instances_from_document` (imported from the patched
  copy, see bench/tfrecords_common.py), over its shuffled document list, as
  its `create_training_instances` calls it. Its masking draws from the same
  generator; by default the masking is skipped (`--google_masking` keeps it,
  which reproduces the script's exact per-seed figures but is ~10x slower):
  which draws the masking takes moves later draws, not their distribution.
* ours: `tfrecords.packing.pack_documents` per block, as the writer runs it.

    python bench/tfrecords_nsp_seeds.py --google_dir=/tmp/google_bert \
        --seeds=0:1000 [--input_file=... --dupe_factor=3 --google_masking]

No absl flags here: Google's module defines its own on the global FLAGS.
"""

import argparse
import os
import random
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfrecords_common as common  # noqa: E402

sys.path.insert(0, common.REPO_ROOT)
from tfrecords import corpus, packing  # noqa: E402
from tfrecords.bert_records import block_generators, sentence_layout  # noqa: E402
from tfrecords.encoders import WordPieceEncoder  # noqa: E402

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--google_dir", default=None)
    parser.add_argument("--input_file", default=common.WIKITEXT_TEST)
    parser.add_argument("--vocab_file", default=common.MINILM_VOCAB)
    parser.add_argument("--dupe_factor", type=int, default=3)
    parser.add_argument("--block_bytes", type=int, default=1 << 20)
    parser.add_argument("--seeds", default="0:200", help="first:end")
    parser.add_argument("--google_masking", action="store_true")
    parser.add_argument("--sides", default="google,ours")
    args = parser.parse_args()
    first, end = map(int, args.seeds.split(":"))
    blocks = _tokenized_blocks(args.input_file, args.vocab_file, args.block_bytes)
    results = {}
    if "google" in args.sides:
        script = common.google_script(args.google_dir)
        sys.path.insert(0, os.path.dirname(script))
        import create_pretraining_data as google  # noqa: E402 (the patched copy)
        google.FLAGS(["google"])  # Parsed defaults: do_whole_word_mask=False.
        if not args.google_masking:
            google.create_masked_lm_predictions = lambda tokens, *unused: (tokens, [], [])
        documents = _google_documents(blocks)
        results["google"] = [_google(google, documents, s, args.dupe_factor)
                             for s in range(first, end)]
    if "ours" in args.sides:
        results["ours"] = [_ours(blocks, s, args.dupe_factor) for s in range(first, end)]
    print(f"{args.input_file}, dupe_factor={args.dupe_factor}, seeds {first}..{end - 1}; "
          "mean +- standard error")
    print("| packing | seeds | instances | random next | real tokens per record |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        _summary(name, rows)


if __name__ == "__main__":
    main()
