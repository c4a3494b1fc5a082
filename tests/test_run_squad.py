"""run_squad.py end to end on a tiny SQuAD file: outputs, TFRecords, metrics, SavedModel.

One run (module fixture), typed as Google's README types it (--vocab_file,
--bert_config_file, --init_checkpoint=.../bert_model.ckpt, --do_train=True),
trains the tiny Hugging Face BertForQuestionAnswering fixture saved in
Google's layout (its span head as cls/squad/*) for a few steps from a .json.gz
file, predicts a file with answers and exports; the tests read what it wrote.
The SavedModel is also checked in a fresh process importing only tensorflow
and tensorflow_text.
"""

import gzip
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from absl import app, flags
from absl.testing import flagsaver

import run_squad
from tests.serving_clients import assert_loaders_agree
from tests.tftasks.squad.squad_files import FIXTURE, PARAGRAPHS, squad_json, write_squad
from tftasks.squad.records import cached_count

SETTINGS = dict(max_seq_length=48, doc_stride=16, max_query_length=12, train_batch_size=4,
                predict_batch_size=5, learning_rate=1e-3, seed=1)
LONG_CONTEXT = " ".join([PARAGRAPHS[0][0]] * 20)


def run_script(**values):
    values = dict(SETTINGS, **{"init_checkpoint": FIXTURE, **values})
    argv = ["run_squad.py"] + [f"--{k}" if v is True else f"--no{k}" if v is False
                               else f"--{k}={v}" for k, v in values.items()]
    with flagsaver.flagsaver():
        flags.FLAGS(argv)
        return run_squad.run()


@pytest.fixture(scope="module")
def squad_run(tmp_path_factory):
    """Google's command-line form on a Google-layout checkpoint (bert_model.ckpt + config + vocab)."""
    from tfbert import BertSpanLabeler
    folder = tmp_path_factory.mktemp("squad")
    google = folder / "google_bert"
    BertSpanLabeler.from_pretrained(FIXTURE).save_pretrained(str(google))
    train = folder / "train.json.gz"
    with gzip.open(train, "wt", encoding="utf-8") as f:
        json.dump(squad_json(PARAGRAPHS), f)
    dev = write_squad(folder / "dev.json")
    out = folder / "out"
    results = run_script(vocab_file=google / "vocab.txt",
                         bert_config_file=google / "bert_config.json",
                         init_checkpoint=google / "bert_model.ckpt", do_train="True",
                         train_file=train, do_predict="True", predict_file=dev,
                         num_train_epochs="2.0", output_dir=out)
    return results, out


def test_outputs_in_googles_formats(squad_run):
    results, out = squad_run
    ids = [qid for _, questions in PARAGRAPHS for qid, _, _ in questions]
    predictions = json.loads((out / "predictions.json").read_text())
    assert list(predictions) == ids and all(isinstance(v, str) for v in predictions.values())
    nbest = json.loads((out / "nbest_predictions.json").read_text())
    for qid in ids:
        assert nbest[qid][0]["text"] == predictions[qid]
        assert set(nbest[qid][0]) == {"text", "probability", "start_logit", "end_logit"}
    assert not (out / "null_odds.json").exists()  # SQuAD 1.1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["eval"]["total"] == 6 and 0 <= metrics["eval"]["f1"] <= 100
    assert metrics["eval"]["f1"] >= metrics["eval"]["exact_match"]
    train = results["train_data"]
    assert train["questions"] == 6 and train["features"] > 6  # several windows each
    assert results["num_train_steps"] == int(train["features"] / 4 * 2)
    lines = (out / "eval_results.txt").read_text().splitlines()
    assert lines == sorted(lines) and f"global_step = {results['steps']}" in lines
    assert "--max_seq_length=48" in (out / "flags.txt").read_text()


def test_train_records_have_googles_feature_names(squad_run):
    results, out = squad_run
    path = str(out / "train.tf_record")
    records = list(tf.data.TFRecordDataset(path))
    assert len(records) == results["train_data"]["features"]
    example = tf.train.Example.FromString(records[0].numpy())
    fields = example.features.feature
    assert set(fields) == {"unique_ids", "input_ids", "input_mask", "segment_ids",
                           "start_positions", "end_positions", "is_impossible"}
    assert fields["unique_ids"].int64_list.value == [1000000000]
    assert len(fields["input_ids"].int64_list.value) == 48
    # The cache is reused only when what it was made from is unchanged.
    key = json.loads((out / "train.tf_record.json").read_text())["key"]
    assert cached_count(path, key) == len(records)
    assert cached_count(path, dict(key, doc_stride=8)) is None


