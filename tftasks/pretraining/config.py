"""`PretrainingConfig`: everything one pretraining run needs, named as its flags.

The fields are run_pretraining.py's flags (Google's names and defaults, then
ours); `validate()` raises `OptionError` naming the flag. TensorFlow-free, so
usage errors come before TensorFlow's import.

Example:

    config = PretrainingConfig(bert_config_file="bert_config.json",
                               input_file="records/*.tfrecord", output_dir="out",
                               do_train=True, num_train_steps=1000, num_warmup_steps=100)
    config = config.with_defaults()   # output_dir of the model when None
    config.validate()
"""

import dataclasses
from typing import Optional

from tfcore.training_options import (OptionError, TrainingOptions, check_choice,
                                     check_positive, check_ranges)

MODELS = ("bert", "gpt")
OPTIMIZERS = ("adamw", "lamb", "adam")
DECAYS = ("linear", "polynomial", "cosine", "constant")
# Models never share a default output folder (checkpoints of one would not restore into the other).
DEFAULT_OUTPUT_DIRS = {"bert": "pretraining_output", "gpt": "gpt_output"}

# Float options: (name, test of a finite value, what is expected). NaN and inf never pass.
FLOAT_RANGES = (
    ("learning_rate", lambda v: v > 0, "positive"),
    ("end_learning_rate", lambda v: v >= 0, ">= 0"),
    ("decay_power", lambda v: v > 0, "positive"),
    ("weight_decay", lambda v: v >= 0, ">= 0"),
    ("clip_norm", lambda v: v >= 0, ">= 0 (0: no clipping)"),
    ("adam_beta1", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("adam_beta2", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("adam_epsilon", lambda v: v > 0, "positive"),
)
POSITIVE_INTS = ("max_seq_length", "max_predictions_per_seq", "train_batch_size",
                 "eval_batch_size", "num_train_steps", "save_checkpoints_steps",
                 "steps_per_execution", "grad_accum_steps", "keep_checkpoint_max")


@dataclasses.dataclass(frozen=True)
class PretrainingConfig(TrainingOptions):
    """One pretraining run (BERT MLM + NSP, or GPT next token); fields == flags.

    `input_file=None` means the embedded default: its data is built under
    `output_dir/data` (see `tftasks.pretraining.presets` for its settings).
    `adam_bias_correction`/`adam_epsilon` None: the model's default (BERT:
    Google's AdamWeightDecayOptimizer, off and 1e-6; GPT: PyTorch's AdamW,
    on and 1e-8). Batch sizes are global; an optimizer step sees
    `train_batch_size * grad_accum_steps` records.
    """

    # Google's run_pretraining.py flags.
    bert_config_file: Optional[str] = None
    input_file: Optional[str] = None
    output_dir: Optional[str] = None
    init_checkpoint: Optional[str] = None
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    do_train: bool = False
    do_eval: bool = False
    train_batch_size: int = 32
    eval_batch_size: int = 8
    learning_rate: float = 5e-5
    num_train_steps: int = 100000
    num_warmup_steps: int = 10000
    save_checkpoints_steps: int = 1000
    max_eval_steps: int = 100
    # Ours.
    model: str = "bert"
    config_file: Optional[str] = None
    eval_input_file: Optional[str] = None
    vocab_file: Optional[str] = None
    merges_file: Optional[str] = None
    do_lower_case: bool = True
    optimizer: str = "adamw"
    decay: str = "linear"
    end_learning_rate: float = 0.0
    decay_power: float = 1.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: Optional[float] = None
    grad_accum_steps: int = 1
    export_dir: Optional[str] = None
    do_export: bool = True
    skip_corrupt_records: bool = False

    @property
    def is_embedded_default(self):
        """True when no --input_file is given: the run builds and uses embedded data."""
        return self.input_file is None

    def with_defaults(self):
        """A copy whose `output_dir` is the model's own folder when it was None."""
        if self.output_dir is None and self.model in DEFAULT_OUTPUT_DIRS:
            return self.replace(output_dir=DEFAULT_OUTPUT_DIRS[self.model])
        return self

    def validate(self):
        """Raises `OptionError` (a ValueError) naming the first flag out of range."""
        check_choice(self, "model", MODELS)
        if self.output_dir is not None and not self.output_dir.strip():
            raise OptionError("--output_dir must name a folder, got an empty value.")
        check_choice(self, "optimizer", OPTIMIZERS)
        check_choice(self, "decay", DECAYS)
        self._validate_sources()
        check_positive(self, POSITIVE_INTS)
        if self.num_warmup_steps < 0 or self.num_warmup_steps > self.num_train_steps:
            raise OptionError(f"--num_warmup_steps must be in [0, --num_train_steps], got "
                              f"{self.num_warmup_steps}.")
        check_ranges(self, FLOAT_RANGES)
        if self.max_predictions_per_seq > self.max_seq_length:
            raise OptionError("--max_predictions_per_seq cannot exceed --max_seq_length.")
        super().validate()

    def _validate_sources(self):
        """What to do and where the model's config comes from."""
        if not self.is_embedded_default and not (self.do_train or self.do_eval):
            raise OptionError("At least one of --do_train or --do_eval must be set.")
        if self.model == "gpt" and self.bert_config_file:
            raise OptionError("--bert_config_file is for --model=bert; use --config_file.")
        if not self.is_embedded_default and not (self.bert_config_file or self.config_file
                                                 or self.init_checkpoint):
            raise OptionError("--bert_config_file (or --config_file/--init_checkpoint) is "
                              "required with --input_file.")
