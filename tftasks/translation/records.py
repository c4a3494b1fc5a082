"""Translation pairs <-> TFRecord shards of `{"source_ids", "target_ids"}` examples.

Each record is a `tf.train.Example` with two variable-length int64 lists,
`source_ids` and `target_ids`, the ids of the tokenizer's Python `encode`
(eos included). Records are serialized here without TensorFlow (the protobuf
wire format written by hand, byte-identical to
`tf.train.Example.SerializeToString(deterministic=True)`) and framed by
`tfrecords.shards.ShardWriter`: every shard is written as `.<name>.partial`
and renamed when all are complete; records go to the shards in turn.

Filtering (each counted in the summary):
  * a pair whose source ids exceed `max_source_length` or target ids exceed
    `max_target_length` (eos included) is dropped, not truncated: a cut target
    would teach the model to stop mid-sentence. To truncate instead, give
    encoders that truncate (`SentencePieceTokenizer(max_length=...)`).
  * a pair with an empty source or target text is dropped.

Example:

    tokenizer = SentencePieceTokenizer("spm.model")
    summary = write_records(pairs, "records", tokenizer.encode, prefix="train", num_shards=4,
                            max_source_length=128, max_target_length=128)
    print(format_summary(summary))
    ds = read_pairs("records/train-*.tfrecord")  # {"source_ids": int32 [n], "target_ids": int32 [m]}
"""

import sys
import time

import numpy as np

from tfrecords.report import Progress
from tfrecords.shards import ShardWriter, shard_paths
from tftasks.common.errors import ConfigError

SOURCE_IDS, TARGET_IDS = "source_ids", "target_ids"
# Pairs serialized per ShardWriter.write call.
_WRITE_BATCH = 4096
# Serialized records parsed per tf.io.parse_example call when reading.
_PARSE_BATCH = 256


def _varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _int64_feature_entry(key, ids):
    """One `map<string, Feature>` entry (field 1 of Features) holding an int64 list."""
    packed = bytearray()
    for value in ids:
        value = int(value)
        if value < 0:
            raise ValueError(f"negative id {value} in {key}")
        packed += _varint(value)
    # Int64List{value = 1, packed}; Feature{int64_list = 3}; entry{key = 1, value = 2}.
    int64_list = b"\x0a" + _varint(len(packed)) + bytes(packed) if packed else b""
    feature = b"\x1a" + _varint(len(int64_list)) + int64_list
    name = key.encode("utf-8")
    entry = b"\x0a" + _varint(len(name)) + name + b"\x12" + _varint(len(feature)) + feature
    return b"\x0a" + _varint(len(entry)) + entry


def serialize_pair(source_ids, target_ids):
    """Ids (non-negative ints) -> serialized `tf.train.Example` bytes (keys in sorted order)."""
    features = (_int64_feature_entry(SOURCE_IDS, source_ids)
                + _int64_feature_entry(TARGET_IDS, target_ids))
    return b"\x0a" + _varint(len(features)) + features


def _check_length(name, value):
    if value is not None and value < 1:
        raise ConfigError(f"--{name} must be >= 1 or unset, got {value}")


