"""Development check: a fine-tuned classifier's SavedModel vs the in-process model.

Takes a `run_classifier.py` output folder (e.g. the SST-2 run in
bench/RESULTS.md), computes the probabilities of the first N dev sentences
in this process (`BertClassifier.from_pretrained(output_dir/best)` + our
tokenizer, padded to --max_seq_length), then loads `output_dir/saved_model`
in a fresh process that imports only tensorflow and tensorflow_text, sends
the N raw strings as one batch and then hostile input (empty strings, a
1 MB string, invalid UTF-8, a text_b-less call) and prints the differences
and timings.

    python -m bench classifier_export --output_dir=/tmp/sst2_fp32 \
        [--dev_file=<--data_dir>/sst2/dev.tsv --rows=1000 --max_seq_length=64]
"""

import csv
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

from absl import flags
import numpy as np

from bench import paths

paths.define_data_dir()
flags.DEFINE_string("output_dir", None, "A run_classifier.py output folder (best/, "
                    "saved_model/).", required=True)
flags.DEFINE_string("dev_file", None, "TSV with a `sentence` column (default: "
                    "--data_dir/sst2/dev.tsv).")
flags.DEFINE_integer("rows", 1000, "Dev sentences to send.")
flags.DEFINE_integer("max_seq_length", 64, "Padding length of the in-process model.")
FLAGS = flags.FLAGS

_CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401
    export_dir, texts_file, out_file = sys.argv[1:4]
    start = time.perf_counter()
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    load_seconds = time.perf_counter() - start
    texts = np.load(texts_file)["texts"]
    start = time.perf_counter()
    out = serve(text_a=tf.constant(texts))
    batch_seconds = time.perf_counter() - start
    hostile = {"empty": [b""] * 3, "invalid_utf8": [b"\\xff\\xfe\\xc3(", b"ok \\xe2\\x82"],
               "one_megabyte": [b"great " * 174763], "only_spaces": [b" " * 100000]}
    answers = {}
    for name, batch in hostile.items():
        start = time.perf_counter()
        result = serve(text_a=tf.constant(batch))
        answers[name] = {"label": [s.decode() for s in result["label"].numpy()],
                         "finite": bool(np.isfinite(result["probabilities"].numpy()).all()),
                         "seconds": time.perf_counter() - start}
    for name, call in {"scalar": lambda: serve(text_a=tf.constant("x")),
                       "missing_text_a": lambda: serve()}.items():
        try:
            call()
            answers[name] = "answered"
        except Exception as e:  # the refusal must be an exception, not a crash
            answers[name] = f"{type(e).__name__}: {str(e).splitlines()[0][:100]}"
    forbidden = [m for m in ("tfbert", "tfcore", "keras_hub") if m in sys.modules]
    np.save(out_file, out["probabilities"].numpy())
    print(json.dumps({"load_seconds": load_seconds, "batch_seconds": batch_seconds,
                      "rows": len(texts), "forbidden_modules": forbidden,
                      "hostile": answers}))
""")


def read_dev(path, rows):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quotechar=None)
        header = next(reader)
        column = header.index("sentence")
        return [row[column] for _, row in zip(range(rows), reader)]


def in_process(output_dir, texts, max_seq_length, batch=100):
    from tfbert import BertClassifier, BertTokenizer
    from tftasks.classification.head import read_head
    best = os.path.join(output_dir, "best")
    model = BertClassifier.from_pretrained(best, pooling=read_head(best)[1])
    tokenizer = BertTokenizer(os.path.join(best, "vocab.txt"))
    logits = [np.asarray(model(tokenizer(texts[i:i + batch], max_seq_length=max_seq_length),
                               training=False)) for i in range(0, len(texts), batch)]
    logits = np.concatenate(logits).astype(np.float64)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def main(argv):
    del argv
    texts = read_dev(FLAGS.dev_file or paths.data_path("sst2", "dev.tsv"), FLAGS.rows)
    expected = in_process(FLAGS.output_dir, texts, FLAGS.max_seq_length)
    with tempfile.TemporaryDirectory() as tmp:
        script, texts_file = os.path.join(tmp, "child.py"), os.path.join(tmp, "texts.npz")
        out_file = os.path.join(tmp, "probabilities.npy")
        with open(script, "w") as f:
            f.write(_CHILD)
        np.savez(texts_file, texts=np.array([t.encode() for t in texts], dtype=bytes))
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH="")
        start = time.perf_counter()
        result = subprocess.run([sys.executable, script,
                                 os.path.join(FLAGS.output_dir, "saved_model"), texts_file,
                                 out_file], capture_output=True, text=True, env=env, cwd=tmp)
        if result.returncode:
            sys.exit(f"fresh process failed:\n{result.stderr[-3000:]}")
        report = json.loads(result.stdout.strip().splitlines()[-1])
        served = np.load(out_file)
    report["process_seconds"] = time.perf_counter() - start
    report["max_abs_probability_difference"] = float(np.abs(served - expected).max())
    report["same_predicted_class"] = int((served.argmax(1) == expected.argmax(1)).sum())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    from absl import app
    app.run(main)
