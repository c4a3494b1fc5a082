"""Reader pipelines over shards written by the writer."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.tfrecords import helpers
from tfrecords import reader
from tfrecords.writer import WriterConfig, write_pretraining_data

SEQ, PRED = 32, 5


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    vocab = helpers.write_vocab(folder)
    corpus = helpers.write_corpus(folder, num_docs=50, seed=1)
    common = dict(input_file=corpus, vocab_file=vocab, max_seq_length=SEQ,
                  max_predictions_per_seq=PRED, dupe_factor=2, block_bytes=3000)
    out = {"vocab": vocab}
    for name, extra in (("masked", {}), ("unmasked", dict(masked_lm_prob=0.0)),
                        ("gpt", dict(model="gpt", max_seq_length=16))):
        summary = write_pretraining_data(WriterConfig(
            **dict(common, **extra, output_dir=str(folder / name), num_shards=4)))
        out[name] = str(folder / name / "*.tfrecord")
        out[name + "_count"] = summary["records"]
    return out


def _rows(ds):
    return [tuple(row) for batch in ds for row in batch["input_ids"].numpy()]


def test_bert_batches_have_google_features(shards):
    ds = reader.bert_pretraining_dataset(shards["masked"], 8, SEQ, PRED)
    batch = next(iter(ds))
    shapes = {k: (tuple(v.shape), v.dtype) for k, v in batch.items()}
    assert shapes == {
        "input_ids": ((8, SEQ), tf.int32), "input_mask": ((8, SEQ), tf.int32),
        "segment_ids": ((8, SEQ), tf.int32), "masked_lm_positions": ((8, PRED), tf.int32),
        "masked_lm_ids": ((8, PRED), tf.int32), "masked_lm_weights": ((8, PRED), tf.float32),
        "next_sentence_labels": ((8, 1), tf.int32)}
    assert ds.element_spec["input_ids"].shape == (8, SEQ)  # drop_remainder: static.


def test_evaluation_reads_every_record_once(shards):
    ds = reader.bert_pretraining_dataset(shards["masked"], 7, SEQ, PRED, is_training=False)
    assert len(_rows(ds)) == shards["masked_count"]


def test_input_context_shards_files_disjointly(shards):
    parts = []
    for index in range(2):
        context = tf.distribute.InputContext(2, index, num_replicas_in_sync=2)
        ds = reader.bert_pretraining_dataset(shards["masked"], 8, SEQ, PRED, is_training=False,
                                             input_context=context)
        assert ds.element_spec["input_ids"].shape[0] in (None, 4)
        parts.append(set(_rows(ds)))
    assert not parts[0] & parts[1]
    assert len(parts[0]) + len(parts[1]) == shards["masked_count"]
    with pytest.raises(ValueError, match="input pipelines"):
        reader.bert_pretraining_dataset(shards["masked"], 8, SEQ, PRED,
                                        input_context=tf.distribute.InputContext(5, 0, 5))


def test_deterministic_mode_repeats(shards):
    def first_batches(**kwargs):
        ds = reader.bert_pretraining_dataset(shards["masked"], 8, SEQ, PRED, deterministic=True,
                                             seed=3, **kwargs)
        return [b["input_ids"].numpy() for b in ds.take(6)]
    np.testing.assert_array_equal(first_batches(), first_batches())
    masked = [first_batches(dynamic_masking=True, vocab_file=shards["vocab"]) for _ in range(2)]
    np.testing.assert_array_equal(masked[0], masked[1])


def test_dynamic_masking(shards):
    vocab = open(shards["vocab"]).read().split("\n")
    ds = reader.bert_pretraining_dataset(shards["unmasked"], 64, SEQ, PRED, is_training=False,
                                         dynamic_masking=True, vocab_file=shards["vocab"],
                                         deterministic=True)
    plain = reader.bert_pretraining_dataset(shards["unmasked"], 64, SEQ, PRED, is_training=False,
                                            deterministic=True)
    masked_total = real_total = 0
    outcomes = np.zeros(3)
    for batch, original in zip(ds, plain):
        b = {k: v.numpy() for k, v in batch.items()}
        o = original["input_ids"].numpy()
        assert original["masked_lm_weights"].numpy().sum() == 0
        real = b["masked_lm_weights"] > 0
        assert (np.take_along_axis(o, b["masked_lm_positions"], 1)[real] ==
                b["masked_lm_ids"][real]).all()
        chosen = np.take_along_axis(o, b["masked_lm_positions"], 1)[real]
        assert not np.isin(chosen, [vocab.index("[CLS]"), vocab.index("[SEP]")]).any()
        now = np.take_along_axis(b["input_ids"], b["masked_lm_positions"], 1)[real]
        outcomes += [(now == vocab.index("[MASK]")).sum(), (now == chosen).sum(), 0]
        changed = (b["input_ids"] != o).sum()
        assert changed <= real.sum()
        masked_total += real.sum()
        real_total += b["input_mask"].sum() - 3 * len(o)
    assert 0.13 < masked_total / real_total < 0.18
    assert abs(outcomes[0] / masked_total - 0.8) < 0.05
    epochs = [next(iter(ds))["masked_lm_positions"].numpy() for _ in range(2)]
    assert (epochs[0] != epochs[1]).any(), "every read should draw new masks"


def test_gpt_dataset_shifts_targets(shards):
    inputs, targets = next(iter(reader.gpt_dataset(shards["gpt"], 4, 16)))
    assert inputs.shape == targets.shape == (4, 16) and inputs.dtype == tf.int32
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    whole = next(iter(reader.gpt_dataset(shards["gpt"], 4, 16, split_targets=False)))
    assert whole["token_ids"].shape == (4, 17)


def _damaged_copy(pattern, folder, damage):
    source = sorted(tf.io.gfile.glob(pattern))[0]
    target = os.path.join(str(folder), "damaged-" + os.path.basename(source))
    data = bytearray(open(source, "rb").read())
    data = damage(data)
    open(target, "wb").write(bytes(data))
    return target


@pytest.mark.parametrize("damage", [
    lambda d: d[:len(d) - 100],  # Truncated; then a flipped byte mid-file.
    lambda d: d[:len(d) // 2] + bytes([d[len(d) // 2] ^ 0xFF]) + d[len(d) // 2 + 1:],
])
def test_damaged_shard_errors_name_the_file_or_are_skipped(shards, tmp_path, damage):
    bad = _damaged_copy(shards["masked"], tmp_path, damage)
    ds = reader.bert_pretraining_dataset(bad, 4, SEQ, PRED, is_training=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match="damaged-bert-00000"):
        for _ in ds:
            pass
    skipped = reader.bert_pretraining_dataset(bad, 4, SEQ, PRED, is_training=False,
                                              skip_corrupt=True)
    good = reader.bert_pretraining_dataset(sorted(tf.io.gfile.glob(shards["masked"]))[0], 4,
                                           SEQ, PRED, is_training=False)
    assert 0 < len(_rows(skipped)) < len(_rows(good))


def test_missing_files_and_partial_outputs(shards, tmp_path):
    with pytest.raises(FileNotFoundError, match="no TFRecord files"):
        reader.bert_pretraining_dataset(str(tmp_path / "*.tfrecord"), 4, SEQ, PRED)
    first = sorted(tf.io.gfile.glob(shards["masked"]))[0]
    shutil.copy(first, tmp_path / "a.tfrecord")
    shutil.copy(first, tmp_path / ".b.tfrecord.partial")
    assert reader.list_files(str(tmp_path / "*")) == [str(tmp_path / "a.tfrecord")]
