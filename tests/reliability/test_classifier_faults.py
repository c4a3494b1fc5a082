"""Faults during `run_classifier.py` fine-tuning: `kill -9` and a full disk at export.

- Killed twice at seeded points (around a checkpoint save, then a moment after
  a later checkpoint), each time rerun with the same command: the run resumes
  from its last checkpoint and ends bit-identical to an uninterrupted one
  (every checkpoint variable, best/, eval_results.txt, the evaluation history).
- A full disk (RLIMIT_FSIZE) while the SavedModel is written: one clear error
  naming the export, nothing under the final name, checkpoints and best/
  intact; the same command without the limit then exports.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.reliability import faults
from tests.reliability.faults import jobs  # noqa: F401  (cleanup)
from tests.test_run_classifier import model_dir, sentiment_rows, write_tsv  # noqa: F401
from tests.test_run_pretraining import checkpoint_values, limit_file_size
from tests.testing import REPO_ROOT

# 48 rows, batch 8, 3 epochs: 18 steps; checkpoints at 4, 8, 12, 16, 18; evaluations
# at those steps and at the epoch ends 6 and 12.
STEPS, EVERY = 18, 4
SEEDS = (5, 6)  # of the two kill points
# Larger than a checkpoint (~0.2 MB), smaller than the export's saved_model.pb.
FILE_SIZE_LIMIT = 400_000


def command(model_dir, data, out, **extra):  # noqa: F811
    flags = dict(bert_config_file=model_dir / "bert_config.json",
                 vocab_file=model_dir / "vocab.txt", max_seq_length=16, train_batch_size=8,
                 eval_batch_size=16, learning_rate=3e-3, text_column="sentence", seed=1,
                 train_file=data / "train.tsv", eval_file=data / "dev.tsv", output_dir=out,
                 do_train=True, do_eval=True, num_train_epochs=3, save_checkpoints_steps=EVERY,
                 deterministic=True, do_export=False)
    flags.update(extra)
    return [sys.executable, os.path.join(REPO_ROOT, "run_classifier.py")] + [
        f"--{k}" if v is True else f"--no{k}" if v is False else f"--{k}={v}"
        for k, v in flags.items()]


def run(args, log, **kwargs):
    with open(log, "w") as out:
        result = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                                env=faults.environment(), timeout=600, **kwargs)
    return result.returncode, open(log).read()


def outcome(out):
    """What must not depend on interruptions: weights, best/, evaluation files.

    (The last training step's metrics too: a rerun with nothing left to train
    keeps the earlier run's in metrics.json.)
    """
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    train = {k: metrics["train"].get(k) for k in ("loss", "cross_entropy", "accuracy",
                                                  "grad_norm")}
    return {"checkpoint": checkpoint_values(os.path.join(out, f"ckpt-{STEPS}")),
            "best": checkpoint_values(os.path.join(out, "best", "bert_model.ckpt")),
            "best.json": open(os.path.join(out, "best", "best.json")).read(),
            "eval_results.txt": open(os.path.join(out, "eval_results.txt")).read(),
            "eval_history": metrics["eval_history"], "eval": metrics["eval"],
            "train": train, "steps": metrics["steps"]}


def assert_same(actual, expected, skip=()):
    for key in set(expected) - set(skip):
        if key in ("checkpoint", "best"):
            assert actual[key].keys() == expected[key].keys(), key
            for name in expected[key]:
                np.testing.assert_array_equal(actual[key][name], expected[key][name],
                                              err_msg=f"{key}: {name}")
        else:
            assert actual[key] == expected[key], key


@pytest.fixture(scope="module")
def reference(model_dir, tmp_path_factory):  # noqa: F811
    """An uninterrupted run: (data folder, output folder, outcome)."""
    folder = tmp_path_factory.mktemp("classifier")
    write_tsv(folder / "train.tsv", sentiment_rows(48, 0))
    write_tsv(folder / "dev.tsv", sentiment_rows(16, 1))
    out = folder / "reference"
    code, log = run(command(model_dir, folder, out), folder / "reference.log")
    assert code == 0, log[-3000:]
    assert [h["step"] for h in json.load(open(out / "metrics.json"))["eval_history"]] == [
        4, 6, 8, 12, 16, 18]
    return folder, out, outcome(str(out))


def saved_or_saving(out, step):
    """`ready` of `kill_when`: this job is writing checkpoint `step` (or just wrote it)."""
    since = time.time()

    def ready():
        if os.path.exists(os.path.join(out, f"ckpt-{step}_temp")):
            return True
        try:
            return os.path.getmtime(os.path.join(out, f"ckpt-{step}.index")) >= since
        except FileNotFoundError:
            return False
    return ready


def test_kill_9_resumes_bit_identical_and_never_corrupts_a_checkpoint(
        reference, model_dir, tmp_path):  # noqa: F811
    data, finished, expected = reference
    out = str(tmp_path / "out")
    args = command(model_dir, data, out)
    checkpoint_gap = (os.path.getmtime(finished / "ckpt-16.index")
                      - os.path.getmtime(finished / "ckpt-12.index"))
    # Kill 1: the moment checkpoint `first` is seen being written (or just written).
    # Kill 2, in the rerun: a seeded share of the reference's time between two
    # checkpoints after a later checkpoint (at most 12: the run is not over then).
    first = random.Random(SEEDS[0]).choice([4, 8])
    latest = None
    for i in range(2):
        if i == 0:
            ready, wait = saved_or_saving(out, first), 0.0
        else:
            rng = random.Random(SEEDS[1])
            resumed_at = int(latest.rsplit("-", 1)[1]) if latest else 0
            ready = saved_or_saving(out, rng.choice(range(resumed_at + EVERY, 13, EVERY)))
            wait = rng.uniform(0.0, 0.9) * checkpoint_gap
        process = faults.start(args, tmp_path / f"killed-{i}.log")
        assert faults.kill_when(process, ready, wait), "the run ended before the kill point"
        latest = tf.train.latest_checkpoint(out)
        assert latest is None or not latest.endswith(f"ckpt-{STEPS}"), "killed too late"
        if latest:  # The checkpoint a rerun resumes from reads back whole.
            assert checkpoint_values(latest)
    code, log = run(args, tmp_path / "rerun.log")
    assert code == 0, log[-3000:]
    if latest:
        assert f"Resumed from {latest} at step {latest.rsplit('-', 1)[1]}" in log
    assert_same(outcome(out), expected)
    assert not [n for n in os.listdir(out) if n.startswith(".tmp-")], os.listdir(out)


def test_full_disk_during_export_is_named_and_the_run_exports_afterwards(
        reference, model_dir, tmp_path):  # noqa: F811
    data, finished, expected = reference
    assert max(os.path.getsize(os.path.join(finished, n)) for n in os.listdir(finished)
               if n.startswith("ckpt-")) < FILE_SIZE_LIMIT
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    args = command(model_dir, data, out, do_export=True)
    code, log = run(args, tmp_path / "full.log", preexec_fn=limit_file_size(FILE_SIZE_LIMIT))
    export_dir = os.path.join(str(out), "saved_model")
    assert code != 0
    assert f"Could not write the SavedModel to {export_dir}" in log, log[-3000:]
    assert "File too large" in log and "Nothing was written under that name" in log
    assert "Traceback" not in log, log[-3000:]
    assert not os.path.exists(export_dir)
    assert not [n for n in os.listdir(out) if n.startswith(".tmp-")], os.listdir(out)
    assert_same(outcome(str(out)), expected)  # checkpoints and best/ untouched

    code, log = run(args, tmp_path / "again.log")
    assert code == 0, log[-3000:]
    assert_same(outcome(str(out)), expected)  # the train figures too: nothing was retrained
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    answer = serve(text_a=tf.constant(["the movie is very good", "not fun"]))
    assert answer["probabilities"].shape == (2, 2)
    assert set(answer["label"].numpy()) <= {b"neg", b"pos"}


def test_best_folder_left_halfway_by_a_kill_is_recovered(reference, tmp_path):
    from tftasks.common.best_checkpoint import BestCheckpoint
    _, finished, _ = reference
    best = tmp_path / "out" / "best"
    # Killed between offer()'s two renames: the old best moved aside, the new one staged.
    halfway = tmp_path / "out" / ".tmp-best-a"
    shutil.copytree(finished / "best", halfway / "old")
    shutil.copytree(finished / "best", halfway / "best")
    newer = dict(json.loads((halfway / "best" / "best.json").read_text()), step=99)
    (halfway / "best" / "best.json").write_text(json.dumps(newer))
    # An older kill while staging: no best.json yet.
    shutil.copytree(finished / "best", tmp_path / "out" / ".tmp-best-b" / "best",
                    ignore=shutil.ignore_patterns("best.json"))
    os.utime(tmp_path / "out" / ".tmp-best-b", (0, 0))
    checkpoint = BestCheckpoint(str(best), "accuracy")
    assert not checkpoint.exists
    checkpoint.recover()
    assert checkpoint.state["step"] == 99 and json.loads((best / "best.json").read_text()) == newer
    assert sorted(os.listdir(tmp_path / "out")) == ["best"]
    # Only the old copy left (the staged one incomplete): it is put back.
    shutil.move(str(best), str(halfway / "old"))
    shutil.copytree(halfway / "old", halfway / "best", ignore=shutil.ignore_patterns("best.json"))
    BestCheckpoint(str(best), "accuracy").recover()
    assert json.loads((best / "best.json").read_text()) == newer
    assert sorted(os.listdir(tmp_path / "out")) == ["best"]
