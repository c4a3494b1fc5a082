"""ClassifierConfig without absl: defaults as run_classifier's flags, errors naming the flag."""

import dataclasses

import pytest

from tftasks.classification import ClassifierConfig
from tftasks.common.errors import OptionError


def local(tmp_path, **changes):
    return ClassifierConfig(train_file="train.tsv", do_train=True,
                            output_dir=str(tmp_path / "out"), **changes)


def test_a_usable_config_passes_and_is_frozen(tmp_path):
    config = local(tmp_path)
    config.validate()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1
    assert (config.adam_bias_correction, config.max_seq_length, config.weight_decay) == (
        False, 128, 0.01)


@pytest.mark.parametrize("changes, message", [
    (dict(do_train=False), "--do_train, --do_eval or --do_predict"),
    (dict(output_dir=None), "--output_dir is required"),
    (dict(tfds_name="glue/sst2"), "exactly one data source"),
    (dict(data_dir="."), "--data_dir needs --task_name"),
    (dict(do_eval=True), "--do_eval with local files needs --eval_file"),
    (dict(task_type="x"), "--task_type must be one of"),
    (dict(pooling="cls"), "--pooling must be one of"),
    (dict(warmup_proportion=float("nan")), "--warmup_proportion must be in"),
    (dict(train_batch_size=0), "--train_batch_size must be positive"),
    (dict(steps_per_execution=0), "--steps_per_execution must be positive"),
    (dict(max_seq_length=2), "--max_seq_length must be at least 3"),
])
def test_errors_name_the_flag(tmp_path, changes, message):
    with pytest.raises(OptionError, match=message.replace("(", r"\(")):
        local(tmp_path).replace(**changes).validate()


def test_glue_task_type_must_agree(tmp_path):
    config = ClassifierConfig(task_name="sts-b", data_dir=str(tmp_path), do_train=True,
                              output_dir=str(tmp_path / "out"))
    config.validate()  # task_type None: the task's (regression)
    with pytest.raises(OptionError, match="--task_type=classification contradicts"):
        config.replace(task_type="classification").validate()
    with pytest.raises(OptionError, match="Unknown --task_name 'glue'"):
        config.replace(task_name="glue").validate()
