"""Shared training flags (tfcore.cli) -> PretrainingConfig, and the one task protocol."""

import pytest
from absl import flags

from tfcore import cli
from tfcore.training_options import TrainingOptions
from tftasks.pretraining import PretrainingConfig


def test_training_flags_are_the_callers_and_fill_a_config_by_name():
    flag_values = flags.FlagValues()
    holders = cli.define_training_flags({"adam_bias_correction": None},
                                        flag_values=flag_values)
    holders.update(cli.define_tpu_flags(flag_values=flag_values))
    # TrainingOptions is exactly the shared training flags plus Google's TPU flags.
    assert set(holders) == {field.name for field in
                            TrainingOptions.__dataclass_fields__.values()}
    flag_values(["prog", "--seed=7", "--dtype=bfloat16", "--use_tpu"])
    # Registered for this module, so write_run_record (flags.txt) lists them.
    assert flag_values.find_module_defining_flag("seed") == __name__
    config = cli.config_from_flags(PretrainingConfig, flag_values, model="gpt")
    assert (config.seed, config.dtype, config.use_tpu, config.model) == (7, "bfloat16", True,
                                                                         "gpt")
    assert config.adam_bias_correction is None and config.max_seq_length == 128
    with pytest.raises(ValueError, match="No such shared flag"):
        cli.define_training_flags({"num_train_epochs": 1}, flag_values=flags.FlagValues())


def test_pretraining_tasks_implement_the_trainer_protocol():
    from tfbert.pretrainer import BertPretrainingTask
    from tfcore.training import TrainingTask
    from tfgpt import LMTask
    for task in (BertPretrainingTask(), LMTask()):
        assert isinstance(task, TrainingTask) and task.loss_names
    with pytest.raises(NotImplementedError, match="denominators"):
        TrainingTask().denominators({})
