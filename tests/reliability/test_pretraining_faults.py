"""Damaged and foreign records met in the middle of `run_pretraining.py` training.

- A shard with one flipped byte (its record's CRC no longer matches): with
  `--skip_corrupt_records`, a warning naming the file with the count of
  records kept; without, the reader's error names the file and the bytes read
  (run_pretraining.py prints that error without a traceback: see
  tests/test_run_pretraining.py's truncated shard, the same check).
- A shard with records of another schema (GPT records, records missing
  `masked_lm_ids`) among good ones: an error naming the file and the record,
  also with `--skip_corrupt_records` (foreign records mean wrong input files,
  not damage; skipping them would hide that). Checkpoints written before the
  error read back whole.
"""

import os
import re
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from tests.test_run_pretraining import (PREDICTIONS, SEQ, checkpoint_values, command,  # noqa: F811
                                        data, google_example)  # noqa: F401
from tests.testing import REPO_ROOT
from tfrecords import reader


def gpt_record(rng):
    tokens = tf.train.Int64List(value=rng.integers(0, 30, 17).tolist())
    return tf.train.Example(features=tf.train.Features(feature={
        "token_ids": tf.train.Feature(int64_list=tokens)})).SerializeToString()


def without_masked_lm_ids(rng):
    example = tf.train.Example.FromString(google_example(rng))
    del example.features.feature["masked_lm_ids"]
    return example.SerializeToString()


def flipped_copy(source, target):
    """`source` with one bit flipped in the middle of a record's payload."""
    blob = bytearray(open(source, "rb").read())
    blob[len(blob) // 2] ^= 0x10
    open(target, "wb").write(bytes(blob))


def run_failing(args):
    result = subprocess.run(args, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode != 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr


def test_flipped_byte_is_named_and_can_be_skipped_but_foreign_records_cannot(data, tmp_path):  # noqa: F811  (the fixture)
    source = os.path.dirname(data["input_file"])
    good = sorted(os.path.join(source, n) for n in os.listdir(source) if n.startswith("train-"))
    flipped = str(tmp_path / "flipped.tfrecord")
    flipped_copy(good[0], flipped)
    # Good records with foreign ones in the middle: GPT records and BERT records
    # missing masked_lm_ids (every 8th record of the shard, from record 16 on).
    foreign = str(tmp_path / "foreign.tfrecord")
    rng = np.random.default_rng(1)
    with tf.io.TFRecordWriter(foreign) as writer:
        for i in range(64):
            bad = i >= 16 and i % 8 == 0
            writer.write((gpt_record if i % 16 else without_masked_lm_ids)(rng) if bad
                         else google_example(rng))
    size = os.path.getsize(flipped)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=re.escape(f"corrupt or truncated TFRecord file {flipped}: read ")
                       + rf"\d+ of {size} bytes"):
        for _ in reader.bert_pretraining_dataset(flipped, 8, SEQ, PREDICTIONS, is_training=False):
            pass

    out = str(tmp_path / "out")
    stderr = run_failing(command(dict(data, input_file=",".join(good + [flipped, foreign])),
                                 out, skip_corrupt_records=True, do_eval=False,
                                 do_export=False, num_train_steps=40, save_checkpoints_steps=2))
    warning = [line for line in stderr.splitlines() if "skipping the rest of corrupt" in line]
    assert warning and flipped in warning[0], stderr[-3000:]
    assert re.search(r"kept \d+ records, lost \d+ of \d+ bytes", warning[0]), warning[0]
    assert f"Name: {foreign}, record " in stderr, stderr[-3000:]
    assert ("Feature: masked_lm_ids (data type: int64) is required" in stderr
            or "Feature: input_ids (data type: int64) is required" in stderr), stderr[-3000:]
    latest = tf.train.latest_checkpoint(out)
    if latest:  # Whatever was saved before the error reads back whole.
        assert checkpoint_values(latest)
