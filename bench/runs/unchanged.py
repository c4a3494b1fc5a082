r"""Behaviour fingerprints of the command-line programs, to compare across a refactor.

    python -m bench unchanged --output=before.json            # at the old commit
    python -m bench unchanged --output=after.json --compare=before.json

(`python -m bench.runs.unchanged` runs it too. At a commit from before
bench/runs/ existed: `python -m bench.unchanged`.)

Runs, as a user types them (subprocesses of this Python), on
`--data_dir/bert_sample/sample_text.txt` and `examples/`:
build_vocab -> create_pretraining_data (2 shards) -> a --deterministic 50-step
BERT pretraining -> a --deterministic fine-tuning from its folder (eval and
predict) -> export_encoder; a --deterministic 50-step GPT on the embedded
character data -> tfgpt.export. Records the sha256 of the vocab, the shards, the
final weights (metrics.json), eval_results.txt, test_results.tsv, and of every
SavedModel's outputs on fixed inputs. `--compare` lists every entry that differs.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

from absl import app, flags

from bench import paths

paths.define_data_dir()
flags.DEFINE_string("output", "unchanged.json", "Where to write the fingerprints.")
flags.DEFINE_string("compare", None, "Fingerprints of an earlier run to compare with.")
flags.DEFINE_string("work_dir", None, "Working folder (default: a temporary one).")
FLAGS = flags.FLAGS
REPO = paths.REPO_ROOT

BERT_CONFIG = dict(vocab_size=None, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                   intermediate_size=128, max_position_embeddings=128, type_vocab_size=2)

_SERVE = r'''
import hashlib, json, sys
import numpy as np, tensorflow as tf, tensorflow_text
path, requests = sys.argv[1], json.loads(sys.argv[2])
fns = tf.saved_model.load(path).signatures
out = {}
for name, values in requests.items():
    specs = fns[name].structured_input_signature[1]
    result = fns[name](**{k: tf.constant(v, specs[k].dtype) for k, v in values.items()})
    # Strings by their bytes (an object array's tobytes() would be its pointers).
    as_bytes = lambda a: (b"\0".join(a.ravel().tolist()) if a.dtype == object else a.tobytes())
    out[name] = {k: hashlib.sha256(as_bytes(np.asarray(v.numpy()))).hexdigest()
                 for k, v in sorted(result.items())}
print("OUT " + json.dumps(out))
'''


def run(*args, cwd):
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def sha(*paths):
    digest = hashlib.sha256()
    for path in sorted(paths):
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def serve(path, requests, cwd):
    out = run("-c", _SERVE, path, json.dumps(requests), cwd=cwd)
    return json.loads([line for line in out.splitlines() if line.startswith("OUT ")][-1][4:])


def fingerprints(work):
    corpus = paths.data_path("bert_sample", "sample_text.txt")
    examples = os.path.join(REPO, "examples")
    prints = {}
    run("-m", "tfrecords.build_vocab", f"--input_file={corpus}", "--output_file=vocab.txt",
        "--vocab_size=2000", cwd=work)
    prints["vocab"] = sha(os.path.join(work, "vocab.txt"))
    run("-m", "tfrecords.create_pretraining_data", f"--input_file={corpus}",
        "--vocab_file=vocab.txt", "--output_dir=records", "--num_shards=2", "--dupe_factor=3",
        "--max_seq_length=64", "--max_predictions_per_seq=10", "--random_seed=7", cwd=work)
    shards = sorted(os.path.join(work, "records", n) for n in os.listdir(
        os.path.join(work, "records")) if n.endswith(".tfrecord"))
    prints["shards"] = sha(*shards)
    with open(os.path.join(work, "vocab.txt")) as f:
        config = dict(BERT_CONFIG, vocab_size=sum(1 for _ in f))
    with open(os.path.join(work, "bert_config.json"), "w") as f:
        json.dump(config, f)
    run(os.path.join(REPO, "run_pretraining.py"), "--bert_config_file=bert_config.json",
        "--input_file=records/*", "--vocab_file=vocab.txt", "--output_dir=bert", "--do_train",
        "--do_eval", "--num_train_steps=50", "--num_warmup_steps=5", "--train_batch_size=8",
        "--max_seq_length=64", "--max_predictions_per_seq=10", "--learning_rate=1e-3",
        "--max_eval_steps=5", "--deterministic", cwd=work)
    with open(os.path.join(work, "bert", "metrics.json")) as f:
        prints["bert_weights"] = json.load(f)["weights_sha256"]
    texts = {"text": ["The rain had only ceased.", "", "x" * 300]}
    prints["bert_saved_model"] = serve("bert/saved_model", {"serving_default": texts}, work)
    data = [f"--train_file={examples}/tiny_sentiment_train.tsv",
            f"--eval_file={examples}/tiny_sentiment_dev.tsv",
            f"--predict_file={examples}/tiny_sentiment_dev.tsv"]
    run(os.path.join(REPO, "run_classifier.py"), "--init_checkpoint=bert", *data,
        "--text_column=sentence", "--label_column=label", "--do_train", "--do_eval",
        "--do_predict", "--num_train_epochs=2", "--max_seq_length=32", "--deterministic",
        "--output_dir=classifier", cwd=work)
    prints["eval_results"] = sha(os.path.join(work, "classifier", "eval_results.txt"))
    prints["test_results"] = sha(os.path.join(work, "classifier", "test_results.tsv"))
    prints["classifier_saved_model"] = serve(
        "classifier/saved_model", {"serving_default": {"text_a": texts["text"]}}, work)
    run("-m", "tfbert.export_encoder", "--model_dir=bert", "--output_dir=encoder",
        "--max_seq_length=64", cwd=work)
    prints["encoder_saved_model"] = serve("encoder", {"serving_default": texts}, work)
    run(os.path.join(REPO, "run_pretraining.py"), "--model=gpt", "--output_dir=gpt",
        "--num_train_steps=50", "--num_warmup_steps=5", "--deterministic", cwd=work)
    with open(os.path.join(work, "gpt", "metrics.json")) as f:
        prints["gpt_weights"] = json.load(f)["weights_sha256"]
    greedy = {"serving_default": {"prompt": ["def ", ""], "max_new_tokens": 8,
                                  "temperature": 0.0, "seed": 1},
              "logits": {"token_ids": [[1, 2, 3]]}}
    prints["gpt_saved_model"] = serve("gpt/saved_model", greedy, work)
    run("-m", "tfgpt.export", "--checkpoint_dir=gpt", "--output_dir=gpt_export", cwd=work)
    prints["gpt_export"] = serve("gpt_export", greedy, work)
    return prints


def main(argv):
    del argv
    work = FLAGS.work_dir or tempfile.mkdtemp(prefix="unchanged-")
    os.makedirs(work, exist_ok=True)
    prints = fingerprints(work)
    with open(FLAGS.output, "w") as f:
        json.dump(prints, f, indent=2, sort_keys=True)
    print(f"Fingerprints of {len(prints)} artifacts: {FLAGS.output} (work folder {work})")
    if FLAGS.compare:
        with open(FLAGS.compare) as f:
            before = json.load(f)
        differ = sorted(k for k in set(before) | set(prints) if before.get(k) != prints.get(k))
        print("identical: " + ", ".join(sorted(set(prints) - set(differ))))
        print("DIFFERENT: " + (", ".join(differ) if differ else "none"))
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    app.run(main)
