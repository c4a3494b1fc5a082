r"""Translation data on Multi30k de-en: SentencePiece training, records, token batches.

Reports: SentencePiece training time on all of train (both sides, joint),
ids per sentence per side, Python `encode` == in-graph `tokenize` on val,
lossless decoding (lines whose decode(encode(x)) == x), records writing time,
and batches per epoch with their padding at a token budget.

    python -m bench.data.translation_data [--data_dir=../shared/data] \
        [--vocab_size=8000 --max_tokens=4096 --output_dir=/tmp/translation_data]
"""

import itertools
import json
import os
import time

from absl import app
from absl import flags

from bench import paths

FLAGS = flags.FLAGS
paths.define_data_dir()
flags.DEFINE_integer("vocab_size", 8000, "SentencePiece pieces.")
flags.DEFINE_string("model_type", "unigram", "SentencePiece model type.")
flags.DEFINE_integer("max_tokens", 4096, "token budget of a batch.")
flags.DEFINE_integer("max_length", 256, "longest pair kept (ids, eos included).")
flags.DEFINE_string("output_dir", "/tmp/translation_data", "model and records go here.")


def main(argv):
    del argv
    import tensorflow as tf

    from tfseq2seq.tokenization import SentencePieceTokenizer
    from tftasks.translation.batching import token_batches
    from tftasks.translation.corpus import read_parallel, split_pairs
    from tftasks.translation.records import format_summary, read_pairs, write_records
    from tftasks.translation.vocab import train_sentencepiece

    folder = os.path.join(FLAGS.data_dir, "multi30k")
    report = {}
    start = time.monotonic()
    train = read_parallel(os.path.join(folder, "train.de.gz"), os.path.join(folder, "train.en.gz"))
    val = read_parallel(os.path.join(folder, "val.de"), os.path.join(folder, "val.en"))
    report["read_seconds"] = round(time.monotonic() - start, 2)
    sources, targets = split_pairs(train)

    start = time.monotonic()
    model_file = train_sentencepiece(itertools.chain(sources, targets),
                                     os.path.join(FLAGS.output_dir, "spm.model"),
                                     vocab_size=FLAGS.vocab_size, model_type=FLAGS.model_type)
    report["sentencepiece_seconds"] = round(time.monotonic() - start, 2)
    tokenizer = SentencePieceTokenizer(model_file)
    for side, texts in (("de", sources), ("en", targets)):
        ids = [tokenizer.encode(t) for t in texts]
        report[f"train_{side}_ids_per_sentence"] = round(sum(map(len, ids)) / len(ids), 2)
        report[f"train_{side}_max_ids"] = max(map(len, ids))
        report[f"train_{side}_lossless_lines"] = sum(
            tokenizer.decode(i) == t for i, t in zip(ids, texts))
        report[f"train_{side}_unk_ids"] = sum(i.count(tokenizer.unk_id) for i in ids)
    val_texts = [t for pair in val for t in pair]
    graph = tokenizer.tokenize(tf.constant(val_texts)).to_list()
    report["val_graph_equals_python"] = graph == [tokenizer.encode(t) for t in val_texts]

    start = time.monotonic()
    summary = write_records(train, os.path.join(FLAGS.output_dir, "records"), tokenizer.encode,
                            num_shards=4, max_source_length=FLAGS.max_length,
                            max_target_length=FLAGS.max_length)
    report["records_seconds"] = round(time.monotonic() - start, 2)
    print(format_summary(summary))

    start = time.monotonic()
    batches = token_batches(read_pairs(os.path.join(FLAGS.output_dir, "records", "train-*")),
                            max_tokens=FLAGS.max_tokens, max_length=FLAGS.max_length,
                            shuffle_buffer=10_000, seed=1)
    count = real = padded = pairs = 0
    for batch in batches.as_numpy_iterator():
        count += 1
        pairs += batch["source_ids"].shape[0]
        real += int((batch["source_ids"] != 0).sum() + (batch["target_ids"] != 0).sum())
        padded += batch["source_ids"].size + batch["target_ids"].size
    report.update({"batches_per_epoch": count, "pairs_per_epoch": pairs,
                   "mean_pairs_per_batch": round(pairs / count, 1),
                   "real_id_fraction": round(real / padded, 3),
                   "batching_epoch_seconds": round(time.monotonic() - start, 2)})
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    app.run(main)
