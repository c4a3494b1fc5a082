"""Shared pieces of the data benchmarks: corpus flags, timed subprocesses, Google's script.

Google's original writer is run from a copy outside this repository, patched
only in its TensorFlow import. To make one:

    git clone https://github.com/google-research/bert /tmp/google_bert
    cd /tmp/google_bert
    sed -i 's/^import tensorflow as tf$/import tensorflow.compat.v1 as tf/' \
        create_pretraining_data.py tokenization.py

and point the benchmarks at it with `--google_dir=/tmp/google_bert` or the
environment variable GOOGLE_BERT_DIR. The corpus defaults to WikiText-2's
`test.sentences.txt` under `--data_dir`, the vocab to all-MiniLM-L6-v2's
(BERT-base uncased).
"""

import dataclasses
import os
import random
import re
import subprocess
import tempfile
import time

from absl import flags

from bench import paths

FLAGS = flags.FLAGS
REPO_ROOT = paths.REPO_ROOT
paths.define_data_dir()


def define_corpus_flags(google=False, allow_override=False):
    """`--input_file`, `--vocab_file`, `--dupe_factor` (and `--google_dir` if `google`).

    `allow_override`: let Google's module, imported later, define flags of the
    same names (read ours first: `corpus_file()`, `vocab_file()`).
    """
    if google:
        flags.DEFINE_string("google_dir", None, "Folder of the patched Google script "
                            "(default: $GOOGLE_BERT_DIR).")
    flags.DEFINE_string("input_file", None, "Corpus in Google's format (default: "
                        "--data_dir/wikitext2/test.sentences.txt).",
                        allow_override=allow_override)
    flags.DEFINE_string("vocab_file", None, "WordPiece vocab.txt (default: "
                        "all-MiniLM-L6-v2's).", allow_override=allow_override)
    flags.DEFINE_integer("dupe_factor", 3, "Passes over the input.",
                         allow_override=allow_override)


def wikitext(split="test"):
    """WikiText-2's `<split>.sentences.txt` under `--data_dir`."""
    return paths.data_path("wikitext2", f"{split}.sentences.txt")


def corpus_file():
    return FLAGS.input_file or wikitext("test")


def vocab_file():
    return paths.minilm_vocab(FLAGS.vocab_file)


def build_repeated_corpus(path, size_mb, sources=None, seed=0):
    """Writes the sources' documents again and again, shuffled each time, up to `size_mb`.

    `sources`: corpus files (default: WikiText-2 test and valid sentence files).
    """
    sources = sources or (wikitext("test"), wikitext("valid"))
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
    folder = google_dir or os.environ.get("GOOGLE_BERT_DIR")
    if not folder:
        raise SystemExit("--google_dir (or $GOOGLE_BERT_DIR) is needed: the folder of a "
                         f"patched copy of Google's script; see the docstring of {__file__}")
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
