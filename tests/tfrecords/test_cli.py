"""The command line: usage errors before any work, progress and summary output."""

import os
import subprocess
import sys

from tests.testing import REPO_ROOT
from tests.tfrecords import helpers


def _run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable, "-m", "tfrecords.create_pretraining_data", *args],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300)


def test_both_outputs_is_a_usage_error(tmp_path):
    result = _run(f"--input_file={tmp_path}/x.txt", f"--output_file={tmp_path}/a.tfrecord",
                  f"--output_dir={tmp_path}/out", "--vocab_file=v.txt")
    assert result.returncode != 0
    assert "exactly one of --output_file and --output_dir" in result.stderr
    assert os.listdir(tmp_path) == []


def test_run_shows_progress_and_summary(tmp_path):
    vocab = helpers.write_vocab(tmp_path)
    corpus = helpers.write_corpus(tmp_path, num_docs=20)
    out = tmp_path / "a.tfrecord,"
    result = _run(f"--input_file={corpus}", f"--output_file={out}{tmp_path}/b.tfrecord",
                  f"--vocab_file={vocab}", "--max_seq_length=32", "--dupe_factor=2",
                  f"--summary_json={tmp_path}/summary.json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "records/s" in result.stderr  # the final progress line
    assert "Masked tokens:" in result.stdout and "Next sentence:" in result.stdout
    assert (tmp_path / "a.tfrecord").exists() and (tmp_path / "b.tfrecord").exists()
