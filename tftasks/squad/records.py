"""Training features cached as TFRecords with Google's feature names, and read back.

`output_dir/train.tf_record` holds one `tf.train.Example` per feature, as
Google's run_squad.py `FeatureWriter` writes it: `unique_ids`, `input_ids`,
`input_mask`, `segment_ids` (int64 `[max_seq_length]`, zero-padded),
`start_positions`, `end_positions`, `is_impossible`. Google's files and ours
read alike. `train.tf_record.json` beside it records what the file was made
from (the train file's size and time, the vocabulary, casing, lengths,
`max_train_rows`); a later run with the same settings reuses the file
instead of featurizing again. The file is written under a temporary name
and renamed: a killed run never leaves a partial cache.

Example:

    count = write_records(features, "out/train.tf_record", max_seq_length=384)
    dataset = read_records("out/train.tf_record", 384, batch_size=32, is_training=True)
"""

import json
import os

import tensorflow as tf

from tfcore.io import write_json_atomically
from tftasks.common.batches import trim_padding
from tftasks.squad.features import FIRST_UNIQUE_ID

TRAIN_RECORDS = "train.tf_record"
SEQUENCE_FEATURES = ("input_ids", "input_mask", "segment_ids")
SCALAR_FEATURES = ("unique_ids", "start_positions", "end_positions", "is_impossible")
# Records read ahead and shuffled (~3 KB each at 384 tokens: ~60 MB).
SHUFFLE_BUFFER = 20000


def cache_key(config, files, num_questions):
    """What a cached train.tf_record depends on (JSON-able)."""
    stat = os.stat(config.train_file)
    return {"train_file": os.path.abspath(config.train_file), "size": stat.st_size,
            "mtime": int(stat.st_mtime), "vocab_file": os.path.abspath(files.vocab_file),
            "do_lower_case": files.do_lower_case, "max_seq_length": config.max_seq_length,
            "doc_stride": config.doc_stride, "max_query_length": config.max_query_length,
            "version_2_with_negative": config.version_2_with_negative,
            "max_train_rows": config.max_train_rows, "seed": config.seed,
            "questions": num_questions}


def cached_count(path, key):
    """The number of features of a matching cache at `path`, else None."""
    try:
        with open(path + ".json", encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    if saved.get("key") != key or not os.path.isfile(path):
        return None
    return saved.get("features")


def _int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def write_records(features, path, max_seq_length, key=None):
    """Writes `Feature`s (an iterable) to `path` atomically; returns how many."""
    tmp = f"{path}.tmp{os.getpid()}"  # workers sharing output_dir write their own
    count = 0
    with tf.io.TFRecordWriter(tmp) as writer:
        for feature in features:
            n = len(feature.input_ids)
            pad = [0] * (max_seq_length - n)
            values = {
                "unique_ids": [FIRST_UNIQUE_ID + count],
                "input_ids": feature.input_ids.tolist() + pad,
                "input_mask": [1] * n + pad,
                "segment_ids": feature.segment_ids.tolist() + pad,
                "start_positions": [feature.start_position],
                "end_positions": [feature.end_position],
                "is_impossible": [int(feature.is_impossible)]}
            example = tf.train.Example(features=tf.train.Features(
                feature={k: _int_feature(v) for k, v in values.items()}))
            writer.write(example.SerializeToString())
            count += 1
    os.replace(tmp, path)
    if key is not None:
        write_json_atomically(path + ".json", {"key": key, "features": count})
    return count


def read_records(path, max_seq_length, batch_size, is_training=False, input_context=None,
                 seed=None):
    """Batches of int32 features (Google's names), padding trimmed per batch.

    `is_training`: shuffled (seeded), repeated, the last partial batch dropped.
    Records without `start_positions` (Google's eval files) read as 0.
    """
    spec = {name: tf.io.FixedLenFeature([max_seq_length], tf.int64)
            for name in SEQUENCE_FEATURES}
    spec.update({name: tf.io.FixedLenFeature([], tf.int64, default_value=0)
                 for name in SCALAR_FEATURES})
    dataset = tf.data.TFRecordDataset(path)
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines,
                                input_context.input_pipeline_id)
    if is_training:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=is_training)

    def parse(records):
        parsed = {k: tf.cast(v, tf.int32) for k, v in tf.io.parse_example(records, spec).items()}
        batch = trim_padding({k: parsed[k] for k in SEQUENCE_FEATURES})
        batch.update({k: parsed[k] for k in SCALAR_FEATURES})
        return batch

    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
