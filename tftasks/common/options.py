"""`FineTuningOptions`: the options every fine-tuning run shares beside the training ones.

The fields are the flags of `tfcore.cli.define_fine_tuning_flags`
(run_classifier.py, run_squad.py, run_ner.py): `early_stopping_patience`
(0: off): stop training after that many evaluations in a row that do not
beat the best one; needs `do_eval` (the evaluations). TensorFlow-free.

Example:

    @dataclasses.dataclass(frozen=True)
    class MyConfig(FineTuningOptions):
        do_eval: bool = False

    MyConfig(early_stopping_patience=3).validate()
    # ConfigError: --early_stopping_patience=3 needs --do_eval ...
"""

import dataclasses

from tfcore.training_options import TrainingOptions, check_ranges
from tftasks.common.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class FineTuningOptions(TrainingOptions):
    """`TrainingOptions` plus `early_stopping_patience` (evaluations; 0: off)."""

    early_stopping_patience: int = 0

    def validate(self):
        """Raises `OptionError`/`ConfigError` naming the first option that cannot work."""
        super().validate()
        check_ranges(self, (("early_stopping_patience", lambda v: v >= 0, ">= 0 (0: off)"),))
        if self.early_stopping_patience and not getattr(self, "do_eval", False):
            raise ConfigError(f"--early_stopping_patience={self.early_stopping_patience} needs "
                              "--do_eval: training stops on the periodic evaluations.")
