"""run_classifier.py --early_stopping_patience: training stops, best/ holds the peak's weights.

One in-process run of the script (tiny BERT, tiny TSV) whose evaluation
metric is scripted to peak at step 3 and then fall: with patience 3 and an
evaluation every step, training stops at step 6 of 12 and best/ (used for
the final evaluation) holds the weights of step 3. A rerun trains no further;
one with patience 0 (the last test: it changes the folder) goes on to step 12.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

import run_classifier  # noqa: F401  (conftest: this module uses run_classifier's flags)
from tests.test_run_classifier import model_dir, run_script, sentiment_rows, write_tsv  # noqa: F401
from tftasks.classification.session import ClassifierSession

SCRIPTED_ACCURACY = {1: 0.5, 2: 0.7, 3: 0.9, 4: 0.8, 5: 0.9, 6: 0.6}  # 5: a tie, no gain


@pytest.fixture(scope="module")
def stopped_run(model_dir, tmp_path_factory):  # noqa: F811
    """(results, output folder, flags, weights at each evaluated step, the session's model)."""
    folder = tmp_path_factory.mktemp("early")
    values = dict(train_file=write_tsv(folder / "train.tsv", sentiment_rows(24, 0)),
                  eval_file=write_tsv(folder / "dev.tsv", sentiment_rows(8, 1)),
                  output_dir=folder / "out", do_train=True, do_eval=True, do_export=False,
                  num_train_epochs=4, save_checkpoints_steps=1, keep_checkpoint_max=20,
                  early_stopping_patience=3)
    weights, models = {}, []
    real = ClassifierSession.eval_metrics

    def scripted(session, dataset):
        metrics = real(session, dataset)
        step = session.trainer.step
        weights[step] = [w.numpy().copy() for w in session.model.trainable_weights]
        models[:] = [session.model]
        return dict(metrics, accuracy=SCRIPTED_ACCURACY.get(step, 1.0))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ClassifierSession, "eval_metrics", scripted)
        results = run_script(model_dir, **values)
    return results, folder / "out", values, weights, models[0]


def test_training_stops_after_patience_evaluations(stopped_run):
    results, out, _, weights, _ = stopped_run
    assert results["num_train_steps"] == 12
    assert [h["step"] for h in results["eval_history"]] == [1, 2, 3, 4, 5, 6]
    assert sorted(weights) == [1, 2, 3, 4, 5, 6]
    expected = {"metric": "accuracy", "patience": 3, "best_step": 3, "stopped_at_step": 6}
    assert results["early_stopping"] == expected
    assert json.loads((out / "metrics.json").read_text())["early_stopping"] == expected
    # A checkpoint at the stopping step: the run can be continued from there.
    assert tf.train.latest_checkpoint(str(out)).endswith("ckpt-6")


def test_best_holds_the_peak_and_is_used(stopped_run):
    results, out, _, weights, model = stopped_run
    assert json.loads((out / "best" / "best.json").read_text())["step"] == 3
    assert results["steps"] == 3 and results["eval"]["accuracy"] == 0.9
    assert "global_step = 3\n" in (out / "eval_results.txt").read_text()
    # After the run the model holds best/'s weights: those of step 3, not of step 6.
    final = [w.numpy() for w in model.trainable_weights]
    for now, peak in zip(final, weights[3]):
        np.testing.assert_allclose(now, peak, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(a, b) for a, b in zip(final, weights[6]))


def test_rerun_trains_no_further(stopped_run, model_dir):  # noqa: F811
    results, out, values, _, _ = stopped_run
    again = run_script(model_dir, **values)
    assert again["early_stopping"] == results["early_stopping"]
    assert again["steps"] == 3 and again["eval"]["accuracy"] == 0.9
    assert again["train"] == results["train"]  # the earlier run's, kept
    assert tf.train.latest_checkpoint(str(out)).endswith("ckpt-6")
    assert [h["step"] for h in again["eval_history"]] == [1, 2, 3, 4, 5, 6]


def test_patience_zero_continues_from_the_stop(stopped_run, model_dir):  # noqa: F811
    _, out, values, _, _ = stopped_run
    again = run_script(model_dir, **dict(values, early_stopping_patience=0))
    assert tf.train.latest_checkpoint(str(out)).endswith("ckpt-12")
    assert [h["step"] for h in again["eval_history"]] == list(range(1, 13))
    assert "early_stopping" not in again  # it described the earlier training only
    assert "early_stopping" not in json.loads((out / "metrics.json").read_text())
