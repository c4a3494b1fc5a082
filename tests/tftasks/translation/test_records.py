"""Translation records: hand-written Example bytes == protobuf's, shards written and read back,
over-length and empty pairs dropped and counted."""

import glob
import os

import pytest
import tensorflow as tf

from tests.tftasks.translation.tiny_parallel import tiny_pairs, tiny_sentencepiece
from tfseq2seq.tokenization import SentencePieceTokenizer
from tftasks.translation.records import format_summary, read_pairs, serialize_pair, write_records


@pytest.mark.parametrize("source,target", [
    ([5, 1], [7, 8, 1]), ([127, 128, 300, 16383, 16384, 2**31 + 5], [1]), ([], [0, 0, 1])])
def test_serialized_bytes_equal_protobuf(source, target):
    example = tf.train.Example(features=tf.train.Features(feature={
        "source_ids": tf.train.Feature(int64_list=tf.train.Int64List(value=source)),
        "target_ids": tf.train.Feature(int64_list=tf.train.Int64List(value=target))}))
    assert serialize_pair(source, target) == example.SerializeToString(deterministic=True)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("records"))
    tokenizer = SentencePieceTokenizer(tiny_sentencepiece(folder))
    pairs = tiny_pairs()[:60] + [("", "empty source"), ("Ein Hund.", "")]
    summary = write_records(pairs, os.path.join(folder, "out"), tokenizer.encode, prefix="train",
                            num_shards=3, max_source_length=24, max_target_length=20,
                            progress_stream=None)
    return folder, tokenizer, pairs, summary


def test_summary_counts_written_and_dropped_pairs(written):
    folder, tokenizer, pairs, summary = written
    encoded = [(tokenizer.encode(s), tokenizer.encode(t)) for s, t in pairs[:60]]
    kept = [(s, t) for s, t in encoded if len(s) <= 24 and len(t) <= 20]
    assert 0 < len(kept) < 60  # the limits drop some, not all
    assert summary["pairs"] == len(kept)
    assert summary["dropped_over_length"] == 60 - len(kept)
    assert summary["dropped_empty"] == 2
    assert summary["source_tokens"] == sum(len(s) for s, _ in kept)
    assert summary["target_tokens"] == sum(len(t) for _, t in kept)
    assert summary["max_source_ids"] == max(len(s) for s, _ in kept)
    assert [f["records"] for f in summary["files"]] == [
        len(kept[i::3]) for i in range(3)]
    assert sorted(os.listdir(os.path.join(folder, "out"))) == [
        f"train-0000{i}-of-00003.tfrecord" for i in range(3)]  # no .partial left
    text = format_summary(summary)
    assert f"Wrote {len(kept)} pairs" in text and "dropped" in text


def test_read_pairs_gives_back_the_ids(written):
    folder, tokenizer, pairs, summary = written
    encoded = [(tokenizer.encode(s), tokenizer.encode(t)) for s, t in pairs[:60]]
    kept = [(s, t) for s, t in encoded if len(s) <= 24 and len(t) <= 20]
    files = sorted(glob.glob(os.path.join(folder, "out", "train-*")))
    ds = read_pairs(",".join(files))
    assert ds.element_spec["source_ids"] == tf.TensorSpec([None], tf.int32)
    read = [(e["source_ids"].tolist(), e["target_ids"].tolist()) for e in ds.as_numpy_iterator()]
    assert sorted(read) == sorted(kept)
    # One shard alone: its records in writing order (round robin).
    assert [(e["source_ids"].tolist(), e["target_ids"].tolist())
            for e in read_pairs(files[1]).as_numpy_iterator()] == kept[1::3]
