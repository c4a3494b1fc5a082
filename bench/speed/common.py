"""Shared pieces of `python -m bench`: threads, CPU pressure, machine line, statistics, FLOPs.

Importing this module does not import TensorFlow; `setup_threads` does, and
must run before any TensorFlow op (the thread pools are fixed at first use).
"""

import os
import platform
import time

import numpy as np

_THREADS = {"n": None}


def setup_threads(threads):
    """Fixes TensorFlow's intra- and inter-op pools (and OpenMP's) at `threads`."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.get_logger().setLevel("ERROR")
    _THREADS["n"] = threads
    return threads


def threads():
    return _THREADS["n"]


def pressure():
    """`/proc/pressure/cpu`'s "some" line (share of time some task waited for a CPU)."""
    try:
        with open("/proc/pressure/cpu") as f:
            return f.readline().strip()
    except OSError:
        return "n/a"


def pressure_avg10():
    line = pressure()
    for part in line.split():
        if part.startswith("avg10="):
            return float(part[6:])
    return float("nan")


def check_pressure(label, warn_above=20.0):
    """Prints the pressure line; warns when other work is competing for the CPU."""
    line = pressure()
    avg10 = pressure_avg10()
    note = ""
    if avg10 == avg10 and avg10 > warn_above:
        note = f"  <-- WARNING: CPU busy (avg10 {avg10:.0f}% > {warn_above:.0f}%): timings are upper bounds"
    print(f"cpu pressure {label}: {line}{note}", flush=True)
    return line


def _cpuinfo():
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("unknown CPU", "x86_64", ""):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return model, flags


def _memory_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return int(line.split()[1]) / 1024 ** 2
    except OSError:
        pass
    return float("nan")


def machine_line(peer_versions=None):
    """One line: CPU, vCPUs, matrix extensions, memory, library versions, threads."""
    import keras
    import keras_hub
    import tensorflow as tf
    model, flags = _cpuinfo()
    extensions = [name for name in ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f", "avx2")
                  if name in flags]
    text = (f"{model}, {os.cpu_count()} vCPUs ({', '.join(extensions) or 'no AVX-512/AMX'}), "
            f"{_memory_gb():.0f} GB RAM; TensorFlow {tf.__version__}, Keras {keras.__version__}, "
            f"keras-hub {keras_hub.__version__}")
    if peer_versions:
        text += (f", torch {peer_versions.get('torch')}, transformers "
                 f"{peer_versions.get('transformers')} (OMP_WAIT_POLICY="
                 f"{peer_versions.get('omp_wait')})")
    return text + f"; {threads()} thread(s) per side"


def today():
    return time.strftime("%Y-%m-%d %H:%M %Z")


# ---------------------------------------------------------------- statistics

def summarize(values):
    """`{"median", "min", "max", "spread"}`; spread = (max - min) / median."""
    arr = np.asarray(values, dtype=np.float64)
    median = float(np.median(arr))
    return {"median": median, "min": float(arr.min()), "max": float(arr.max()),
            "spread": float((arr.max() - arr.min()) / median) if median else float("nan"),
            "n": int(arr.size)}


def time_calls(fn, calls):
    """Seconds of each of `calls` calls of `fn()`, one after the other."""
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def percentile(values, q):
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


# ---------------------------------------------------------------- model FLOPs

def layer_params(hidden, intermediate):
    """Parameters of one transformer block: attention (QKV + output), FFN, 2 LayerNorms."""
    attention = 4 * hidden * hidden + 4 * hidden
    ffn = 2 * hidden * intermediate + intermediate + hidden
    return attention + ffn + 4 * hidden


def train_step_flops(layers, hidden, intermediate, vocab, seq, tokens, predicted,
                     head_transform=True):
    """Model FLOPs of one training step (issue #8's formula).

    6 x non-embedding params x tokens + 12 x layers x hidden x seq x tokens
    (attention scores and mixing) + 6 x (hidden^2 + hidden x vocab) x predicted
    positions (BERT's MLM head: transform + tied decoder on the masked positions;
    GPT's LM head has no transform: `head_transform=False` drops hidden^2).
    """
    body = 6 * layers * layer_params(hidden, intermediate) * tokens
    attention = 12 * layers * hidden * seq * tokens
    head = 6 * ((hidden * hidden if head_transform else 0) + hidden * vocab) * predicted
    return body + attention + head


def forward_flops(layers, hidden, intermediate, seq, tokens):
    """Model FLOPs of an encoder forward pass (no head): 2 x params x tokens + attention."""
    return 2 * layers * layer_params(hidden, intermediate) * tokens + 4 * layers * hidden * seq * tokens


# ---------------------------------------------------------------- formatting

def fmt(value, digits=1):
    if value is None or value != value:
        return "-"
    return f"{value:,.{digits}f}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines
