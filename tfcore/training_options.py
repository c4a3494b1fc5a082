"""The training options every run config shares, and their range checks.

`TrainingOptions` is a frozen dataclass whose field names are the flags that
`tfcore.cli.define_training_flags` defines, so a script turns its flags into
a config with `tfcore.cli.config_from_flags` and a Python user builds the
same config without absl. TensorFlow-free: checks run before its import.

Example:

    @dataclasses.dataclass(frozen=True)
    class MyConfig(TrainingOptions):
        learning_rate: float = 5e-5

        def validate(self):
            super().validate()
            check_ranges(self, (("learning_rate", lambda v: v > 0, "positive"),))

    MyConfig(seed=1, learning_rate=-1.0).validate()
    # OptionError: --learning_rate must be positive, got -1.0.
"""

import dataclasses
import math
from typing import Optional

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")
DTYPES = ("float32", "bfloat16", "float16")


class OptionError(ValueError):
    """A run option out of range or inconsistent; the message names the flag (`--name`)."""


def check_ranges(options, ranges):
    """`ranges`: `(name, predicate, expected)`; a value left at None is not checked.

    NaN and infinity never pass a numeric check. Raises `OptionError`
    naming the flag, what it must be and what it got.
    """
    for name, ok, expected in ranges:
        value = getattr(options, name)
        if value is None:
            continue
        finite = not isinstance(value, float) or math.isfinite(value)
        if not (finite and ok(value)):
            raise OptionError(f"--{name} must be {expected}, got {value!r}.")


def check_positive(options, names):
    """Every option in `names` (integers) must be > 0."""
    check_ranges(options, [(name, lambda v: v > 0, "positive") for name in names])


def check_choice(options, name, choices):
    """The option `name` must be one of `choices`."""
    value = getattr(options, name)
    if value not in choices:
        raise OptionError(f"--{name} must be one of {', '.join(choices)}; got {value!r}.")


@dataclasses.dataclass(frozen=True)
class TrainingOptions:
    """How a run trains, whatever the task (the flags of `define_training_flags`).

    Fields: `strategy` (tf.distribute: default, one_device, mirrored,
    multi_worker, tpu), `dtype` (float32, bfloat16, float16), `jit_compile`,
    `steps_per_execution`, `weight_decay`, `clip_norm` (0: off),
    `adam_bias_correction` (None: the task's default), `keep_checkpoint_max`,
    `deterministic`, `seed`; and Google's TPU options (`define_tpu_flags`):
    `use_tpu` and `tpu_name` work (`use_tpu` is `strategy=tpu`), the others
    are accepted for compatibility.
    """

    strategy: str = "default"
    dtype: str = "float32"
    jit_compile: bool = False
    steps_per_execution: int = 1
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    adam_bias_correction: Optional[bool] = None
    keep_checkpoint_max: int = 5
    deterministic: bool = False
    seed: int = 12345
    # Google's TPU flags.
    use_tpu: bool = False
    tpu_name: Optional[str] = None
    tpu_zone: Optional[str] = None
    gcp_project: Optional[str] = None
    master: Optional[str] = None
    num_tpu_cores: int = 8
    iterations_per_loop: int = 1000

    def validate(self):
        """Raises `OptionError` naming the first training option out of range."""
        check_choice(self, "strategy", STRATEGIES)
        check_choice(self, "dtype", DTYPES)
        check_positive(self, ("steps_per_execution", "keep_checkpoint_max"))
        check_ranges(self, (("weight_decay", lambda v: v >= 0, ">= 0"),
                            ("clip_norm", lambda v: v >= 0, ">= 0 (0: no clipping)")))

    def replace(self, **changes):
        """A copy with `changes` (dataclasses.replace)."""
        return dataclasses.replace(self, **changes)
