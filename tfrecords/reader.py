"""TFRecord shards -> `tf.data` pipelines for BERT and GPT pretraining.

Files -> per-worker file sharding (`tf.distribute.InputContext`) -> file
shuffle and repeat (training) -> parallel interleave of the files' records,
each file checked for corruption -> record shuffle -> batch (training drops
the remainder, so shapes are static) -> parse a whole batch at once ->
optional dynamic masking -> prefetch.

Corrupt or truncated files: TensorFlow's reader raises a DataLossError that
does not name the file. Here each file's records are counted in bytes as they
are read; a file that ends early fails with an `InvalidArgumentError` naming it
("corrupt or truncated TFRecord file <name>: read N of M bytes").
`skip_corrupt=True` instead keeps the records before the damage, prints a
warning naming the file with the count of records kept and bytes lost, and
goes on. A record of another schema (a GPT record among BERT ones, a missing
feature, another `max_seq_length`) is an `InvalidArgumentError` naming the
file and the record ("Name: <file>, record <i>, Feature: ..."), with or
without `skip_corrupt`: it means the wrong files, not a damaged one. Unfinished
`.partial` outputs of the writer are never read.

Example:

    ds = bert_pretraining_dataset("records/bert-*.tfrecord", batch_size=256,
                                  max_seq_length=128, max_predictions_per_seq=20)
    batch = next(iter(ds))   # input_ids [256, 128] int32, ..., next_sentence_labels [256, 1]
"""

import sys

from absl import logging
import tensorflow as tf

from tfrecords import features
from tfrecords.dynamic_masking import DynamicMasker
from tfrecords.shards import PARTIAL_SUFFIX

# TFRecord framing around each record: 8-byte length, 4-byte length CRC,
# 4-byte data CRC (tensorflow/core/lib/io/record_writer.h).
TFRECORD_FRAMING_BYTES = 16
# Files read at once by the interleave; Google's run_pretraining.py uses up to
# the number of CPU threads, which on small machines is about this.
DEFAULT_CYCLE_LENGTH = 8
# Records in the shuffle buffer (~600 bytes each at seq 128: about 6 MB).
DEFAULT_SHUFFLE_BUFFER = 10_000
# Records per step of the per-file corruption check (amortizes its cost).
_CHECK_BATCH = 256


def list_files(file_pattern):
    """Comma-separated globs (or a list of them) -> sorted files; `.partial` ones skipped."""
    patterns = file_pattern.split(",") if isinstance(file_pattern, str) else list(file_pattern)
    files = []
    for pattern in (p.strip() for p in patterns if p.strip()):
        matches = sorted(tf.io.gfile.glob(pattern))
        partial = [m for m in matches if m.endswith(PARTIAL_SUFFIX)]
        if partial:
            logging.warning("skipping %d unfinished file(s) matching %r, e.g. %s",
                            len(partial), pattern, partial[0])
        files += [m for m in matches if not m.endswith(PARTIAL_SUFFIX)]
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {file_pattern!r}")
    return files


def _checked_records(filename, size, skip_corrupt, with_names=False):
    """Records of one file; a short read fails (or warns) naming the file.

    Bytes are counted per batch of records (per-record bookkeeping would cost
    more than parsing); a sentinel batch after the last one runs the check.
    `with_names`: elements are `(record, "<file>, record <i>")`, the name
    parse errors report.
    """
    records = tf.data.TFRecordDataset(filename).ignore_errors().batch(_CHECK_BATCH)
    end = tf.data.Dataset.from_tensors((tf.zeros([0], tf.string), tf.constant(True)))
    marked = records.map(lambda r: (r, tf.constant(False))).concatenate(end)

    def count(state, element):
        batch, is_end = element
        total, kept = state
        short = is_end & tf.not_equal(total, size)
        if skip_corrupt:
            report = lambda: tf.print(  # noqa: E731
                "WARNING: skipping the rest of corrupt or truncated TFRecord file", filename,
                "- kept", kept, "records, lost", size - total, "of", size, "bytes",
                output_stream=sys.stderr)
        else:
            report = lambda: tf.debugging.Assert(False, [tf.strings.join([  # noqa: E731
                "corrupt or truncated TFRecord file ", filename, ": read ",
                tf.strings.as_string(total), " of ", tf.strings.as_string(size),
                " bytes (pass skip_corrupt=True to skip the rest of a damaged file)"])])
        check = tf.cond(short, lambda: _as_op(report()), tf.no_op)
        with tf.control_dependencies([check]):
            lengths = tf.cast(tf.strings.length(batch), tf.int64) + TFRECORD_FRAMING_BYTES
            new_state = (total + tf.reduce_sum(lengths), kept + tf.size(batch, tf.int64))
        if not with_names:
            return new_state, (batch, is_end)
        names = tf.strings.join([filename, ", record ", tf.strings.as_string(
            kept + tf.range(tf.size(batch, tf.int64)))])
        return new_state, (batch, names, is_end)

    zero = tf.constant(0, tf.int64)
    scanned = marked.scan((zero, zero), count).filter(lambda *element: ~element[-1])
    return scanned.map(lambda *element: element[:-1] if with_names else element[0]).unbatch()


def _as_op(value):
    return tf.group(value) if value is not None else tf.no_op()


