"""run_translation.py end to end on a tiny generated corpus: it learns, resumes, scores and serves.

One training run (module fixture) is shared: a tiny Transformer learns the 240
German-English pairs of tests/tftasks/translation/tiny_parallel.py well enough
that its test BLEU passes 60; the same command with
more steps resumes from the checkpoint; the SavedModel translates raw text as
the in-process model does, in `tf.saved_model.load` and a session loader
(fresh process), and survives hostile input.
"""

import json
import os

import pytest
from absl import app, flags
from absl.testing import flagsaver

import run_translation
from tests.serving_clients import compare_loaders_of
from tests.tftasks.translation.tiny_parallel import tiny_pairs

TINY_MODEL = dict(hidden_size=32, intermediate_size=64, num_encoder_layers=1,
                  num_decoder_layers=1, num_attention_heads=2, vocab_size=90, dropout=0.0,
                  attention_dropout=0.0, max_tokens=512, learning_rate=3e-3,
                  num_warmup_steps=20, label_smoothing=0.1, max_decode_length=40, num_beams=2,
                  save_checkpoints_steps=100, seed=3)
HOSTILE = ["", "a" * 10_000, "Ein Hund \udcff läuft\x00 über die Straße."]  # \udcff: byte 0xff


def write_side(path, lines):
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write("".join(line + "\n" for line in lines))
    return str(path)


def run_script(**values):
    argv = ["run_translation.py"] + [f"--{k}" if v is True else f"--no{k}" if v is False
                                     else f"--{k}={v}" for k, v in values.items()]
    with flagsaver.flagsaver():
        flags.FLAGS.unparse_flags()
        flags.FLAGS(argv)
        run_translation.main(argv)
    with open(os.path.join(values["output_dir"], "metrics.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    pairs = tiny_pairs()
    train, test = pairs[::2] + pairs[1::4], pairs[1::4][:24]
    files = {}
    for name, rows in (("train", train), ("test", test)):
        files[f"{name}_source"] = write_side(folder / f"{name}.de", [s for s, _ in rows])
        files[f"{name}_target"] = write_side(folder / f"{name}.en", [t for _, t in rows])
    return files


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run") / "out")
    first = run_script(**corpus, **TINY_MODEL, output_dir=out, num_train_steps=100,
                       do_export=False, do_predict=False)
    resumed = run_script(**corpus, **TINY_MODEL, output_dir=out, num_train_steps=200)
    return out, first, resumed


def test_training_learns_the_corpus_and_scores_it_with_sacrebleu(trained):
    _, first, resumed = trained
    # An untrained model scores about 0 (its translations are repeated pieces).
    assert resumed["test"]["bleu"] >= 60.0, resumed["test"]
    assert "test" not in first  # --nodo_predict
    assert resumed["test"]["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert resumed["test"]["sentences"] == 24


def test_rerun_resumes_from_the_checkpoint(trained):
    out, first, resumed = trained
    assert first["train"]["global_step"] == 100
    assert resumed["train"]["global_step"] == 200
    with open(os.path.join(out, "test_translations.txt"), encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 24


def test_saved_model_translates_as_the_model_does_in_every_loader(trained, corpus):
    import tensorflow as tf
    out, _, _ = trained
    with open(corpus["test_source"], encoding="utf-8") as f:
        sources = f.read().splitlines()[:6]
    with open(os.path.join(out, "test_translations.txt"), encoding="utf-8") as f:
        expected = f.read().splitlines()[:6]
    path = os.path.join(out, "saved_model")
    serve = tf.saved_model.load(path).signatures["serving_default"]
    hostile = tf.constant([text.encode("utf-8", "surrogateescape") for text in HOSTILE])
    answers = serve(text=tf.concat([tf.constant(sources), hostile], 0))
    translations = [t.decode("utf-8") for t in answers["translation"].numpy()]
    assert translations[:6] == expected
    assert all(isinstance(t, str) for t in translations[6:])
    report = compare_loaders_of({path: {"serving_default": {"text": sources + HOSTILE[:2]}}})
    assert report[path]["serving_default"]["strings_equal"]
    assert max(report[path]["serving_default"]["max_abs_diff"].values()) <= 1e-5


def test_bad_options_are_usage_errors(corpus, tmp_path):
    with pytest.raises(app.UsageError, match="num_warmup_steps"):
        run_script(**corpus, **dict(TINY_MODEL, num_warmup_steps=50), output_dir=str(tmp_path),
                   num_train_steps=10)
    with pytest.raises(app.UsageError, match="test_target"):
        run_script(train_source=corpus["train_source"], train_target=corpus["train_target"],
                   test_source=corpus["test_source"], output_dir=str(tmp_path))
