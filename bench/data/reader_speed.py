r"""Reader throughput at seq 128: parse + batch, with and without dynamic masking.

Writes shards from WikiText-2 (static masks, and unmasked ones for dynamic
masking) into a scratch folder, then times `bert_pretraining_dataset` in
training mode (shuffle, repeat, batch 256), alternating the two modes and
reporting medians.

    python -m bench reader_speed [--batches=200 --repeats=3]
"""

import os
import shutil
import statistics
import tempfile
import time

from absl import flags

from bench import paths
from bench.data import common
from tfrecords import reader
from tfrecords.writer import WriterConfig, write_pretraining_data

FLAGS = flags.FLAGS
flags.DEFINE_integer("batches", 200, "Timed batches per measurement.")
flags.DEFINE_integer("batch_size", 256, "Examples per batch.")
flags.DEFINE_integer("repeats", 3, "Alternating rounds.")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (default: all-MiniLM-L6-v2's).")
WARMUP_BATCHES = 20


def _examples_per_second(ds):
    iterator = iter(ds)
    for _ in range(WARMUP_BATCHES):
        next(iterator)
    start = time.perf_counter()
    for _ in range(FLAGS.batches):
        next(iterator)
    return FLAGS.batches * FLAGS.batch_size / (time.perf_counter() - start)


def main(argv):
    del argv
    work_dir = tempfile.mkdtemp(prefix="reader_speed-")
    vocab_file = paths.minilm_vocab(FLAGS.vocab_file)
    try:
        patterns = {}
        for name, prob in (("static", 0.15), ("dynamic", 0.0)):
            folder = os.path.join(work_dir, name)
            write_pretraining_data(WriterConfig(
                input_file=common.wikitext(), vocab_file=vocab_file,
                output_dir=folder, num_shards=4, dupe_factor=3, masked_lm_prob=prob))
            patterns[name] = os.path.join(folder, "*.tfrecord")
        rates = {"static": [], "dynamic": []}
        for _ in range(FLAGS.repeats):
            for name in rates:
                ds = reader.bert_pretraining_dataset(
                    patterns[name], FLAGS.batch_size, 128, 20, dynamic_masking=name == "dynamic",
                    vocab_file=vocab_file)
                pressure = common.cpu_pressure()
                rates[name].append(_examples_per_second(ds))
                print(f"{name}: {rates[name][-1]:,.0f} examples/s (cpu pressure {pressure})",
                      flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print("\n| reader (seq 128, batch %d) | examples/s, median of %d |\n|---|---|"
          % (FLAGS.batch_size, FLAGS.repeats))
    for name, values in rates.items():
        label = "parse + batch" if name == "static" else "parse + batch + dynamic masking"
        print(f"| {label} | {statistics.median(values):,.0f} |")


if __name__ == "__main__":
    from absl import app
    app.run(main)