def record_dataset(file_pattern, is_training=True, input_context=None, deterministic=False,
                   seed=None, skip_corrupt=False, cycle_length=DEFAULT_CYCLE_LENGTH,
                   with_names=False):
    """Serialized records of the files for this input pipeline (not shuffled, not batched).

    Training shuffles the files and repeats forever; evaluation reads each file
    once. `with_names`: elements are `(record, name)`, name = "<file>, record
    <i>" (for `tf.io.parse_example(..., example_names=...)`).
    """
    files = list_files(file_pattern)
    if input_context is not None and input_context.num_input_pipelines > 1:
        if len(files) < input_context.num_input_pipelines:
            raise ValueError(f"{len(files)} file(s) match {file_pattern!r} but there are "
                             f"{input_context.num_input_pipelines} input pipelines; "
                             "write at least one shard per pipeline (--num_shards)")
        files = files[input_context.input_pipeline_id::input_context.num_input_pipelines]
    sizes = [tf.io.gfile.stat(f).length for f in files]
    ds = tf.data.Dataset.from_tensor_slices((files, tf.constant(sizes, tf.int64)))
    if is_training:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat()
    return ds.interleave(
        lambda f, size: _checked_records(f, size, skip_corrupt, with_names),
        cycle_length=min(cycle_length, len(files)), block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)


def _finish(ds, batch_size, is_training, input_context, deterministic, seed, shuffle_buffer):
    """Shuffle (training), batch, and the determinism option."""
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    if is_training and shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=is_training)
    options = tf.data.Options()
    options.deterministic = deterministic
    return ds.with_options(options)


def bert_pretraining_dataset(file_pattern, batch_size, max_seq_length=128,
                             max_predictions_per_seq=20, is_training=True, input_context=None,
                             deterministic=False, seed=None, dynamic_masking=False,
                             masked_lm_prob=0.15, vocab_file=None, vocab_size=None,
                             mask_id=None, special_ids=(), skip_corrupt=False,
                             shuffle_buffer=DEFAULT_SHUFFLE_BUFFER):
    """Batches of Google's BERT pretraining features.

    Args:
      file_pattern: comma-separated globs, or a list of them.
      batch_size: the global batch; with `input_context`, each pipeline gets
        `input_context.get_per_replica_batch_size(batch_size)`.
      is_training: shuffle files and records, repeat, drop the last partial batch.
      input_context: a `tf.distribute.InputContext`: pipeline i of n reads
        files i, i + n, ... (needs at least n files).
      deterministic: fixed element order (seeded shuffles, ordered interleave).
      seed: seed of the shuffles and of dynamic masking.
      dynamic_masking: mask anew on every read (RoBERTa), for records written
        with `--masked_lm_prob=0`; see `tfrecords.dynamic_masking`. Needs
        `vocab_file`, or `vocab_size` + `mask_id` (+ `special_ids`).
      skip_corrupt: skip the rest of a damaged file with a warning instead of failing.

    Returns:
      `tf.data.Dataset` of dicts: "input_ids", "input_mask", "segment_ids"
      int32 `[batch, max_seq_length]`; "masked_lm_positions", "masked_lm_ids"
      int32 and "masked_lm_weights" float32 `[batch, max_predictions_per_seq]`;
      "next_sentence_labels" int32 `[batch, 1]`.
    """
    if dynamic_masking:
        masker = DynamicMasker.create(vocab_file, vocab_size, mask_id, special_ids,
                                      masked_lm_prob, max_predictions_per_seq)
    spec = features.feature_spec(features.bert_schema(max_seq_length, max_predictions_per_seq))
    ds = record_dataset(file_pattern, is_training, input_context, deterministic, seed,
                        skip_corrupt, with_names=True)
    ds = _finish(ds, batch_size, is_training, input_context, deterministic, seed,
                 shuffle_buffer)
    ds = ds.map(lambda records, names: _parse(records, names, spec),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if dynamic_masking:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            masker, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    return ds.prefetch(tf.data.AUTOTUNE)


def _parse(records, names, spec):
    """A batch of records -> features; errors name the file and record (`names`)."""
    parsed = tf.io.parse_example(records, spec, example_names=names)
    return {name: tf.cast(value, tf.int32) if value.dtype == tf.int64 else value
            for name, value in parsed.items()}


def gpt_dataset(file_pattern, batch_size, seq_length, is_training=True, input_context=None,
                deterministic=False, seed=None, skip_corrupt=False, split_targets=True,
                shuffle_buffer=DEFAULT_SHUFFLE_BUFFER):
    """Batches of GPT windows (`--model=gpt` records).

    Returns:
      `tf.data.Dataset` of `(input_ids, target_ids)`, int32 `[batch, seq_length]`
      each (target = input shifted by one), or with `split_targets=False`
      `{"token_ids": int32 [batch, seq_length + 1]}`. Other arguments as
      `bert_pretraining_dataset`.
    """
    spec = features.feature_spec(features.gpt_schema(seq_length))
    ds = record_dataset(file_pattern, is_training, input_context, deterministic, seed,
                        skip_corrupt, with_names=True)
    ds = _finish(ds, batch_size, is_training, input_context, deterministic, seed,
                 shuffle_buffer)

    def parse(records, names):
        tokens = _parse(records, names, spec)[features.GPT_TOKEN_IDS]
        if not split_targets:
            return {features.GPT_TOKEN_IDS: tokens}
        return tokens[:, :-1], tokens[:, 1:]

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    return ds.prefetch(tf.data.AUTOTUNE)
