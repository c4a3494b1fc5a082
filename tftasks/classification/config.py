"""`ClassifierConfig`: one fine-tuning run; fields == `run_classifier.py`'s flag names.

Google's run_classifier.py options (same names and defaults), the shared
training options (`tfcore.training_options.TrainingOptions`: strategy,
dtype, weight_decay, clip_norm, adam_bias_correction, seed, ...), the
fine-tuning ones (`tftasks.common.options.FineTuningOptions`:
`early_stopping_patience`) and ours:
the data source (`task_name`/`data_dir`, `tfds_*`, or local
`train_file`/`eval_file`/`predict_file` with their columns), `task_type`,
`pooling`, `best_metric`, the export. Two fields are None for "decide":
`do_lower_case` (the checkpoint's `tokenizer_config.json`, else True) and
`task_type` (the GLUE task's, else "classification").

`validate()` raises `ConfigError` (an `OptionError`) naming the flag, before
anything is read or written: a script turns it into a usage error.

Example:

    config = ClassifierConfig(train_file="train.tsv", eval_file="dev.tsv",
                              text_column="sentence", init_checkpoint="hf_bert",
                              do_train=True, do_eval=True, output_dir="out")
    config.validate()
    tftasks.classification.run(config)
"""

import dataclasses
import os
from typing import Optional

from tfcore.training_options import check_choice, check_positive, check_ranges
from tftasks.classification.labels import TASK_TYPES
from tftasks.common.errors import ConfigError
from tftasks.common.options import FineTuningOptions

POOLINGS = ("auto", "pooler", "mean")
LOCAL_FILES = (("train_file", "do_train"), ("eval_file", "do_eval"),
               ("predict_file", "do_predict"))
RANGES = (
    ("learning_rate", lambda v: v > 0, "positive"),
    ("num_train_epochs", lambda v: v > 0, "positive"),
    ("warmup_proportion", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("max_train_rows", lambda v: v >= 0, ">= 0 (0: all rows)"),
    ("label_separator", lambda v: v != "", "a non-empty string"),
)


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(FineTuningOptions):
    """The options of one run; see the module doc and `run_classifier.py --help`."""

    # Google's run_classifier.py.
    task_name: Optional[str] = None
    data_dir: Optional[str] = None
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
    # Data: local files, TFDS, XNLI.
    train_file: Optional[str] = None
    eval_file: Optional[str] = None
    predict_file: Optional[str] = None
    text_column: str = "text"
    text_b_column: Optional[str] = None
    label_column: str = "label"
    label_separator: str = ","
    task_type: Optional[str] = None
    max_train_rows: int = 0
    tfds_name: Optional[str] = None
    tfds_data_dir: Optional[str] = None
    tfds_text_keys: Optional[str] = None
    tfds_label_key: Optional[str] = None
    tfds_train_split: Optional[str] = None
    tfds_eval_split: Optional[str] = None
    tfds_predict_split: Optional[str] = None
    xnli_language: str = "zh"
    # Training and outputs (beside TrainingOptions').
    adam_bias_correction: Optional[bool] = False  # Google's AdamWeightDecayOptimizer
    best_metric: Optional[str] = None
    pooling: str = "auto"
    do_export: bool = True
    export_dir: Optional[str] = None

    @property
    def local_files(self):
        """The names of the local-file options given (train_file, eval_file, predict_file)."""
        return [name for name, _ in LOCAL_FILES if getattr(self, name)]

    def validate(self):
        """Raises `ConfigError`/`OptionError` naming the first option that cannot work."""
        if not (self.do_train or self.do_eval or self.do_predict):
            raise ConfigError("At least one of --do_train, --do_eval or --do_predict must "
                              "be set.")
        if not self.output_dir:
            raise ConfigError("--output_dir is required.")
        self._validate_source()
        if self.task_type is not None:
            check_choice(self, "task_type", TASK_TYPES)
        check_choice(self, "pooling", POOLINGS)
        if self.task_type == "multilabel" and not self.local_files:
            raise ConfigError("--task_type=multilabel needs local files (--train_file ...).")
        super().validate()
        check_positive(self, ("max_seq_length", "train_batch_size", "eval_batch_size",
                              "predict_batch_size", "save_checkpoints_steps"))
        check_ranges(self, RANGES)
        out = self.output_dir
        if not (self.do_train or self.init_checkpoint
                or os.path.exists(os.path.join(out, "checkpoint"))
                or os.path.isdir(os.path.join(out, "best"))):
            raise ConfigError(f"Nothing to evaluate or predict with: {out} has no checkpoint; "
                              "pass --do_train or --init_checkpoint.")
        if self.max_seq_length < 3:
            raise ConfigError("--max_seq_length must be at least 3 ([CLS] text [SEP]).")

    def _validate_source(self):
        """Exactly one data source, with what it needs."""
        files = self.local_files
        sources = [name for name, on in (("--task_name", self.task_name),
                                         ("--tfds_name", self.tfds_name),
                                         ("--train_file/--eval_file/--predict_file", files))
                   if on]
        if len(sources) != 1:
            raise ConfigError("Give exactly one data source: --task_name with --data_dir, "
                              f"--tfds_name, or local files; got {sources or 'none'}.")
        if self.task_name:
            self._validate_glue()
        elif self.data_dir:
            raise ConfigError("--data_dir needs --task_name (Google's GLUE layout).")
        if files:
            for flag, mode in LOCAL_FILES:
                if getattr(self, mode) and not getattr(self, flag):
                    raise ConfigError(f"--{mode} with local files needs --{flag}.")

    def _validate_glue(self):
        from tftasks.classification.glue import glue_task
        try:
            task = glue_task(self.task_name)
        except KeyError as e:
            raise ConfigError(e.args[0]) from None
        if not self.data_dir:
            raise ConfigError("--task_name needs --data_dir.")
        if not os.path.isdir(self.data_dir):
            raise ConfigError(f"--data_dir={self.data_dir}: no such folder.")
        if self.task_type is not None and self.task_type != task.task_type:
            raise ConfigError(f"--task_type={self.task_type} contradicts --task_name="
                              f"{self.task_name} ({task.task_type}).")
