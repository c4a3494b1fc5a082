"""Usage errors of the pretraining-to-serving programs: one line on stderr, exit code 2.

Each program runs as a user types it (`python -m ...` from a fresh process);
they run side by side to keep the test short.
"""

import os
import subprocess
import sys

from tests.testing import REPO_ROOT


def run_all(commands, cwd):
    """Starts every command at once; returns `[(returncode, stderr)]` in order."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO_ROOT)
    processes = [subprocess.Popen([sys.executable] + args, cwd=str(cwd), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for args in commands]
    return [(p.returncode, err) for p in processes for _, err in [p.communicate(timeout=180)]]


def error_lines(stderr):
    """stderr lines that are not TensorFlow's or absl's start-up chatter."""
    return [line for line in stderr.splitlines() if line.startswith("ERROR")]


def test_usage_errors_are_one_line_naming_what_is_expected(tmp_path):
    not_gpt = tmp_path / "pretraining_output"
    not_gpt.mkdir()
    (not_gpt / "bert_config.json").write_text("{}")
    cases = [
        (["-m", "tfgpt.generate", f"--checkpoint_dir={not_gpt}", "--prompt=x"],
         ["has no config.json", "--saved_model", "vocab.json"]),
        (["-m", "tfgpt.export", f"--checkpoint_dir={not_gpt}"], ["--output_dir is required"]),
        (["-m", "tfbert.export_encoder", "--output_dir=x"], ["--model_dir is required"]),
        (["-m", "tfrecords.build_vocab", "--output_file=v.txt"], ["--input_file"]),
        (["-m", "tfrecords.create_pretraining_data", "--output_dir=r"], ["--input_file"]),
        ([os.path.join(REPO_ROOT, "run_pretraining.py"), "--model=gpt",
          "--bert_config_file=c.json"], ["--bert_config_file is for --model=bert"]),
    ]
    results = run_all([args for args, _ in cases], tmp_path)
    for (args, expected), (code, stderr) in zip(cases, results):
        assert code == 2, (args, stderr[-2000:])
        lines = error_lines(stderr)
        assert len(lines) == 1, (args, stderr[-2000:])
        for text in expected:
            assert text in lines[0], (args, lines[0])
        assert "Traceback" not in stderr and "USAGE" not in stderr, (args, stderr[-2000:])
    assert sorted(os.listdir(tmp_path)) == ["pretraining_output"]  # nothing written
