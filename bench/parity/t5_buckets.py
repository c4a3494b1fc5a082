"""T5 relative position buckets: ours vs transformers', every distance, both directions.

    python -m bench t5_buckets [--max_distance=4096 --pairs=32:128,16:32,64:256,128:1024
                                --torch_python=/work/refvenv/bin/python]

bench/parity/t5_buckets_torch.py (under `--torch_python`) writes the buckets
of transformers' `T5Attention._relative_position_bucket` for each relative
position (key - query) in `-max_distance .. max_distance`, bidirectional
(encoder) and causal (decoder), for each `num_buckets:max_distance` pair;
`tfcore.layers.relative_position_bucket` must give the same integers, eagerly
and compiled with XLA. Prints a line per pair and direction; exits non-zero
on any difference.
"""

import os
import subprocess
import tempfile

from absl import flags
import numpy as np

from bench import paths

paths.define_torch_python()
flags.DEFINE_integer("max_distance", 4096, "Relative positions -max_distance .. max_distance.")
flags.DEFINE_list("pairs", ["32:128", "16:32", "64:256", "128:1024"],
                  "num_buckets:max_distance pairs (T5's is 32:128).")
FLAGS = flags.FLAGS
TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "t5_buckets_torch.py")


def torch_buckets(work, pairs):
    """transformers' buckets: int64 `[pairs, 2 (bidirectional, causal), 2 * max_distance + 1]`."""
    out = os.path.join(work, "t5_buckets.npy")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)  # the reference environment must not see the project
    subprocess.run([paths.torch_python(), TORCH_SCRIPT, out, str(FLAGS.max_distance), *pairs],
                   check=True, env=env)
    return np.load(out)


def main(argv):
    del argv
    import tensorflow as tf
    from tfcore.layers import relative_position_bucket
    pairs = [tuple(int(v) for v in pair.split(":")) for pair in FLAGS.pairs]
    with tempfile.TemporaryDirectory(prefix="t5_buckets-") as work:
        theirs = torch_buckets(work, FLAGS.pairs)
    relative = tf.range(-FLAGS.max_distance, FLAGS.max_distance + 1)
    # One XLA trace per configuration (Python arguments) is the point: not a retracing problem.
    tf.get_logger().setLevel("ERROR")
    compiled = tf.function(relative_position_bucket, jit_compile=True)
    failures = 0
    for (num_buckets, max_distance), both in zip(pairs, theirs):
        for bidirectional, expected in zip((True, False), both):
            eager = relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
            xla = compiled(relative, bidirectional, num_buckets, max_distance)
            differ = [int(np.sum(np.asarray(ours) != expected)) for ours in (eager, xla)]
            failures += sum(differ)
            print(f"num_buckets {num_buckets:4d} max_distance {max_distance:5d} "
                  f"{'bidirectional' if bidirectional else 'causal':13s} distances "
                  f"+-{FLAGS.max_distance}: {len(expected)} compared, {len(set(expected))} buckets "
                  f"used, differing eager {differ[0]} XLA {differ[1]}")
    if failures:
        raise SystemExit(f"t5_buckets: {failures} buckets differ from transformers'")
    print("all integer-identical to transformers' T5 buckets")


if __name__ == "__main__":
    from absl import app
    app.run(main)
