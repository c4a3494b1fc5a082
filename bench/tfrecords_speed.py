r"""Writer speed: ours (1 and 2 workers) against Google's original script, side by side.

Same corpus, vocab and flags (Google's defaults unless given), runs interleaved
(G, ours-1, ours-2, G, ...), medians reported. Instances per second are given
end to end (process wall time, imports included) and after start-up (Google:
wall time minus the time to import TensorFlow and build its tokenizer,
measured just before the run; ours: the writer's own clock, which starts after
the imports and still includes building the tokenizer and the workers). The machine is shared: the CPU pressure
before each run is printed; compare rounds taken under similar pressure.

    python bench/tfrecords_speed.py --google_dir=/tmp/google_bert \
        [--input_file=a.txt,b.txt | --corpus_mb=10] [--vocab_file=vocab.txt --dupe_factor=10]

See bench/tfrecords_common.py for making the patched copy of Google's script.
"""

import json
import os
import re
import shutil
import statistics
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfrecords_common as common  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("google_dir", None, "Folder of the patched Google script.")
flags.DEFINE_string("input_file", f"{common.WIKITEXT_TEST},{common.WIKITEXT_VALID}",
                    "Corpus (Google's format).")
flags.DEFINE_string("vocab_file", common.MINILM_VOCAB, "WordPiece vocab.txt.")
flags.DEFINE_integer("dupe_factor", 10, "Google's default.")
flags.DEFINE_integer("repeats", 2, "Interleaved rounds.")
flags.DEFINE_list("workers", ["1", "2"], "Our --num_workers values.")
flags.DEFINE_string("work_dir", "/tmp/tfrecords_speed", "Scratch folder (deleted after).")
flags.DEFINE_integer("corpus_mb", 0, "If > 0: instead of --input_file, a corpus of this size "
                     "made of the WikiText-2 sentence files' documents, reshuffled per copy.")


def _startup_seconds(side, google_dir):
    """Seconds for Google's script to import TensorFlow and build its tokenizer."""
    assert side == "google"
    code = (f"import sys; sys.path.insert(0, {google_dir!r}); import tensorflow.compat.v1 "
            f"as tf; import tokenization; tokenization.FullTokenizer({FLAGS.vocab_file!r})")
    return common.run_timed([sys.executable, "-c", code], cwd=google_dir)[0]


def _run_google(script, out):
    seconds, rss, _, stderr = common.run_timed(
        [sys.executable, script, f"--input_file={FLAGS.input_file}", f"--output_file={out}",
         f"--vocab_file={FLAGS.vocab_file}", f"--dupe_factor={FLAGS.dupe_factor}"],
        cwd=os.path.dirname(script))
    return seconds, rss, int(re.search(r"Wrote (\d+) total instances", stderr).group(1)), None


def _run_ours(workers, out):
    summary_file = out + ".json"
    seconds, rss, _, _ = common.run_timed(
        [sys.executable, "-m", "tfrecords.create_pretraining_data",
         f"--input_file={FLAGS.input_file}", f"--output_file={out}",
         f"--vocab_file={FLAGS.vocab_file}", f"--dupe_factor={FLAGS.dupe_factor}",
         f"--num_workers={workers}", "--progress=false", f"--summary_json={summary_file}"])
    with open(summary_file) as f:
        summary = json.load(f)
    return seconds, rss, summary["records"], summary["seconds"]


def main(argv):
    del argv
    script = common.google_script(FLAGS.google_dir)
    os.makedirs(FLAGS.work_dir, exist_ok=True)
    try:
        if FLAGS.corpus_mb > 0:
            FLAGS.input_file = os.path.join(FLAGS.work_dir, "corpus.txt")
            common.build_repeated_corpus(FLAGS.input_file, FLAGS.corpus_mb)
        runs = {}
        variants = [("google", None)] + [(f"ours, {w} worker(s)", int(w)) for w in FLAGS.workers]
        for _ in range(FLAGS.repeats):
            for name, workers in variants:
                out = os.path.join(FLAGS.work_dir, "out.tfrecord")
                # Google's start-up is measured right before its run, under the
                # same load; ours is the wall time minus the writer's own clock.
                startup = _startup_seconds("google", os.path.dirname(script)) \
                    if workers is None else None
                pressure = common.cpu_pressure()
                result = (_run_google(script, out) if workers is None
                          else _run_ours(workers, out))
                if startup is None:
                    startup = result[0] - result[3]
                runs.setdefault(name, []).append(result[:3] + (pressure, startup))
                print(f"{name}: {result[0]:.2f} s, {result[2]:,} instances, peak RSS "
                      f"{result[1]:,.0f} MB, start-up {startup:.2f} s, cpu pressure {pressure}",
                      flush=True)
        _report(runs)
    finally:
        shutil.rmtree(FLAGS.work_dir, ignore_errors=True)


def _report(runs):
    print(f"\nCorpus {FLAGS.input_file}, dupe_factor={FLAGS.dupe_factor}, other flags "
          "Google's defaults. Start-up: Google's, the time to import TensorFlow and build "
          "its tokenizer (measured just before each run); ours, the time before the "
          "writer's own clock starts (imports; its tokenizer build stays in the work).")
    print("| writer | instances | wall s (median) | start-up s | inst/s end to end | "
          "inst/s after start-up | x Google (end to end / after start-up) | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    base = None
    for name, results in runs.items():
        seconds = statistics.median(r[0] for r in results)
        startup = statistics.median(r[4] for r in results)
        count = results[0][2]
        work = seconds - startup
        rates = (count / seconds, count / work if work > 0.5 else float("nan"))
        base = base or rates
        print(f"| {name} | {count:,} | {seconds:.2f} | {startup:.2f} | {rates[0]:,.0f} | "
              f"{rates[1]:,.0f} | {rates[0] / base[0]:.1f} / {rates[1] / base[1]:.1f} | "
              f"{max(r[1] for r in results):,.0f} |")


if __name__ == "__main__":
    app.run(main)
