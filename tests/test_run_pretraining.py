"""End-to-end tests of run_pretraining.py as users run it: subprocesses, flags, files.

The embedded defaults (the quick start's BERT learning beyond the baseline, a
GPT pretrained after BERT in the same folder) are checked on the README
journey's own runs: tests/journeys/test_readme.py.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from absl import flags as absl_flags
from absl.testing import flagsaver

import run_classifier
from tests.testing import REPO_ROOT, SMALL_VOCAB, reload_in_fresh_process, write_vocab

SEQ, PREDICTIONS = 16, 3
CONFIG = dict(vocab_size=len(SMALL_VOCAB), hidden_size=16, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
              type_vocab_size=2)


def google_example(rng):
    """One record with Google's feature names, built with tf.train.Example."""
    length = int(rng.integers(6, SEQ + 1))
    ids = np.zeros(SEQ, np.int64)
    ids[:length] = rng.integers(5, len(SMALL_VOCAB), length)
    ids[0], ids[length - 1] = 2, 3
    positions = np.sort(rng.choice(np.arange(1, length - 1), PREDICTIONS, replace=False))
    labels = ids[positions].copy()
    ids[positions] = 4
    ints = lambda v: tf.train.Feature(int64_list=tf.train.Int64List(value=list(map(int, v))))
    features = {"input_ids": ints(ids), "input_mask": ints(ids > 0),
                "segment_ids": ints(np.zeros(SEQ)), "masked_lm_positions": ints(positions),
                "masked_lm_ids": ints(labels),
                "masked_lm_weights": tf.train.Feature(
                    float_list=tf.train.FloatList(value=[1.0] * PREDICTIONS)),
                "next_sentence_labels": ints([rng.integers(0, 2)])}
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for name, shards, per_shard in (("train", 4, 64), ("eval", 1, 32)):
        for shard in range(shards):
            with tf.io.TFRecordWriter(str(folder / f"{name}-{shard}.tfrecord")) as writer:
                for _ in range(per_shard):
                    writer.write(google_example(rng))
    config = folder / "bert_config.json"
    config.write_text(json.dumps(CONFIG))
    return {"input_file": str(folder / "train-*"), "eval_input_file": str(folder / "eval-*"),
            "bert_config_file": str(config), "vocab_file": write_vocab(folder)}


def command(data, output_dir, **extra):
    flags = dict(data, output_dir=output_dir, do_train=True, do_eval=True,
                 max_seq_length=SEQ, max_predictions_per_seq=PREDICTIONS, train_batch_size=8,
                 eval_batch_size=8, num_train_steps=12, num_warmup_steps=2,
                 save_checkpoints_steps=4, learning_rate=1e-3, deterministic=True)
    flags.update(extra)
    args = [f"--{k}" if v is True else f"--no{k}" if v is False else f"--{k}={v}"
            for k, v in flags.items()]
    return [sys.executable, os.path.join(REPO_ROOT, "run_pretraining.py")] + args