_LOADED = {}


def serve(path, questions, contexts):
    """The SavedModel's answers (loaded once per path)."""
    if str(path) not in _LOADED:
        _LOADED[str(path)] = tf.saved_model.load(str(path))
    out = _LOADED[str(path)].signatures["serving_default"](question=tf.constant(questions),
                                                           context=tf.constant(contexts))
    return {k: v.numpy() for k, v in out.items()}


def test_saved_model_answers_long_contexts_as_the_predictions(squad_run):
    _, out = squad_run
    nbest = json.loads((out / "nbest_predictions.json").read_text())
    questions, contexts, ids = [], [], []
    for context, items in PARAGRAPHS:
        for qid, question, _ in items:
            questions.append(question), contexts.append(context), ids.append(qid)
    questions.append("Where did the cat sit?"), contexts.append(LONG_CONTEXT)
    answers = serve(out / "saved_model", questions, contexts)
    for i, context in enumerate(contexts):
        text = answers["answer"][i].decode()
        assert context[answers["start"][i]:answers["end"][i]] == text and text
    # The same best span (start + end logit) as predictions.json's post-processing.
    best = [nbest[q][0]["start_logit"] + nbest[q][0]["end_logit"] for q in ids]
    np.testing.assert_allclose(answers["score"][:len(ids)], best, atol=1e-4)


def test_saved_model_survives_hostile_input(squad_run):
    _, out = squad_run
    hostile = [("", ""), ("Who?", ""), ("", "The cat sat."),
               ("Where?", "the mat " * 12500),                       # 100 KB
               ("What?", b"\xff\xfe broken \xc3 cat".decode("latin-1")),
               ("Who?", "the\x00cat\x01sat\x7f on\u200b the mat")]
    questions = [q for q, _ in hostile]
    contexts = [c for _, c in hostile]
    contexts[4] = b"\xff\xfe broken \xc3 cat"  # invalid UTF-8 bytes
    answers = serve(out / "saved_model", questions, contexts)
    assert answers["answer"][0] == b"" and answers["answer"][1] == b""
    for i in (2, 3, 5):
        context = contexts[i]
        assert context[answers["start"][i]:answers["end"][i]] == answers["answer"][i].decode()
    repaired = b"\xff\xfe broken \xc3 cat".decode("utf-8", errors="replace")
    assert repaired[answers["start"][4]:answers["end"][4]] == answers["answer"][4].decode()
    with pytest.raises(tf.errors.InvalidArgumentError, match="same number"):
        serve(out / "saved_model", ["a", "b"], ["c"])


def test_saved_model_loads_in_a_plain_tensorflow_process(squad_run, tmp_path):
    _, out = squad_run
    copy = tmp_path / "saved_model"
    shutil.copytree(out / "saved_model", copy)
    report = assert_loaders_agree(copy, {"serving_default": {
        "question": ["Where did the cat sit?", "", "Who played music?"],
        "context": [LONG_CONTEXT, "", PARAGRAPHS[0][0]]}}, atol=1e-5)
    assert report["serving_default"]["outputs"] == ["answer", "end", "score", "start"]


@pytest.mark.parametrize("values, flag", [
    (dict(do_train=True, output_dir="{tmp}/o"), "--train_file"),
    (dict(do_predict=True, predict_file="{tmp}/missing.json", output_dir="{tmp}/o"),
     "--predict_file"),
    (dict(do_predict=True, predict_file="{dev}", max_query_length=45, output_dir="{tmp}/o"),
     "--max_seq_length"),
    (dict(do_predict=True, predict_file="{dev}", doc_stride=0, output_dir="{tmp}/o"),
     "--doc_stride"),
    (dict(do_predict=True, predict_file="{dev}", max_seq_length=128, output_dir="{tmp}/o"),
     "--max_seq_length=128 exceeds"),
    (dict(do_predict=True, predict_file="{dev}"), "--output_dir"),
])
def test_usage_errors_name_the_flag(tmp_path, values, flag):
    dev = write_squad(tmp_path / "dev.json")
    values = {k: v.format(tmp=tmp_path, dev=dev) if isinstance(v, str) else v
              for k, v in values.items()}
    with pytest.raises(app.UsageError, match=flag):
        run_script(**values)
    assert not os.path.exists(tmp_path / "o")
