"""The machine's ceilings at the run's thread count, measured in TensorFlow.

- float32 and bf16 matrix product, 2048 x 2048 x 2048 (GFLOP/s);
- memory read bandwidth: `tf.reduce_sum` over a 1 GiB float32 variable (GB/s).

The best of the repetitions is the ceiling (the machine is shared: a slow
repetition measures the neighbours, not the hardware); the median is printed
beside it.
"""

import numpy as np

from bench.speed import common

MATMUL_N = 2048
BANDWIDTH_BYTES = 1 << 30


def _times(fn, repeats):
    fn()  # warm-up (graph trace, oneDNN primitive creation)
    return common.time_calls(fn, repeats)


def matmul_gflops(dtype_name, repeats=7, n=MATMUL_N):
    """`(best, median)` GFLOP/s of an n^3 matrix product in `dtype_name`."""
    import tensorflow as tf
    dtype = tf.as_dtype(dtype_name)
    a = tf.cast(tf.random.normal([n, n], seed=1), dtype)
    b = tf.cast(tf.random.normal([n, n], seed=2), dtype)
    product = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y)[0, :8], tf.float32)))
    times = _times(lambda: product(a, b).numpy(), repeats)
    flops = 2 * n ** 3
    return flops / min(times) / 1e9, flops / float(np.median(times)) / 1e9


def read_bandwidth_gbps(repeats=7, nbytes=BANDWIDTH_BYTES):
    """`(best, median)` GB/s reading a float32 variable of `nbytes` with `tf.reduce_sum`."""
    import tensorflow as tf
    big = tf.Variable(tf.ones([nbytes // 4], tf.float32))
    total = tf.function(lambda: tf.reduce_sum(big))
    times = _times(lambda: total().numpy(), repeats)
    return nbytes / min(times) / 1e9, nbytes / float(np.median(times)) / 1e9


_CACHE = {}


def measure(with_bandwidth=True, repeats=7):
    """Measures once per process; returns a dict and prints the figures."""
    if "float32" not in _CACHE:
        common.check_pressure("before the ceilings")
        _CACHE["repeats"] = repeats
        _CACHE["float32"], _CACHE["float32_median"] = matmul_gflops("float32", repeats)
        _CACHE["bfloat16"], _CACHE["bfloat16_median"] = matmul_gflops("bfloat16", repeats)
        print(f"matmul {MATMUL_N}^3 at {common.threads()} thread(s): float32 "
              f"{_CACHE['float32']:.0f} GFLOP/s (median {_CACHE['float32_median']:.0f}), bf16 "
              f"{_CACHE['bfloat16']:.0f} GFLOP/s (median {_CACHE['bfloat16_median']:.0f})",
              flush=True)
    if with_bandwidth and "read_gbps" not in _CACHE:
        _CACHE["read_gbps"], _CACHE["read_gbps_median"] = read_bandwidth_gbps(repeats)
        print(f"memory read (tf.reduce_sum over 1 GiB float32): {_CACHE['read_gbps']:.1f} GB/s "
              f"(median {_CACHE['read_gbps_median']:.1f})", flush=True)
    return dict(_CACHE)


def describe(ceilings):
    """The ceilings as one markdown line."""
    text = (f"Ceilings ({MATMUL_N}^3 matmul in TensorFlow, {common.threads()} thread(s), "
            f"best of {ceilings['repeats']}): "
            f"float32 {ceilings['float32']:.0f} GFLOP/s, bf16 {ceilings['bfloat16']:.0f} GFLOP/s "
            f"(medians {ceilings['float32_median']:.0f} / {ceilings['bfloat16_median']:.0f})")
    if "read_gbps" in ceilings:
        text += f"; memory read {ceilings['read_gbps']:.1f} GB/s"
    return text + "."


def run(args, report):
    ceilings = measure(with_bandwidth=True, repeats=args.ceiling_repeats)
    report.block("ceiling", "Machine ceilings", [describe(ceilings)])
    return ceilings