def run(args, env=None, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def checkpoint_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


@pytest.mark.parametrize("flags, message", [
    (dict(num_train_steps=0), "--num_train_steps must be positive"),
    (dict(num_warmup_steps=50), "--num_warmup_steps must be in"),
    (dict(do_train=False, do_eval=False), "At least one of --do_train or --do_eval"),
    (dict(learning_rate=-1), "--learning_rate must be positive"),
    (dict(strategy="cluster"), "strategy"),
])
def test_bad_flags_fail_before_any_work(data, tmp_path, flags, message):
    output_dir = str(tmp_path / "out")
    result = subprocess.run(command(data, output_dir, **flags), capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert not os.path.exists(output_dir)


@pytest.fixture(scope="module")
def pretrained_run(data, tmp_path_factory):
    """(output folder, stdout) of a finished run (train, eval, export) on the small records."""
    out = str(tmp_path_factory.mktemp("pretrained") / "out")
    return out, run(command(data, out)).stdout


@pytest.fixture(scope="module")
def pretrained(pretrained_run):
    """The output folder of `pretrained_run`."""
    return pretrained_run[0]


def test_train_eval_export_and_kill_9_resume_is_bit_identical(data, pretrained_run, tmp_path):
    whole, stdout = pretrained_run  # an uninterrupted run of `command(data, ...)`
    metrics = json.load(open(os.path.join(whole, "metrics.json")))
    assert metrics["steps"] == 12
    for key in ("masked_lm_accuracy", "next_sentence_accuracy", "masked_lm_accuracy_baseline"):
        assert 0.0 <= metrics["eval"][key] <= 1.0
    assert metrics["train"]["tokens_per_second"] > 0
    assert "metrics.json" in stdout and "saved_model" in stdout
    assert sorted(n for n in os.listdir(whole) if n.startswith("ckpt-12"))

    # Training only (evaluation and export come after the last step).
    cut = str(tmp_path / "cut")
    cut_command = command(data, cut, do_eval=False, do_export=False)
    process = subprocess.Popen(cut_command, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
    deadline = time.time() + 240
    while not os.path.exists(os.path.join(cut, "ckpt-4.index")) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not os.path.exists(os.path.join(cut, "ckpt-12.index")), "killed too late"
    run(cut_command)
    expected = checkpoint_values(os.path.join(whole, "ckpt-12"))
    actual = checkpoint_values(os.path.join(cut, "ckpt-12"))
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)

    texts = np.array(["the cat sat on the mat .", "hello world", ""])
    outputs = reload_in_fresh_process(os.path.join(whole, "saved_model"), {"text": texts},
                                      tmp_path)
    assert outputs["embedding"].shape == (3, 16)
    assert outputs["sequence_output"].shape[:2] == (3, SEQ)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_two_processes(data, tmp_path):
    ports = free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    output_dir = str(tmp_path / "multi")
    processes = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        env = dict(os.environ, TF_CONFIG=tf_config, TF_CPP_MIN_LOG_LEVEL="2")
        processes.append(subprocess.Popen(
            command(data, output_dir, strategy="multi_worker", num_train_steps=6,
                    save_checkpoints_steps=3), env=env, cwd=REPO_ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    logs = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, logs):
        assert process.returncode == 0, err[-4000:]
    digests = [line.split()[-1] for _, err in logs for line in err.splitlines()
               if "Final weights sha256" in line]
    assert len(digests) == 2 and digests[0] == digests[1], digests
    shards = [set(f for line in err.splitlines() if "of 2 reads training files:" in line
                  for f in line.split("reads training files:", 1)[1].split()) for _, err in logs]
    assert shards[0] and shards[1] and not shards[0] & shards[1], shards
    written = sorted(os.listdir(output_dir))
    assert "saved_model" in written and "metrics.json" in written
    assert not [n for n in written if n.startswith(".worker_")], written


def limit_file_size(max_bytes):
    """preexec_fn: files larger than `max_bytes` fail to write (EFBIG), like a full disk."""
    def apply():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


def test_full_disk_during_checkpoint_keeps_the_last_one_and_resumes(data, pretrained, tmp_path):
    # The run to resume: step 4 of the module's run (the same data and model).
    output_dir = str(tmp_path / "full")
    os.makedirs(output_dir)
    for name in os.listdir(pretrained):
        if name.startswith("ckpt-4."):
            shutil.copy(os.path.join(pretrained, name), output_dir)
    tf.compat.v1.train.update_checkpoint_state(output_dir, os.path.join(output_dir, "ckpt-4"))
    assert tf.train.latest_checkpoint(output_dir).endswith("ckpt-4")
    before = checkpoint_values(os.path.join(output_dir, "ckpt-4"))
    result = subprocess.run(command(data, output_dir, do_eval=False), capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=300,
                            preexec_fn=limit_file_size(20_000))
    assert result.returncode != 0
    assert "Could not write the checkpoint of step 8" in result.stderr
    assert "ckpt-4) is intact" in result.stderr
    assert tf.train.latest_checkpoint(output_dir).endswith("ckpt-4")
    after = checkpoint_values(os.path.join(output_dir, "ckpt-4"))
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
    run(command(data, output_dir, do_eval=False, do_export=False))
    assert json.load(open(os.path.join(output_dir, "metrics.json")))["steps"] == 12


def test_truncated_shard_names_the_file_or_is_skipped(data, tmp_path):
    folder = tmp_path / "damaged"
    folder.mkdir()
    source = os.path.dirname(data["input_file"])
    for name in sorted(n for n in os.listdir(source) if n.startswith("train-")):
        blob = open(os.path.join(source, name), "rb").read()
        cut = len(blob) // 2 + 7  # mid-record
        (folder / name).write_bytes(blob[:cut] if name == "train-0.tfrecord" else blob)
    damaged = dict(data, input_file=str(folder / "train-*"))
    args = command(damaged, str(tmp_path / "out"), do_eval=False, do_export=False,
                   num_train_steps=40, save_checkpoints_steps=40)
    result = subprocess.run(args, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode != 0
    assert "train-0.tfrecord" in result.stderr and "truncated" in result.stderr
    assert "Traceback" not in result.stderr
    args = command(damaged, str(tmp_path / "out2"), do_eval=False, do_export=False,
                   num_train_steps=40, save_checkpoints_steps=40, skip_corrupt_records=True)
    result = run(args)
    assert "train-0.tfrecord" in result.stderr


def trainer_weights(prefix, config):
    """A BertPretrainer restored by TensorFlow's own object-based restore of a trainer ckpt."""
    from tfbert import BertConfig, BertPretrainer
    model = BertPretrainer(BertConfig(**config))
    ids = np.ones((1, SEQ), np.int32)
    model({"input_ids": ids, "segment_ids": 0 * ids, "input_mask": ids,
           "masked_lm_positions": np.zeros((1, PREDICTIONS), np.int32)})
    tf.train.Checkpoint(model=model).restore(prefix).expect_partial()
    return model


def test_output_folder_is_a_pretrained_folder_and_a_rerun_keeps_it(data, pretrained):
    from tfbert import BertModel, BertPretrainer
    out = pretrained
    assert tf.train.latest_checkpoint(out).endswith("ckpt-12")  # resume state untouched
    for name in ("bert_config.json", "bert_model.ckpt.index", "vocab.txt", "flags.txt"):
        assert os.path.exists(os.path.join(out, name)), name
    assert [n for n in os.listdir(os.path.join(out, "eval")) if "tfevents" in n]
    expected = trainer_weights(os.path.join(out, "ckpt-12"), CONFIG)
    loaded = BertPretrainer.from_pretrained(out)
    for ours, theirs in zip(loaded.weights, expected.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)
    # The trainer's own checkpoint prefix, given a config, loads the same weights.
    encoder = BertModel.from_pretrained(os.path.join(out, "ckpt-12"),
                                        config=data["bert_config_file"])
    np.testing.assert_array_equal(encoder.embedding.word_embeddings.numpy(),
                                  expected.bert.embedding.word_embeddings.numpy())
    first = json.load(open(os.path.join(out, "metrics.json")))
    assert first["train"]["tokens_per_second"] > 0

    # The same run again, from its flag record: nothing to train, the figures stay.
    flagfile = os.path.join(out, "flags.txt")
    assert f"--output_dir={out}" in open(flagfile).read()
    again = run([sys.executable, os.path.join(REPO_ROOT, "run_pretraining.py"),
                 f"--flagfile={flagfile}"])
    assert "Already at step 12" in again.stdout and "nothing to train" in again.stdout
    second = json.load(open(os.path.join(out, "metrics.json")))
    assert second["train"] == first["train"] and second["steps"] == 12
    assert tf.train.latest_checkpoint(out).endswith("ckpt-12")


def run_classifier_in_process(out, init, **extra):
    """`run_classifier.py` with these flags, run in this process (absl flags set per call)."""
    tsv = os.path.join(os.path.dirname(out), "train.tsv")
    with open(tsv, "w") as f:
        f.write("sentence\tlabel\nthe cat sat .\t1\na dog ran !\t0\nthe mat .\t1\na cat !\t0\n")
    values = dict(init_checkpoint=init, train_file=tsv, eval_file=tsv, text_column="sentence",
                  label_column="label", do_train=True, do_eval=True, num_train_epochs=1,
                  train_batch_size=4, max_seq_length=SEQ, learning_rate=1e-12, weight_decay=0,
                  output_dir=out)
    values.update(extra)
    argv = ["run_classifier.py"] + [f"--{k}" if v is True else f"--{k}={v}"
                                    for k, v in values.items()]
    with flagsaver.flagsaver():
        absl_flags.FLAGS(argv)
        return run_classifier.run()


def encoder_embeddings_of_classifier(out):
    """The word embeddings the classifier run ended with, read from its trainer checkpoint."""
    from tfbert import BertClassifier, BertConfig
    model = BertClassifier(BertConfig(**CONFIG), num_labels=2)
    ids = np.ones((1, SEQ), np.int32)
    model({"input_ids": ids, "segment_ids": 0 * ids, "input_mask": ids})
    tf.train.Checkpoint(model=model).restore(tf.train.latest_checkpoint(out)).expect_partial()
    return model.bert.embedding.word_embeddings.numpy()


def test_run_classifier_starts_from_the_pretraining_folder_and_its_ckpt(data, pretrained,
                                                                       tmp_path):
    pre = pretrained
    pretrained = tf.train.load_checkpoint(os.path.join(pre, "bert_model.ckpt")).get_tensor(
        "bert/embeddings/word_embeddings")
    # The folder as it is (config and vocab from it) ...
    folder_run = str(tmp_path / "from_folder")
    run_classifier_in_process(folder_run, pre, do_export=False)
    # ... and a trainer prefix copied where no config or vocab is, given by flags.
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in os.listdir(pre):
        if name.startswith("ckpt-12."):
            (bare / name).write_bytes(open(os.path.join(pre, name), "rb").read())
    prefix_run = str(tmp_path / "from_prefix")
    run_classifier_in_process(prefix_run, str(bare / "ckpt-12"), do_export=False,
                              bert_config_file=data["bert_config_file"],
                              vocab_file=data["vocab_file"])
    for out in (folder_run, prefix_run):
        # lr 1e-12: one step leaves the encoder where the pretraining ended.
        np.testing.assert_allclose(encoder_embeddings_of_classifier(out), pretrained,
                                   atol=1e-6, err_msg=out)
        assert np.abs(pretrained).max() > 0.01
