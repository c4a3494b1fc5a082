"""run_ner.py end to end on a tiny BERT (tests/fixtures/hf_bert_tiny) and tiny CoNLL files:
outputs and honest metrics, the raw-text SavedModel's character spans and loaders, an
evaluation-only rerun, usage errors and TFDS (mock data).

One training run (module fixture) is shared by the tests; `run_ner.run()` runs in this
process with absl flags set per call.
"""

import json
import random

import numpy as np
import pytest
from absl import app, flags
from absl.testing import flagsaver

import run_ner
from tests.serving_clients import assert_loaders_agree
from tftasks.common.errors import DataError
from tftasks.common.outputs import read_eval_results
from tftasks.ner.conll import read_conll
from tftasks.ner.metrics import entity_scores

MODEL = "tests/fixtures/hf_bert_tiny"
PEOPLE = ["Alice", "Bob", "Zoë"]
PLACES = [["Paris"], ["New", "York"], ["Zürich"]]
FILLER = ["the", "cat", "is", "in", "a", "house", "with", "dog", "and", "sat"]


def sentence(rng, length=None):
    words, tags = [], []
    while len(words) < (length or rng.randint(3, 8)):
        r = rng.random()
        if r < 0.2:
            words.append(rng.choice(PEOPLE))
            tags.append("B-PER")
        elif r < 0.4:
            place = rng.choice(PLACES)
            words += place + ["city"]
            tags += ["B-LOC"] + ["I-LOC"] * len(place)
        else:
            words.append(rng.choice(FILLER))
            tags.append("O")
    return words, tags


