"""Hand-encoded tf.train.Example bytes against protobuf's own serialization, and
the NumPy TFRecord framing (`shards.frame_records`) against tf.io.TFRecordWriter."""

import numpy as np
import pytest
import tensorflow as tf

from tfrecords import features, shards, wire


def _proto_bytes(schema, columns, row):
    feature = {}
    for f in schema:
        values = columns[f.name][row].tolist()
        if f.dtype == features.FLOAT32:
            feature[f.name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        else:
            feature[f.name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _random_columns(schema, n, rng, high=40_000):
    columns = {}
    for f in schema:
        if f.dtype == features.FLOAT32:
            columns[f.name] = rng.standard_normal((n, f.length)).astype(np.float32)
        else:
            columns[f.name] = rng.integers(0, high, (n, f.length))
    return columns


@pytest.mark.parametrize("seq,pred", [(16, 4), (130, 20), (8, 0)])
def test_encoded_records_parse_like_protobuf(seq, pred):
    schema = features.bert_schema(seq, pred)
    rng = np.random.default_rng(seq)
    columns = _random_columns(schema, 13, rng)
    # Varint edge values: 1..10 bytes.
    edges = [0, 127, 128, 16383, 16384, 2**21, 2**28, 2**35, 2**56, 2**63 - 1]
    columns["input_ids"][0, :len(edges[:seq])] = edges[:seq]
    ours = wire.split_records(*wire.encode_examples(schema, columns))
    reference = [_proto_bytes(schema, columns, i) for i in range(13)]
    spec = features.feature_spec(schema)
    parsed, expected = tf.io.parse_example(ours, spec), tf.io.parse_example(reference, spec)
    for name in spec:
        np.testing.assert_array_equal(parsed[name].numpy(), expected[name].numpy(), name)
    for mine, theirs in zip(ours, reference):
        assert tf.train.Example.FromString(mine) == tf.train.Example.FromString(theirs)
        assert len(mine) == len(theirs)


def test_gpt_schema_round_trip():
    schema = features.gpt_schema(7)
    tokens = np.arange(5 * 8).reshape(5, 8) * 1000
    records = wire.split_records(*wire.encode_examples(schema, {"token_ids": tokens}))
    parsed = tf.io.parse_example(records, features.feature_spec(schema))
    np.testing.assert_array_equal(parsed["token_ids"].numpy(), tokens)


def test_negative_ids_rejected():
    schema = features.gpt_schema(1)
    with pytest.raises(ValueError, match="negative"):
        wire.encode_examples(schema, {"token_ids": np.array([[1, -1]])})


def _tf_record_file(tmp_path, records):
    path = str(tmp_path / "reference.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    with open(path, "rb") as f:
        return f.read()


def test_framing_is_byte_identical_to_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "_FRAME_BATCH", 7)  # Several batches.
    rng = np.random.default_rng(0)
    lengths = np.concatenate([[0, 1, 2, 3, 4, 5, 8], rng.integers(0, 3000, 30)])
    blob = rng.integers(0, 256, int(lengths.sum()), dtype=np.uint8)
    records = wire.split_records(blob, lengths)
    (framed,) = shards.frame_records(blob, lengths)
    assert framed.tobytes() == _tf_record_file(tmp_path, records)
    outputs = rng.integers(0, 3, len(lengths))
    for k, data in enumerate(shards.frame_records(blob.tobytes(), lengths, outputs, 3)):
        mine = [r for r, o in zip(records, outputs) if o == k]
        assert data.tobytes() == _tf_record_file(tmp_path, mine), k


def test_shard_writer_deals_records_in_turn(tmp_path):
    schema = features.gpt_schema(3)
    paths = shards.shard_paths(str(tmp_path), "gpt", 3)
    blocks = [np.arange(4 * n).reshape(n, 4) for n in (5, 1, 7)]
    with shards.ShardWriter(paths) as writer:
        for tokens in blocks:
            writer.write(*wire.encode_examples(schema, {"token_ids": tokens}))
    rows = np.concatenate(blocks)
    spec = features.feature_spec(schema)
    for k, path in enumerate(paths):
        parsed = [tf.io.parse_single_example(r, spec)["token_ids"].numpy()
                  for r in tf.data.TFRecordDataset(path)]
        np.testing.assert_array_equal(np.array(parsed), rows[k::3])
    assert writer.counts == [5, 4, 4]
