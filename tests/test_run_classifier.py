"""run_classifier.py end to end: local files, GLUE, TFDS, outputs, best checkpoint, export.

Runs the script's `run()` in this process (absl flags set per call) with a
tiny BERT; one subprocess checks the export in a process that imports only
tensorflow and tensorflow_text.
"""

import json
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from absl import app, flags
from absl.testing import flagsaver

import run_classifier
from tests.testing import SMALL_VOCAB, assert_close, write_vocab
from tfbert import BertClassifier, BertTokenizer
from tftasks.classification.head import read_head, resolve_pooling
from tftasks.common.errors import DataError

CONFIG = dict(vocab_size=len(SMALL_VOCAB), hidden_size=32, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=64, max_position_embeddings=32,
              type_vocab_size=2)
POSITIVE = ["the movie is very good", "good fun", "it was good", "the cat is good !"]
NEGATIVE = ["the movie is very bad", "not fun", "it was bad", "the dog is bad ."]
HOSTILE = [b"", b"\xff\xfe broken \xc3", ("good " * 200_000).encode()]  # 1 MB


def sentiment_rows(n, seed):
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        good = rng.random() < 0.5
        rows.append((rng.choice(POSITIVE if good else NEGATIVE), "pos" if good else "neg"))
    return rows


def write_tsv(path, rows, header=("sentence", "label")):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_bert")
    write_vocab(folder)
    (folder / "bert_config.json").write_text(json.dumps(CONFIG))
    return folder


def run_script(model_dir, **values):
    """`run_classifier.run()` with these flags (and the tiny model's config and vocab)."""
    values = dict(dict(bert_config_file=model_dir / "bert_config.json",
                       vocab_file=model_dir / "vocab.txt", max_seq_length=16,
                       train_batch_size=8, eval_batch_size=16, learning_rate=3e-3,
                       text_column="sentence", seed=1), **values)
    argv = ["run_classifier.py"] + [f"--{k}" if v is True else f"--no{k}" if v is False
                                    else f"--{k}={v}" for k, v in values.items()]
    with flagsaver.flagsaver():
        flags.FLAGS(argv)
        return run_classifier.run()


