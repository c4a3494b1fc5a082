"""`NerConfig`: one token-classification run; fields == `run_ner.py`'s flag names.

Google's run_classifier.py options where they exist (same names and
defaults), the shared training options (`TrainingOptions`), the fine-tuning
ones (`FineTuningOptions`: `early_stopping_patience`) and ours: the
data (CoNLL files `train_file`/`eval_file`/`predict_file` with
`token_column`/`tag_column`, or `tfds_*`), `tag_scheme`, `best_metric`, the
export. `do_lower_case=None` lets a Hugging Face folder's
`tokenizer_config.json` decide (else True).

`validate()` raises `ConfigError` naming the flag before anything is read.

Example:

    config = NerConfig(train_file="train.conll", eval_file="dev.conll",
                       init_checkpoint="all-MiniLM-L6-v2", do_train=True, do_eval=True,
                       output_dir="out")
    config.validate()
"""

import dataclasses
import os
from typing import Optional

from tfcore.training_options import check_choice, check_positive, check_ranges
from tftasks.common.errors import ConfigError
from tftasks.common.options import FineTuningOptions
from tftasks.ner.tags import SCHEMES

TAG_SCHEMES = ("auto",) + SCHEMES
BEST_METRICS = ("f1", "precision", "recall", "accuracy")
LOCAL_FILES = (("train_file", "do_train"), ("eval_file", "do_eval"),
               ("predict_file", "do_predict"))
RANGES = (
    ("learning_rate", lambda v: v > 0, "positive"),
    ("num_train_epochs", lambda v: v > 0, "positive"),
    ("warmup_proportion", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("max_train_rows", lambda v: v >= 0, ">= 0 (0: all sentences)"),
)


@dataclasses.dataclass(frozen=True)
class NerConfig(FineTuningOptions):
    """The options of one run; see the module doc and `run_ner.py --help`."""

    vocab_file: Optional[str] = None
    bert_config_file: Optional[str] = None
    init_checkpoint: Optional[str] = None
    output_dir: Optional[str] = None
    do_lower_case: Optional[bool] = None
    max_seq_length: int = 128
    do_train: bool = False
    do_eval: bool = False
    do_predict: bool = False
    train_batch_size: int = 32
    eval_batch_size: int = 8
    predict_batch_size: int = 8
    learning_rate: float = 5e-5
    num_train_epochs: float = 3.0
    warmup_proportion: float = 0.1
    save_checkpoints_steps: int = 1000
    # Data.
    train_file: Optional[str] = None
    eval_file: Optional[str] = None
    predict_file: Optional[str] = None
    token_column: int = 0
    tag_column: int = -1
    tag_scheme: str = "auto"
    max_train_rows: int = 0
    tfds_name: Optional[str] = None
    tfds_data_dir: Optional[str] = None
    tfds_tokens_key: str = "tokens"
    tfds_tags_key: str = "ner"
    tfds_train_split: Optional[str] = None
    tfds_eval_split: Optional[str] = None
    tfds_predict_split: Optional[str] = None
    # Training and outputs (beside TrainingOptions').
    adam_bias_correction: Optional[bool] = False  # Google's AdamWeightDecayOptimizer
    best_metric: str = "f1"
    do_export: bool = True
    export_dir: Optional[str] = None

    def validate(self):
        """Raises `ConfigError`/`OptionError` naming the first option that cannot work."""
        if not (self.do_train or self.do_eval or self.do_predict):
            raise ConfigError("At least one of --do_train, --do_eval or --do_predict must "
                              "be set.")
        if not self.output_dir:
            raise ConfigError("--output_dir is required.")
        files = [name for name, _ in LOCAL_FILES if getattr(self, name)]
        if bool(files) == bool(self.tfds_name):
            raise ConfigError("Give exactly one data source: --train_file/--eval_file/"
                              "--predict_file (CoNLL) or --tfds_name.")
        if files:
            for flag, mode in LOCAL_FILES:
                if getattr(self, mode) and not getattr(self, flag):
                    raise ConfigError(f"--{mode} needs --{flag}.")
            for flag, _ in LOCAL_FILES:
                if getattr(self, flag) and not os.path.isfile(getattr(self, flag)):
                    raise ConfigError(f"--{flag}={getattr(self, flag)}: no such file.")
        check_choice(self, "tag_scheme", TAG_SCHEMES)
        check_choice(self, "best_metric", BEST_METRICS)
        super().validate()
        check_positive(self, ("max_seq_length", "train_batch_size", "eval_batch_size",
                              "predict_batch_size", "save_checkpoints_steps"))
        check_ranges(self, RANGES)
        if self.token_column == self.tag_column:
            raise ConfigError("--token_column and --tag_column must differ.")
        if self.max_seq_length < 3:
            raise ConfigError("--max_seq_length must be at least 3 ([CLS] word [SEP]).")
        out = self.output_dir
        if not (self.do_train or self.init_checkpoint
                or os.path.exists(os.path.join(out, "checkpoint"))
                or os.path.isdir(os.path.join(out, "best"))):
            raise ConfigError(f"Nothing to evaluate or predict with: {out} has no checkpoint; "
                              "pass --do_train or --init_checkpoint.")
