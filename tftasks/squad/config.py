"""`SquadConfig`: one run of `run_squad.py`; fields == its flag names.

Google's run_squad.py options (same names and defaults), the shared training
options (`tfcore.training_options.TrainingOptions`), the fine-tuning ones
(`FineTuningOptions`: `early_stopping_patience`) and ours: `do_eval`
(evaluate on `predict_file` every `save_checkpoints_steps`, keeping `best/`
by F1), `max_train_rows`, the export. `do_lower_case` None means "decide":
a Hugging Face folder's `tokenizer_config.json`, else True (Google's default).

`validate()` raises `ConfigError` naming the flag before anything is read or
written.

Example:

    config = SquadConfig(init_checkpoint="all-MiniLM-L6-v2", train_file="train-v1.1.json.gz",
                         predict_file="dev-v1.1.json", do_train=True, do_predict=True,
                         output_dir="out", max_seq_length=256)
    config.validate()
"""

import dataclasses
import os
from typing import Optional

from tfcore.training_options import check_positive, check_ranges
from tftasks.common.errors import ConfigError
from tftasks.common.options import FineTuningOptions

RANGES = (
    ("learning_rate", lambda v: v > 0, "positive"),
    ("num_train_epochs", lambda v: v > 0, "positive"),
    ("warmup_proportion", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("max_train_rows", lambda v: v >= 0, ">= 0 (0: all questions)"),
    ("max_query_length", lambda v: v >= 0, ">= 0"),
)


@dataclasses.dataclass(frozen=True)
class SquadConfig(FineTuningOptions):
    """The options of one run; see the module doc and `run_squad.py --help`."""

    # Google's run_squad.py.
    vocab_file: Optional[str] = None
    bert_config_file: Optional[str] = None
    init_checkpoint: Optional[str] = None
    output_dir: Optional[str] = None
    train_file: Optional[str] = None
    predict_file: Optional[str] = None
    do_lower_case: Optional[bool] = None
    max_seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64
    do_train: bool = False
    do_predict: bool = False
    train_batch_size: int = 32
    predict_batch_size: int = 8
    learning_rate: float = 5e-5
    num_train_epochs: float = 3.0
    warmup_proportion: float = 0.1
    save_checkpoints_steps: int = 1000
    n_best_size: int = 20
    max_answer_length: int = 30
    verbose_logging: bool = False
    version_2_with_negative: bool = False
    null_score_diff_threshold: float = 0.0
    # Ours.
    do_eval: bool = False
    max_train_rows: int = 0
    adam_bias_correction: Optional[bool] = False  # Google's AdamWeightDecayOptimizer
    do_export: bool = True
    export_dir: Optional[str] = None

    @property
    def eval_batch_size(self):
        """Periodic evaluations run over the predict file with the predict batch."""
        return self.predict_batch_size

    def validate(self):
        """Raises `ConfigError`/`OptionError` naming the first option that cannot work."""
        if not (self.do_train or self.do_predict or self.do_eval):
            raise ConfigError("At least one of --do_train or --do_predict must be set.")
        if not self.output_dir:
            raise ConfigError("--output_dir is required.")
        for mode, flag in (("do_train", "train_file"), ("do_predict", "predict_file"),
                           ("do_eval", "predict_file")):
            path = getattr(self, flag)
            if getattr(self, mode) and not path:
                raise ConfigError(f"--{mode} needs --{flag}.")
            if getattr(self, mode) and not os.path.isfile(path):
                raise ConfigError(f"--{flag}={path}: no such file.")
        super().validate()
        check_positive(self, ("max_seq_length", "doc_stride", "train_batch_size",
                              "predict_batch_size", "save_checkpoints_steps", "n_best_size",
                              "max_answer_length"))
        check_ranges(self, RANGES)
        if self.max_seq_length <= self.max_query_length + 3:
            raise ConfigError(f"--max_seq_length={self.max_seq_length} must be greater than "
                              f"--max_query_length={self.max_query_length} + 3 ([CLS] and "
                              "two [SEP]), leaving room for the context.")
        out = self.output_dir
        if not (self.do_train or self.init_checkpoint
                or os.path.exists(os.path.join(out, "checkpoint"))
                or os.path.isdir(os.path.join(out, "best"))):
            raise ConfigError(f"Nothing to predict with: {out} has no checkpoint; pass "
                              "--do_train or --init_checkpoint.")