@pytest.fixture(scope="module")
def tsv_run(model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tsv")
    train = write_tsv(folder / "train.tsv", sentiment_rows(48, 0))
    dev = write_tsv(folder / "dev.tsv", sentiment_rows(16, 1))
    out = folder / "out"
    results = run_script(model_dir, train_file=train, eval_file=dev, predict_file=dev,
                         output_dir=out, do_train=True, do_eval=True, do_predict=True,
                         num_train_epochs=3, save_checkpoints_steps=4)
    return results, out, folder


def test_outputs_in_googles_formats(tsv_run):
    results, out, _ = tsv_run
    assert results["labels"] == ["neg", "pos"] and results["num_train_steps"] == 18
    lines = (out / "eval_results.txt").read_text().splitlines()
    keys = [line.split(" = ")[0] for line in lines]
    assert keys == sorted(keys) and {"eval_accuracy", "eval_f1", "eval_macro_f1",
                                     "eval_matthews_corrcoef", "eval_loss", "global_step",
                                     "loss"} <= set(keys)
    probabilities = np.loadtxt(out / "test_results.tsv", delimiter="\t")
    assert probabilities.shape == (16, 2)
    assert_close(probabilities.sum(axis=1), np.ones(16), 1e-6)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["eval"]["accuracy"] == results["eval"]["accuracy"]
    assert metrics["eval"]["accuracy"] > 0.5, metrics["eval_history"]


def test_best_checkpoint_is_kept_and_used(tsv_run, model_dir):
    results, out, folder = tsv_run
    history = results["eval_history"]
    assert [h["step"] for h in history] == [4, 6, 8, 12, 16, 18]  # every 4 steps + epoch ends
    best_step = max(history, key=lambda h: h["accuracy"])["step"]  # first of the maxima
    best = json.loads((out / "best" / "best.json").read_text())
    assert best["step"] == best_step and results["steps"] == best_step
    assert {"bert_config.json", "vocab.txt", "labels.json", "bert_model.ckpt.index"} <= set(
        os.listdir(out / "best"))
    eval_results = (out / "eval_results.txt").read_text()
    assert f"global_step = {best_step}\n" in eval_results
    # Evaluating the run again (no training) uses best/ and finds the same figures.
    again = run_script(model_dir, eval_file=folder / "dev.tsv", output_dir=out,
                       do_eval=True)
    assert again["eval"]["accuracy"] == pytest.approx(best["metrics"]["accuracy"])
    assert again["eval"]["loss"] == pytest.approx(best["metrics"]["loss"], abs=1e-5)


_SERVE = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401
    export_dir, inputs_file, outputs_file = sys.argv[1:4]
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    inputs = dict(np.load(inputs_file))
    outputs = serve(**{k: tf.constant(v) for k, v in inputs.items()})
    assert not [m for m in ("tfbert", "tfcore", "keras_hub") if m in sys.modules]
    np.savez(outputs_file, **{k: v.numpy().astype(bytes) if v.dtype == tf.string
                              else v.numpy() for k, v in outputs.items()})
""")


def serve_in_fresh_process(export_dir, inputs, tmp_path):
    """`serving_default(**inputs)` in a process importing only TF and tensorflow_text."""
    paths = [str(tmp_path / n) for n in ("serve.py", "inputs.npz", "outputs.npz")]
    with open(paths[0], "w") as f:
        f.write(_SERVE)
    np.savez(paths[1], **{k: np.asarray(v, dtype=bytes) for k, v in inputs.items()})
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH="")
    result = subprocess.run([sys.executable] + [paths[0], str(export_dir)] + paths[1:],
                            capture_output=True, text=True, env=env, cwd=str(tmp_path),
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(paths[2]))


def test_export_answers_raw_text_in_a_fresh_process(tsv_run, tmp_path):
    results, out, _ = tsv_run
    texts = [t.encode() for t in POSITIVE + NEGATIVE] + HOSTILE
    outputs = serve_in_fresh_process(out / "saved_model", {"text_a": texts}, tmp_path)
    model = BertClassifier.from_pretrained(str(out / "best"),
                                           pooling=read_head(str(out / "best"))[1])
    tokenizer = BertTokenizer(str(out / "best" / "vocab.txt"))
    logits = np.asarray(model(tokenizer(texts, max_seq_length=16), training=False))
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert_close(outputs["probabilities"], expected, 1e-5, "served probabilities")
    names = np.array(results["labels"])[expected.argmax(axis=1)]
    assert [s.decode() for s in outputs["label"]] == list(names)
    assert np.all(np.isfinite(outputs["probabilities"]))


def write_mrpc(folder):
    folder.mkdir()
    header = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    rng = random.Random(2)
    for name, n in (("train.tsv", 24), ("dev.tsv", 8), ("test.tsv", 5)):
        rows = []
        for i in range(n):
            a = rng.choice(POSITIVE + NEGATIVE)
            same = rng.random() < 0.5
            b = a if same else rng.choice(POSITIVE + NEGATIVE)
            rows.append(f"{int(same and a == b)}\t{i}\t{i}\t{a}\t{b}\n")
        with open(folder / name, "w") as f:
            f.write((header if name != "test.tsv" else "index" + header[7:]) + "".join(rows))
    return str(folder)


def test_glue_pair_task_exports_text_a_and_text_b(model_dir, tmp_path):
    import tensorflow as tf
    data_dir = write_mrpc(tmp_path / "MRPC")
    out = tmp_path / "out"
    results = run_script(model_dir, task_name="MRPC", data_dir=data_dir, output_dir=out,
                         do_train=True, do_eval=True, do_predict=True, num_train_epochs=1)
    assert results["task"] == "mrpc" and results["labels"] == ["0", "1"]
    assert np.loadtxt(out / "test_results.tsv").shape == (5, 2)
    serve = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    assert sorted(serve.structured_input_signature[1]) == ["text_a", "text_b"]
    answer = serve(text_a=tf.constant(["the cat", ""]), text_b=tf.constant(["a cat", "x"]))
    assert answer["probabilities"].shape == (2, 2) and answer["label"].dtype == tf.string
    with pytest.raises(tf.errors.InvalidArgumentError, match="same number of strings"):
        serve(text_a=tf.constant(["a", "b"]), text_b=tf.constant(["c"]))
    with pytest.raises(DataError, match=r"train\.tsv: header column 8 is None, expected "
                                        r"'sentence1'.*--task_name=mnli"):
        run_script(model_dir, task_name="mnli", data_dir=data_dir, output_dir=tmp_path / "o2",
                   do_train=True, do_eval=True)


def test_tfds_dataset_by_name(model_dir, tmp_path):
    import tensorflow_datasets as tfds
    with tfds.testing.mock_data(num_examples=16):
        results = run_script(model_dir, tfds_name="glue/sst2", output_dir=tmp_path / "out",
                             do_train=True, do_eval=True, num_train_epochs=1, do_export=False)
    assert results["task"] == "glue/sst2" and results["labels"] == ["negative", "positive"]
    assert results["steps"] == 2 and results["eval"]["examples"] == 16


def exported_outputs(out, text_a, text_b=None, separator=","):
    """What the export of `out/best` answers (the signature's function, called eagerly)."""
    from tftasks.classification.export import ClassifierExport
    best = str(out / "best")
    space, pooling = read_head(best)
    model = BertClassifier.from_pretrained(best, pooling=pooling, task_type=space.task_type)
    export = ClassifierExport(model, BertTokenizer(os.path.join(best, "vocab.txt")),
                              space.names, 16, text_b is not None, separator)
    return export.classify(text_a, text_b)


def test_regression_from_csv_pairs(model_dir, tmp_path):
    rng = random.Random(3)
    rows = ["a,b,score\n"] + [f'"{rng.choice(POSITIVE)}","{rng.choice(NEGATIVE)}",'
                              f"{rng.uniform(0, 5):.2f}\n" for _ in range(16)]
    (tmp_path / "sts.csv").write_text("".join(rows))
    out = tmp_path / "out"
    results = run_script(model_dir, train_file=tmp_path / "sts.csv", eval_file=tmp_path /
                         "sts.csv", predict_file=tmp_path / "sts.csv", text_column="a",
                         text_b_column="b", label_column="score", task_type="regression",
                         output_dir=out, do_train=True, do_eval=True, do_predict=True,
                         num_train_epochs=1, pooling="mean", do_export=False)
    assert {"pearson", "spearman", "mean_squared_error"} <= set(results["eval"])
    assert read_head(str(out / "best"))[1] == "mean"
    assert results["best_metric"] == "pearson"
    assert np.loadtxt(out / "test_results.tsv").shape == (16,)
    served = exported_outputs(out, ["good", ""], ["bad", "x"])
    assert list(served) == ["score"] and served["score"].shape == (2,)


def test_multilabel_from_jsonl(model_dir, tmp_path):
    rows = [{"sentence": t, "tags": tags} for t, tags in
            [("good fun", "pos|fun"), ("not fun", "neg"), ("the cat is good", ["pos", "cat"]),
             ("the dog is bad", "neg|dog"), ("it was good", "pos"), ("bad world", "")] * 3]
    path = tmp_path / "tags.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    results = run_script(model_dir, train_file=path, eval_file=path, predict_file=path,
                         label_column="tags", label_separator="|", task_type="multilabel",
                         output_dir=out, do_train=True, do_eval=True, do_predict=True,
                         num_train_epochs=1, learning_rate=1e-2, do_export=False)
    assert results["labels"] == ["cat", "dog", "fun", "neg", "pos"]
    assert {"micro_f1", "macro_f1", "subset_accuracy"} <= set(results["eval"])
    assert np.loadtxt(out / "test_results.tsv").shape == (18, 5)
    answer = exported_outputs(out, ["good fun", "bad"], separator="|")
    probabilities, labels = answer["probabilities"].numpy(), answer["label"].numpy()
    for row, label in zip(probabilities, labels):
        chosen = [n for n, p in zip(results["labels"], row) if p >= 0.5]
        assert label.decode() == "|".join(chosen)


def test_pooling_follows_the_checkpoint(tmp_path):
    assert resolve_pooling("auto", None) == "pooler"
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(
        {"pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True}))
    assert resolve_pooling("auto", str(tmp_path)) == "mean"  # sentence-transformers folder
    assert resolve_pooling("pooler", str(tmp_path)) == "pooler"
    assert resolve_pooling("auto", str(tmp_path), saved="pooler") == "pooler"
    with pytest.raises(ValueError, match="the run being continued used pooler"):
        resolve_pooling("mean", None, saved="pooler")


def test_bad_data_is_named(model_dir, tmp_path):
    train = write_tsv(tmp_path / "train.tsv", sentiment_rows(8, 0))
    common = dict(train_file=train, output_dir=tmp_path / "out", do_train=True, do_eval=True)
    unseen = write_tsv(tmp_path / "dev.tsv", [("good", "pos"), ("meh", "neutral")])
    with pytest.raises(DataError, match=r"dev\.tsv, row 3: column 'label': label 'neutral' "
                                        r"is not one of the labels learned from .*train\.tsv"):
        run_script(model_dir, eval_file=unseen, **common)
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("sentence\tlabel\ngood\tpos\nno label\n")
    with pytest.raises(DataError, match=r"ragged\.tsv, row 3: 1 column\(s\), but column "
                                        r"'label' is number 1"):
        run_script(model_dir, eval_file=ragged, **common)
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(DataError, match=r"empty\.tsv: the file is empty"):
        run_script(model_dir, eval_file=tmp_path / "empty.tsv", **common)
    assert not os.path.exists(tmp_path / "out" / "checkpoint")  # refused before training


@pytest.mark.parametrize("values, message", [
    (dict(train_file="x.tsv"), "At least one of --do_train"),
    (dict(do_train=True), "exactly one data source"),
    (dict(do_train=True, train_file="x.tsv", tfds_name="imdb_reviews"), "exactly one"),
    (dict(do_eval=True, train_file="x.tsv"), "needs --eval_file"),
    (dict(do_train=True, task_name="nope", data_dir="."), "Unknown --task_name 'nope'"),
    (dict(do_train=True, task_name="cola", data_dir=".", task_type="regression"),
     "contradicts --task_name=cola"),
    (dict(do_train=True, tfds_name="imdb_reviews", task_type="multilabel"), "needs local files"),
    (dict(do_train=True, train_file="x.tsv", learning_rate=0), "--learning_rate must be positive"),
    (dict(do_train=True, train_file="x.tsv", warmup_proportion=float("nan")),
     r"--warmup_proportion must be in \[0, 1\], got nan"),
    (dict(do_train=True, train_file="x.tsv", max_seq_length=64), "exceeds the model's "
     "max_position_embeddings 32"),
    (dict(do_eval=True, eval_file="x.tsv"), "Nothing to evaluate"),
])
def test_usage_errors_before_any_work(model_dir, tmp_path, values, message):
    with pytest.raises(app.UsageError, match=message):
        run_script(model_dir, output_dir=tmp_path / "out", **values)
    assert not os.path.exists(tmp_path / "out")


def test_resume_continues_and_refuses_other_labels(model_dir, tsv_run, tmp_path):
    # Last in this file: it trains the shared run further (18 -> 24 steps).
    _, out, folder = tsv_run
    common = dict(train_file=folder / "train.tsv", output_dir=out, do_train=True,
                  save_checkpoints_steps=4, do_export=False)
    resumed = run_script(model_dir, num_train_epochs=4, **common)
    assert resumed["steps"] == 24 and resumed["train"]["timed_steps"] <= 5  # 6 new steps
    assert os.path.exists(out / "ckpt-24.index")
    other = write_tsv(tmp_path / "other.tsv", [("good", "yes"), ("bad", "no")])
    with pytest.raises(DataError, match="differ from those of the run being continued"):
        run_script(model_dir, **dict(common, train_file=other))
