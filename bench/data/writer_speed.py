r"""Writer speed: ours (1 and 2 workers) against Google's original script, side by side.

Same corpus, vocab and flags, runs interleaved (G, ours-1, ours-2, G, ...).
Per variant: median wall time, instances per second end to end (process wall
time, imports and start-up included: what a user waits for), median CPU time
(user + system, workers included), and the ratio to Google's, both as the
ratio of medians and as the median of the per-round ratios (each round's runs
follow one another, so they share the machine's load). The machine is shared:
the CPU pressure before each run is printed; CPU time is the steadier figure
under load, wall time the one that counts when the machine is idle.

Defaults are the issue's case: WikiText-2 `test.sentences.txt`,
`--dupe_factor=3`, Google's other defaults, MiniLM's `vocab.txt`:

    python -m bench writer_speed --google_dir=/tmp/google_bert [--repeats=5]
    python -m bench writer_speed --google_dir=/tmp/google_bert --corpus_mb=10 \
        --dupe_factor=10 --repeats=1

With `--google_startup`, Google's start-up (import TensorFlow, build its
tokenizer) is also timed in a separate process before each of its runs, for an
"after start-up" rate. See bench/data/common.py for making the patched
copy of Google's script.
"""

import json
import os
import re
import shutil
import statistics
import sys
import tempfile

from absl import flags

from bench.data import common

FLAGS = flags.FLAGS
common.define_corpus_flags(google=True)
flags.DEFINE_integer("repeats", 5, "Interleaved rounds.")
flags.DEFINE_list("workers", ["1", "2"], "Our --num_workers values.")
flags.DEFINE_integer("corpus_mb", 0, "If > 0: instead of --input_file, a corpus of this size "
                     "made of the WikiText-2 sentence files' documents, reshuffled per copy.")
flags.DEFINE_bool("google_startup", False, "Also time Google's start-up before its runs.")
flags.DEFINE_string("json", None, "Also write every run's figures here.")

GOOGLE = "google"


def _google_startup(google_dir):
    """Seconds for Google's script to import TensorFlow and build its tokenizer."""
    code = ("import tensorflow.compat.v1 as tf; import tokenization; "  # cwd: google_dir
            f"tokenization.FullTokenizer({common.vocab_file()!r})")
    return common.run_measured([sys.executable, "-c", code], cwd=google_dir).seconds


def _run(workers, script, out):
    """One run -> dict of figures (instances, seconds, cpu_seconds, rss_mb, ...)."""
    args = [f"--input_file={common.corpus_file()}", f"--output_file={out}",
            f"--vocab_file={common.vocab_file()}", f"--dupe_factor={FLAGS.dupe_factor}"]
    pressure = common.cpu_pressure()
    if workers is None:
        startup = _google_startup(os.path.dirname(script)) if FLAGS.google_startup else None
        pressure = common.cpu_pressure()
        run = common.run_measured([sys.executable, script] + args, cwd=os.path.dirname(script))
        count = int(re.search(r"Wrote (\d+) total instances", run.stderr).group(1))
    else:
        summary_file = out + ".json"
        run = common.run_measured(
            [sys.executable, "-m", "tfrecords.create_pretraining_data", *args,
             f"--num_workers={workers}", "--progress=false", f"--summary_json={summary_file}"])
        with open(summary_file) as f:
            summary = json.load(f)
        count, startup = summary["records"], run.seconds - summary["seconds"]
    return dict(instances=count, seconds=run.seconds, cpu_seconds=run.cpu_seconds,
                rss_mb=run.rss_mb, startup=startup, pressure=pressure)


def main(argv):
    del argv
    script = common.google_script(FLAGS.google_dir)
    work_dir = tempfile.mkdtemp(prefix="writer_speed-")
    try:
        if FLAGS.corpus_mb > 0:
            FLAGS.input_file = os.path.join(work_dir, "corpus.txt")
            common.build_repeated_corpus(FLAGS.input_file, FLAGS.corpus_mb)
        runs = {}
        variants = [(GOOGLE, None)] + [(f"ours, {w} worker(s)", int(w)) for w in FLAGS.workers]
        for _ in range(FLAGS.repeats):
            for name, workers in variants:
                result = _run(workers, script, os.path.join(work_dir, "out.tfrecord"))
                runs.setdefault(name, []).append(result)
                print(f"{name}: {result['seconds']:.2f} s wall, {result['cpu_seconds']:.2f} s "
                      f"CPU, {result['instances']:,} instances, peak RSS "
                      f"{result['rss_mb']:,.0f} MB, cpu pressure {result['pressure']}",
                      flush=True)
        _report(runs)
        if FLAGS.json:
            with open(FLAGS.json, "w") as f:
                json.dump(runs, f, indent=1)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _median(results, key):
    values = [r[key] for r in results if r[key] is not None]
    return statistics.median(values) if values else float("nan")


def _report(runs):
    print(f"\nCorpus {common.corpus_file()}, dupe_factor={FLAGS.dupe_factor}, other flags "
          f"Google's defaults; {FLAGS.repeats} interleaved rounds, medians. x Google: "
          "ratio of the medians (median of the per-round ratios).")
    print("| writer | instances | wall s | inst/s end to end | x Google end to end | "
          "CPU s | x Google CPU | start-up s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    google = runs[GOOGLE]
    for name, results in runs.items():
        count = results[0]["instances"]
        seconds, cpu = _median(results, "seconds"), _median(results, "cpu_seconds")
        base_rate = google[0]["instances"] / _median(google, "seconds")
        base_cpu_rate = google[0]["instances"] / _median(google, "cpu_seconds")
        per_round = statistics.median(
            (count / r["seconds"]) / (g["instances"] / g["seconds"])
            for r, g in zip(results, google))
        per_round_cpu = statistics.median(
            (count / r["cpu_seconds"]) / (g["instances"] / g["cpu_seconds"])
            for r, g in zip(results, google))
        print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} | "
              f"{count / seconds / base_rate:.1f} ({per_round:.1f}) | {cpu:.2f} | "
              f"{count / cpu / base_cpu_rate:.1f} ({per_round_cpu:.1f}) | "
              f"{_median(results, 'startup'):.2f} | "
              f"{max(r['rss_mb'] for r in results):,.0f} |")


if __name__ == "__main__":
    from absl import app
    app.run(main)