def write_records(pairs, output_dir, encode_source, encode_target=None, prefix="train",
                  num_shards=1, max_source_length=None, max_target_length=None,
                  progress_stream=sys.stderr):
    """Encodes `(source, target)` pairs and writes them as TFRecord shards.

    Args:
      pairs: iterable of `(source, target)` str.
      output_dir: folder of the shards `<prefix>-00000-of-0000N.tfrecord`.
      encode_source: str -> list of int ids (eos included), e.g. `tokenizer.encode`.
      encode_target: the same for the target (default: `encode_source`, a joint vocabulary).
      num_shards: files to write (records go to them in turn).
      max_source_length, max_target_length: longer pairs are dropped (None: no limit).
      progress_stream: where the progress line goes (None: no progress).

    Returns:
      summary dict: pairs (written), source_tokens, target_tokens (ids written,
      eos included), max_source_ids, max_target_ids, dropped_over_length,
      dropped_empty, files ([{"path", "records"}]), seconds.
    """
    if num_shards < 1:
        raise ConfigError(f"--num_shards must be >= 1, got {num_shards}")
    _check_length("max_source_length", max_source_length)
    _check_length("max_target_length", max_target_length)
    encode_target = encode_target or encode_source
    paths = shard_paths(output_dir, prefix, num_shards)
    totals = {"instances": 0, "tokens": 0, "input_bytes": 0, "source_tokens": 0,
              "target_tokens": 0, "max_source_ids": 0, "max_target_ids": 0,
              "dropped_over_length": 0, "dropped_empty": 0}
    progress = Progress(progress_stream)
    start = time.monotonic()
    records = []
    with ShardWriter(paths) as writer:
        for source, target in pairs:
            totals["input_bytes"] += len(source.encode("utf-8")) + len(target.encode("utf-8")) + 2
            if not source or not target:
                totals["dropped_empty"] += 1
                continue
            source_ids, target_ids = encode_source(source), encode_target(target)
            if ((max_source_length is not None and len(source_ids) > max_source_length)
                    or (max_target_length is not None and len(target_ids) > max_target_length)):
                totals["dropped_over_length"] += 1
                continue
            records.append(serialize_pair(source_ids, target_ids))
            totals["instances"] += 1
            totals["source_tokens"] += len(source_ids)
            totals["target_tokens"] += len(target_ids)
            totals["tokens"] += len(source_ids) + len(target_ids)
            totals["max_source_ids"] = max(totals["max_source_ids"], len(source_ids))
            totals["max_target_ids"] = max(totals["max_target_ids"], len(target_ids))
            if len(records) == _WRITE_BATCH:
                _write(writer, records)
                progress.update(totals)
        _write(writer, records)
    progress.finish(totals)
    summary = {"pairs": totals.pop("instances"), "seconds": round(time.monotonic() - start, 3),
               "files": [{"path": p, "records": c} for p, c in zip(paths, writer.counts)]}
    totals.pop("tokens")
    totals.pop("input_bytes")
    summary.update(totals)
    return summary


def _write(writer, records):
    if records:
        writer.write(np.frombuffer(b"".join(records), np.uint8), [len(r) for r in records])
        records.clear()


def format_summary(summary):
    """Summary dict -> a few lines for the end of a run."""
    pairs = max(summary["pairs"], 1)
    lines = [f"Wrote {summary['pairs']:,} pairs in {summary['seconds']:.1f} s to "
             f"{len(summary['files'])} file(s); dropped {summary['dropped_over_length']:,} "
             f"over-length and {summary['dropped_empty']:,} empty pair(s)",
             f"  source ids: {summary['source_tokens']:,} ({summary['source_tokens'] / pairs:.1f} "
             f"per pair, longest {summary['max_source_ids']})",
             f"  target ids: {summary['target_tokens']:,} ({summary['target_tokens'] / pairs:.1f} "
             f"per pair, longest {summary['max_target_ids']})"]
    lines += [f"  {f['path']}: {f['records']:,} records" for f in summary["files"]]
    return "\n".join(lines)


def read_pairs(file_pattern, is_training=False, input_context=None, deterministic=True,
               seed=None, skip_corrupt=False):
    """TFRecord shards -> `tf.data.Dataset` of `{"source_ids": int32 [n], "target_ids": int32 [m]}`.

    Args:
      file_pattern: comma-separated globs (`.partial` files skipped).
      is_training: True: files shuffled and repeated forever (shuffle records
        and batch with `token_batches`); False: each file read once, in order.
      input_context: `tf.distribute.InputContext`: pipeline i reads every n-th file.
      deterministic: keep the interleave order fixed (False: faster).
      seed: file shuffle seed.
      skip_corrupt: keep the records before damage in a truncated file.
    """
    import tensorflow as tf

    from tfrecords.reader import record_dataset

    spec = {name: tf.io.RaggedFeature(tf.int64) for name in (SOURCE_IDS, TARGET_IDS)}

    def parse(records):
        return tf.io.parse_example(records, spec)

    def to_int32(pair):  # after unbatch: plain [n] tensors (ragged rank 0 becomes dense)
        return {name: tf.cast(values, tf.int32) for name, values in pair.items()}

    ds = record_dataset(file_pattern, is_training, input_context, deterministic, seed,
                        skip_corrupt)
    ds = ds.batch(_PARSE_BATCH).map(parse, num_parallel_calls=tf.data.AUTOTUNE,
                                    deterministic=deterministic)
    return ds.unbatch().map(to_int32)