def write_conll(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        f.write("-DOCSTART- -X- -X- O\n\n")
        for words, tags in sentences:
            f.write("".join(f"{w}\t{t}\n" for w, t in zip(words, tags)) + "\n")
    return str(path)


def run_script(**values):
    values = dict(dict(init_checkpoint=MODEL, max_seq_length=24, train_batch_size=8,
                       eval_batch_size=16, learning_rate=3e-3, seed=1), **values)
    argv = ["run_ner.py"] + [f"--{k}" if v is True else f"--no{k}" if v is False
                             else f"--{k}={v}" for k, v in values.items()]
    with flagsaver.flagsaver():
        flags.FLAGS(argv)
        return run_ner.run()


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ner")
    rng = random.Random(0)
    train = write_conll(folder / "train.conll", [sentence(rng) for _ in range(96)])
    dev_sentences = [sentence(rng) for _ in range(15)] + [sentence(rng, 30)]  # > 22 pieces
    dev = write_conll(folder / "dev.conll", dev_sentences)
    out = folder / "out"
    results = run_script(train_file=train, eval_file=dev, predict_file=dev, output_dir=out,
                         do_train=True, do_eval=True, do_predict=True, num_train_epochs=4,
                         save_checkpoints_steps=20)
    return results, out, dev


def test_outputs_and_honest_metrics(ner_run):
    results, out, dev = ner_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tags"] == ["O", "B-LOC", "B-PER", "I-LOC"] and metrics["tag_scheme"] == "IOB2"
    assert json.loads((out / "labels.json").read_text())["tags"] == metrics["tags"]
    assert metrics["eval"]["f1"] > 0.6, metrics["eval"]       # learnable: names and places
    assert set(metrics["eval"]["per_type"]) == {"LOC", "PER"}
    assert (out / "best" / "labels.json").exists()
    text = (out / "eval_results.txt").read_text()
    assert read_eval_results(out / "eval_results.txt")["eval_f1"] == pytest.approx(
        metrics["eval"]["f1"])
    assert "PER" in text and "precision" in text
    # test_results.conll: every word of dev (the long sentence too), gold then predicted.
    gold = read_conll(dev)
    lines = [line.split(" ") for line in (out / "test_results.conll").read_text().split("\n")]
    rows = [r for r in lines if r != [""]]
    assert [r[0] for r in rows] == [w for s in gold.words for w in s]
    assert [r[1] for r in rows] == [t for s in gold.tags for t in s]
    predicted, i = [], 0
    for words in gold.words:
        predicted.append([r[2] for r in rows[i:i + len(words)]])
        i += len(words)
    rescored = entity_scores(gold.tags, predicted)
    assert rescored["f1"] == pytest.approx(metrics["predict"]["f1"])
    assert metrics["predict"]["f1"] == pytest.approx(metrics["eval"]["f1"])
    assert rescored["entities"] == sum(t.startswith("B-") for s in gold.tags for t in s)


TEXTS = ["Alice is in Paris city with the cat", "Zoë sat in Zürich city", "",
         "the dog and New York city , Bob", "x\x01\x07 Alice\tParis city\n", "Ünï Alice " * 40]


def test_saved_model_entities_have_character_spans(ner_run):
    import tensorflow as tf
    _, out, _ = ner_run
    serve = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    result = {k: v.numpy() for k, v in serve(text=tf.constant(TEXTS)).items()}
    assert result["num_entities"][2] == 0 and result["entity_text"].shape[0] == len(TEXTS)
    found = []
    for i, text in enumerate(TEXTS):
        for j in range(result["num_entities"][i]):
            start, end = result["entity_start"][i, j], result["entity_end"][i, j]
            entity = result["entity_text"][i, j].decode()
            assert text[start:end] == entity, (i, j, text, start, end, entity)
            assert 0 < result["entity_score"][i, j] <= 1
            found.append((entity, result["entity_type"][i, j].decode()))
    assert ("Zoë", "PER") in found and ("Paris city", "LOC") in found, found
    long_words = result["word_tag"][5]
    assert 0 < (long_words != b"").sum() < 80   # truncated to max_seq_length - 2 pieces
    hostile = serve(text=tf.constant([b"\xff\xfe Bob \xc3", ("Paris " * 20000).encode()]))
    assert hostile["num_entities"].shape == (2,)


def test_session_loader_agrees(ner_run):
    _, out, _ = ner_run
    assert_loaders_agree(str(out / "saved_model"), {"serving_default": {"text": TEXTS[:4]}},
                         atol=1e-5)


def test_evaluation_only_rerun_uses_best_and_saved_tags(ner_run, tmp_path):
    results, out, dev = ner_run
    again = run_script(eval_file=dev, output_dir=out, do_eval=True)
    assert again["tags"] == results["tags"]
    assert again["eval"]["f1"] == pytest.approx(results["eval"]["f1"])
    assert again["steps"] == results["best"]["step"]


@pytest.mark.parametrize("values, message", [
    (dict(do_train=True), "exactly one data source"),
    (dict(do_eval=True, train_file="x.conll"), "--do_eval needs --eval_file"),
    (dict(do_train=True, train_file="missing.conll"), "--train_file=missing.conll: no such"),
    (dict(do_eval=True, eval_file=__file__, max_seq_length=2), "--max_seq_length"),
    (dict(do_eval=True, eval_file=__file__, learning_rate=0), "--learning_rate"),
])
def test_usage_errors_name_the_flag(tmp_path, values, message):
    with pytest.raises(app.UsageError, match=message):
        run_script(output_dir=tmp_path / "out", **values)


def test_bad_data_names_the_line(tmp_path):
    train = tmp_path / "train.conll"
    train.write_text("Alice B-PER\nsat\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"train\.conll, line 2: expected a token and a tag"):
        run_script(train_file=train, output_dir=tmp_path / "out", do_train=True)


def test_tfds_mock_data(tmp_path):
    import tensorflow as tf
    import tensorflow_datasets as tfds
    rng = np.random.default_rng(0)

    def as_dataset(self, *args, **kwargs):
        def rows():
            for n in (3, 5, 4):
                yield {"tokens": np.array([b"Alice", b"in", b"Paris", b"now", b"x"][:n]),
                       "ner": rng.integers(0, 9, n), "pos": np.zeros(n, np.int64),
                       "chunks": np.zeros(n, np.int64)}
        return tf.data.Dataset.from_generator(rows, output_signature={
            "tokens": tf.TensorSpec([None], tf.string), "ner": tf.TensorSpec([None], tf.int64),
            "pos": tf.TensorSpec([None], tf.int64), "chunks": tf.TensorSpec([None], tf.int64)})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        results = run_script(tfds_name="conll2003", output_dir=tmp_path / "out", do_eval=True)
    assert results["task"] == "conll2003" and results["tags"][0] == "O"
    assert len(results["tags"]) == 9 and results["eval"]["words"] == 12
    with tfds.testing.mock_data(num_examples=2):  # random lengths: tokens != tags
        with pytest.raises(DataError, match=r"tfds:conll2003/train, record 1: \d+ tokens but"):
            run_script(tfds_name="conll2003", output_dir=tmp_path / "o2", do_train=True)
