r"""Record statistics of ours against Google's script on the same input, over seeds.

For each `--random_seed`, runs Google's `create_pretraining_data.py` (patched
copy, see bench/data/common.py) and ours with the same flags, parses both
outputs with Google's feature spec and prints masked fraction, 80/10/10 split,
random-next fraction and length, then the mean and spread over the seeds.

The random-next fraction swings with the seed on a corpus of few long
documents: the short-target draw (`short_seq_prob`) is made once per document,
and a document drawn short yields many one-sentence chunks, which always get a
random next segment.

    python -m bench records_vs_google --google_dir=/tmp/google_bert \
        [--input_file=... --dupe_factor=3 --seeds=12345,1,2,3,4]
"""

import os
import shutil
import statistics
import sys
import tempfile

from absl import flags

from bench.data import common, record_stats

FLAGS = flags.FLAGS
common.define_corpus_flags(google=True)
flags.DEFINE_list("seeds", ["12345", "1", "2", "3", "4"], "Values of --random_seed.")
_FIGURES = ("records", "masked_fraction", "mask_share", "kept_share", "random_share",
            "random_next_fraction", "mean_real_tokens")


def _write(side, seed, out, script):
    args = [f"--input_file={common.corpus_file()}", f"--output_file={out}",
            f"--vocab_file={common.vocab_file()}", f"--dupe_factor={FLAGS.dupe_factor}",
            f"--random_seed={seed}"]
    if side == "google":
        common.run_timed([sys.executable, script] + args, cwd=os.path.dirname(script))
    else:
        common.run_timed([sys.executable, "-m", "tfrecords.create_pretraining_data",
                          "--progress=false"] + args)


def _row(label, stats):
    return (f"| {label} | {stats['records']:,.0f} | {stats['masked_fraction']:.2%} | "
            f"{stats['mask_share']:.1%} / {stats['kept_share']:.1%} / "
            f"{stats['random_share']:.1%} | {stats['random_next_fraction']:.1%} | "
            f"{stats['mean_real_tokens']:.1f} |")


def main(argv):
    del argv
    script = common.google_script(FLAGS.google_dir)
    with open(common.vocab_file(), encoding="utf-8") as f:
        mask_id = f.read().split("\n").index("[MASK]")
    work_dir = tempfile.mkdtemp(prefix="records_vs_google-")
    results = {"google": [], "ours": []}
    print("| writer, seed | records | masked / real tokens | [MASK] / kept / random | "
          "random next | real tokens per record |\n|---|---|---|---|---|---|")
    try:
        for seed in FLAGS.seeds:
            for side in results:
                out = os.path.join(work_dir, f"{side}.tfrecord")
                _write(side, seed, out, script)
                stats = record_stats.shard_statistics([out], mask_id)
                results[side].append(stats)
                print(_row(f"{side}, {seed}", stats), flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    for side, runs in results.items():
        mean = {k: statistics.mean(r[k] for r in runs) for k in _FIGURES}
        print(_row(f"{side}, mean of {len(runs)}", mean))
    for side, runs in results.items():
        values = [r["random_next_fraction"] for r in runs]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{side}: random next {min(values):.1%} .. {max(values):.1%}, "
              f"sd {spread:.1%} over seeds {','.join(FLAGS.seeds)}")


if __name__ == "__main__":
    from absl import app
    app.run(main)
