"""run_classifier.py as a user runs it with `| tee`: the log, eval events, reruns, modes.

One subprocess run (stdout piped to a file, umask 022) serves every check;
the last test reruns the same command in-process (nothing left to train).
"""

import json
import os
import re
import stat
import subprocess
import sys

import pytest
from absl import flags
from absl.testing import flagsaver

import run_classifier
from tests.test_run_classifier import model_dir, sentiment_rows, write_tsv  # noqa: F401
from tests.testing import REPO_ROOT

STEPS = 6  # 24 rows, batch 8, 2 epochs; evaluations at steps 3 and 6
PROGRESS = re.compile(r"^step (\d+)/6 \(\d+%\) - loss: (\S+) - accuracy: (\S+)")


def flag_values(model_dir, folder):  # noqa: F811
    return dict(bert_config_file=model_dir / "bert_config.json",
                vocab_file=model_dir / "vocab.txt", max_seq_length=16, train_batch_size=8,
                eval_batch_size=16, learning_rate=3e-3, text_column="sentence", seed=1,
                train_file=folder / "train.tsv", eval_file=folder / "dev.tsv",
                predict_file=folder / "dev.tsv", output_dir=folder / "out", do_train=True,
                do_eval=True, do_predict=True, num_train_epochs=2, save_checkpoints_steps=3)


def argv(values):
    return ["run_classifier.py"] + [f"--{k}" if v is True else f"--no{k}" if v is False
                                    else f"--{k}={v}" for k, v in values.items()]


@pytest.fixture(scope="module")
def piped_run(model_dir, tmp_path_factory):  # noqa: F811
    """(flag values, output folder, log): the script run with stdout and stderr in a file."""
    folder = tmp_path_factory.mktemp("piped")
    write_tsv(folder / "train.tsv", sentiment_rows(24, 0))
    write_tsv(folder / "dev.tsv", sentiment_rows(8, 1))
    values = flag_values(model_dir, folder)
    args = argv(values)
    args[0] = os.path.join(REPO_ROOT, "run_classifier.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with open(folder / "run.log", "w") as log:  # like `2>&1 | tee run.log`: not a terminal
        result = subprocess.run([sys.executable] + args, stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(folder), env=env, timeout=300,
                                preexec_fn=lambda: os.umask(0o022))
    text = (folder / "run.log").read_text()
    assert result.returncode == 0, text[-3000:]
    return values, folder / "out", text


def summary_value(log, name):
    """The value of `name` in the summary table the script prints at the end."""
    return re.search(rf"^  {re.escape(name)}\s+(\S+)$", log, re.MULTILINE).group(1)


def test_piped_log_has_plain_progress_lines_that_the_summary_repeats(piped_run):
    _, _, log = piped_run
    assert "\x1b" not in log and "\r" not in log and "\b" not in log
    progress = [PROGRESS.match(line) for line in log.splitlines()]
    progress = [m for m in progress if m]
    assert [int(m.group(1)) for m in progress] == list(range(1, STEPS + 1))
    assert max(len(line) for line in log.splitlines()) < 1000
    # The summary shows the quantity the last progress line shows.
    assert summary_value(log, "train.loss") == progress[-1].group(2)
    assert summary_value(log, "train.accuracy") == progress[-1].group(3)


def eval_events(folder):
    """`{tag: {step: value}}` from the TensorBoard event files under `folder`."""
    import tensorflow as tf
    scalars = {}
    for name in sorted(os.listdir(folder)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                scalars.setdefault(value.tag, {})[event.step] = float(
                    tf.make_ndarray(value.tensor))
    return scalars


def test_every_evaluation_is_in_the_eval_events(piped_run):
    _, out, _ = piped_run
    metrics = json.loads((out / "metrics.json").read_text())
    scalars = eval_events(out / "eval")
    history = {h["step"]: h for h in metrics["eval_history"]}
    assert sorted(history) == [3, 6] and sorted(scalars["accuracy"]) == [3, 6]
    for step, values in history.items():
        assert scalars["accuracy"][step] == pytest.approx(values["accuracy"], abs=1e-6)
        assert scalars["loss"][step] == pytest.approx(values["loss"], rel=1e-6)
    # The final evaluation (best/) is the one at the best step.
    best_step = metrics["best"]["step"]
    assert scalars["accuracy"][best_step] == pytest.approx(metrics["eval"]["accuracy"], abs=1e-6)


def test_outputs_honour_the_umask(piped_run):
    _, out, _ = piped_run
    wrong = []
    for root, folders, files in os.walk(out):
        for name in folders:
            mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
            if mode != 0o755:
                wrong.append((os.path.join(root, name), oct(mode)))
        for name in files:
            mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
            if mode != 0o644:
                wrong.append((os.path.join(root, name), oct(mode)))
    assert not wrong, wrong
    written = {os.path.relpath(os.path.join(r, n), out) for r, _, files in os.walk(out)
               for n in files}
    assert {"metrics.json", "eval_results.txt", "test_results.tsv", "labels.json", "flags.txt",
            "best/best.json", "best/bert_model.ckpt.index",
            "saved_model/saved_model.pb"} <= written, sorted(written)


def test_flags_record_repeats_the_run_with_flagfile(piped_run):
    values, out, _ = piped_run
    record = out / "flags.txt"
    with flagsaver.flagsaver():
        flags.FLAGS(["run_classifier.py", f"--flagfile={record}"])
        run_classifier.config_from_command_line().validate()  # usable, not only parseable
        given = {k: getattr(flags.FLAGS, k) for k in values}
    assert given == {k: v if isinstance(v, (bool, int, float)) else str(v)
                     for k, v in values.items()}


def test_recovered_best_folder_gets_the_umask_modes(tmp_path):
    from tftasks.common.best_checkpoint import BestCheckpoint
    staged = tmp_path / ".tmp-best-x" / "best"  # left by a run killed inside offer()
    staged.mkdir(parents=True)
    (staged / "best.json").write_text(json.dumps({"step": 1, "metric": "accuracy",
                                                  "value": 0.5}))
    os.chmod(staged, 0o700)
    previous = os.umask(0o022)
    try:
        BestCheckpoint(str(tmp_path / "best"), "accuracy").recover()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "best").st_mode) == 0o755


def test_usage_error_is_one_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "run_classifier.py"),
                             "--do_train", "--train_file=x.tsv", "--train_batch_size=0",
                             f"--output_dir={tmp_path / 'out'}"], capture_output=True,
                            text=True, cwd=str(tmp_path), env=env, timeout=120)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "train_batch_size" in line]
    expected = "ERROR: --train_batch_size must be positive, got 0. (--help lists the flags)"
    assert errors == [expected], result.stderr[-2000:]
    assert "--task_name" not in result.stderr  # no flag help before the message
    assert "Traceback" not in result.stderr
    assert not os.path.exists(tmp_path / "out")


def test_rerun_with_nothing_to_train_keeps_the_train_metrics(piped_run):
    # Last: it rewrites the outputs in this process (whose umask is not the test's).
    values, out, _ = piped_run
    earlier = json.loads((out / "metrics.json").read_text())
    assert earlier["train"]["loss"] > 0 and earlier["train"]["timed_steps"] == STEPS - 1
    with flagsaver.flagsaver():
        flags.FLAGS(argv(values))
        results = run_classifier.run()
    metrics = json.loads((out / "metrics.json").read_text())
    assert results["steps"] == earlier["steps"]
    assert metrics["train"] == earlier["train"] == results["train"]
    assert metrics["eval_history"] == earlier["eval_history"]
    assert metrics["eval"]["accuracy"] == earlier["eval"]["accuracy"]
