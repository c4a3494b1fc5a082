r"""Writer memory: peak RSS for a 50 MB and a 500 MB input should be about equal.

Builds the inputs in a scratch folder by repeating the WikiText-2 sentence files'
documents, shuffled differently on each repetition, runs the writer on each
with `--dupe_factor=1`, reports wall time and peak RSS, and deletes inputs and
outputs.

    python -m bench writer_memory [--sizes_mb=50,500 --num_workers=1]
"""

import os
import shutil
import sys
import tempfile

from absl import flags

from bench import paths
from bench.data import common

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes_mb", ["50", "500"], "Input sizes in MB.")
flags.DEFINE_integer("num_workers", 1, "Writer processes.")
flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (default: all-MiniLM-L6-v2's).")
_MB = 1e6


def main(argv):
    del argv
    work_dir = tempfile.mkdtemp(prefix="writer_memory-")
    vocab_file = paths.minilm_vocab(FLAGS.vocab_file)
    rows = []
    try:
        for size in map(int, FLAGS.sizes_mb):
            text = os.path.join(work_dir, f"input_{size}mb.txt")
            num_bytes = common.build_repeated_corpus(text, size)
            out = os.path.join(work_dir, "out")
            seconds, rss, stdout, _ = common.run_timed(
                [sys.executable, "-m", "tfrecords.create_pretraining_data",
                 f"--input_file={text}", f"--output_dir={out}", "--num_shards=4",
                 f"--vocab_file={vocab_file}", "--dupe_factor=1",
                 f"--num_workers={FLAGS.num_workers}", "--progress=false"])
            records = stdout.split("Wrote ")[1].split(" records")[0]
            rows.append((size, num_bytes, records, seconds, rss))
            print(f"{num_bytes / _MB:,.0f} MB: {records} records in {seconds:.1f} s, "
                  f"peak RSS {rss:,.0f} MB", flush=True)
            os.remove(text)
            shutil.rmtree(out)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print("\n| input MB | records | wall s | MB/s | peak RSS MB |\n|---|---|---|---|---|")
    for size, num_bytes, records, seconds, rss in rows:
        print(f"| {num_bytes / _MB:,.0f} | {records} | {seconds:.1f} | "
              f"{num_bytes / _MB / seconds:.2f} | {rss:,.0f} |")
    if len(rows) > 1:
        print(f"\npeak RSS ratio {rows[-1][0]} MB / {rows[0][0]} MB: "
              f"{rows[-1][4] / rows[0][4]:.2f}")


if __name__ == "__main__":
    from absl import app
    app.run(main)
