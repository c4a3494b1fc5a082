r"""Statistics of BERT pretraining shards, ours or Google's.

Parses with the feature spec of Google's `run_pretraining.py`
(`name_to_features`: FixedLenFeature int64 / float32) and reports, over real
tokens (`[CLS]`, `[SEP]` and padding excluded):

* masked fraction: predictions / real tokens;
* the 80/10/10 split: a prediction whose input is `[MASK]`, the original
  token (kept), or anything else (random);
* next-sentence balance: the fraction of records labelled random next.

    python -m bench record_stats --vocab_file=vocab.txt 'records/*.tfrecord' \
        [--max_seq_length=128 --max_predictions_per_seq=20] [--json=stats.json]

`shard_statistics` is also what `python -m bench records_vs_google` reports.
"""

import json

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

FLAGS = flags.FLAGS
# [CLS] A [SEP] B [SEP]: every record has exactly three special tokens.
SPECIAL_TOKENS_PER_RECORD = 3
_BATCH = 4096


def google_name_to_features(max_seq_length, max_predictions_per_seq):
    """The parsing spec of google-research/bert run_pretraining.py, restated."""
    seq, pred = [max_seq_length], [max_predictions_per_seq]
    return {
        "input_ids": tf.io.FixedLenFeature(seq, tf.int64),
        "input_mask": tf.io.FixedLenFeature(seq, tf.int64),
        "segment_ids": tf.io.FixedLenFeature(seq, tf.int64),
        "masked_lm_positions": tf.io.FixedLenFeature(pred, tf.int64),
        "masked_lm_ids": tf.io.FixedLenFeature(pred, tf.int64),
        "masked_lm_weights": tf.io.FixedLenFeature(pred, tf.float32),
        "next_sentence_labels": tf.io.FixedLenFeature([1], tf.int64),
    }


def shard_statistics(files, mask_id, max_seq_length=128, max_predictions_per_seq=20):
    """Counts over all records of `files` -> dict of figures (see module doc)."""
    spec = google_name_to_features(max_seq_length, max_predictions_per_seq)
    counts = dict(records=0, real=0, masked=0, as_mask=0, kept=0, random_next=0,
                  full_length=0)
    for batch in tf.data.TFRecordDataset(files).batch(_BATCH):
        parsed = {k: v.numpy() for k, v in tf.io.parse_example(batch, spec).items()}
        weights = parsed["masked_lm_weights"] > 0
        inputs = np.take_along_axis(parsed["input_ids"], parsed["masked_lm_positions"], 1)
        lengths = parsed["input_mask"].sum(axis=1)
        counts["records"] += len(lengths)
        counts["real"] += int((lengths - SPECIAL_TOKENS_PER_RECORD).sum())
        counts["masked"] += int(weights.sum())
        counts["as_mask"] += int((weights & (inputs == mask_id)).sum())
        counts["kept"] += int((weights & (inputs == parsed["masked_lm_ids"])).sum())
        counts["random_next"] += int(parsed["next_sentence_labels"].sum())
        counts["full_length"] += int((lengths == max_seq_length).sum())
    masked = max(counts["masked"], 1)
    return dict(counts,
                masked_fraction=counts["masked"] / max(counts["real"], 1),
                mask_share=counts["as_mask"] / masked,
                kept_share=counts["kept"] / masked,
                random_share=(masked - counts["as_mask"] - counts["kept"]) / masked,
                random_next_fraction=counts["random_next"] / max(counts["records"], 1),
                mean_real_tokens=counts["real"] / max(counts["records"], 1))


def format_statistics(stats):
    return (f"{stats['records']:,} records, {stats['mean_real_tokens']:.1f} real tokens "
            f"each; masked {stats['masked_fraction']:.2%} of real tokens; "
            f"[MASK] {stats['mask_share']:.1%} / kept {stats['kept_share']:.1%} / "
            f"random {stats['random_share']:.1%}; random next "
            f"{stats['random_next_fraction']:.1%}")


def main(argv):
    if len(argv) < 2 or not FLAGS.vocab_file:
        raise app.UsageError("usage: python -m bench record_stats --vocab_file=V PATTERN...")
    files = sorted(f for pattern in argv[1:] for f in tf.io.gfile.glob(pattern))
    if not files:
        raise app.UsageError(f"no files match {argv[1:]}")
    with open(FLAGS.vocab_file, encoding="utf-8") as f:
        mask_id = [line.rstrip("\n") for line in f].index("[MASK]")
    stats = shard_statistics(files, mask_id, FLAGS.max_seq_length,
                             FLAGS.max_predictions_per_seq)
    print(format_statistics(stats))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(stats, f, indent=1)


def define_flags():
    """The command's flags; not defined on import (records_vs_google imports this module)."""
    flags.DEFINE_string("vocab_file", None, "vocab.txt, for the [MASK] id.")
    flags.DEFINE_integer("max_seq_length", 128, "Record length.")
    flags.DEFINE_integer("max_predictions_per_seq", 20, "Prediction slots per record.")
    flags.DEFINE_string("json", None, "Also write the statistics here.")


if __name__ == "__main__":
    define_flags()
    app.run(main)
