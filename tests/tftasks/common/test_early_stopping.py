"""The early-stopping rule over an evaluation history, and its option checks."""

import pytest

from tftasks.classification.config import ClassifierConfig
from tftasks.common.early_stopping import early_stopping_state
from tftasks.common.errors import ConfigError
from tftasks.ner.config import NerConfig
from tftasks.squad.config import SquadConfig
from tfcore.training_options import OptionError


def history(metric, values, every=10):
    return [{"step": every * (i + 1), metric: v} for i, v in enumerate(values)]


def test_stops_after_patience_evaluations_without_improvement():
    # Peaks at step 30; 40, 50 (a tie is no improvement), 60 do not beat it.
    entries = history("accuracy", [0.5, 0.7, 0.9, 0.8, 0.9, 0.6, 0.95])
    state = early_stopping_state(entries, "accuracy", patience=3)
    assert state == {"metric": "accuracy", "patience": 3, "best_step": 30,
                     "stopped_at_step": 60}
    assert early_stopping_state(entries, "accuracy", 2)["stopped_at_step"] == 50
    # Not yet reached: training goes on; patience 0 never stops.
    assert early_stopping_state(entries[:5], "accuracy", 3)["stopped_at_step"] is None
    assert early_stopping_state(entries, "accuracy", 4)["best_step"] == 70
    assert early_stopping_state(entries, "accuracy", 0)["stopped_at_step"] is None


def test_lower_is_better_order_and_missing_metric():
    entries = history("loss", [0.9, 0.4, 0.5, 0.45, 0.3])[::-1]  # any order
    assert early_stopping_state(entries, "loss", 2)["stopped_at_step"] == 40
    entries.append({"step": 35, "accuracy": 1.0})  # another metric: skipped
    assert early_stopping_state(entries, "loss", 2) == {
        "metric": "loss", "patience": 2, "best_step": 20, "stopped_at_step": 40}


@pytest.mark.parametrize("config_class", [ClassifierConfig, NerConfig, SquadConfig])
def test_patience_needs_do_eval_and_is_not_negative(config_class, tmp_path):
    data = tmp_path / "train.txt"
    data.write_text("x\n")
    values = dict(output_dir=str(tmp_path / "out"), do_train=True, train_file=str(data))
    with pytest.raises(ConfigError, match="--early_stopping_patience=2 needs --do_eval"):
        config_class(early_stopping_patience=2, **values).validate()
    with pytest.raises(OptionError, match="--early_stopping_patience must be >= 0"):
        config_class(early_stopping_patience=-1, **values).validate()
