"""What every command-line program shares: one-line usage errors and the run record.

Only entry points (`run_*.py`, `python -m ...` mains) import this module.

Example:

    if __name__ == "__main__":
        run_main(main)          # instead of absl's app.run(main)

    write_run_record("out", "run_pretraining.py")   # out/flags.txt, for --flagfile

    define_training_flags(defaults={"adam_bias_correction": None})  # at import
    define_fine_tuning_flags()    # run_classifier.py, run_squad.py, run_ner.py
    config = config_from_flags(PretrainingConfig, flags.FLAGS)      # in main
"""

import dataclasses
import os
import sys

from absl import app, flags

from tfcore.training_options import DTYPES, STRATEGIES

from tfcore.io import write_text_atomically

RUN_RECORD = "flags.txt"


def run_main(main):
    """`app.run(main)`, but an `app.UsageError` is one line on stderr and exit code 2.

    absl prints the whole flag help before the message; a user (or a log) then
    finds the reason only at the end of ~150 lines. `--help` still prints it.
    """
    def main_with_one_line_errors(argv):
        try:
            return main(argv)
        except app.UsageError as e:
            sys.stderr.write(f"ERROR: {e} (--help lists the flags)\n")
            sys.exit(2)

    app.run(main_with_one_line_errors)


def write_run_record(output_dir, program, flag_values=None):
    """Writes `output_dir/flags.txt`: the program's flags as a flagfile.

    `python PROGRAM --flagfile=output_dir/flags.txt` repeats the run. Only the
    flags the program itself defines are written (not absl's own), every one
    of them, given or defaulted, so the record is complete.
    """
    flag_values = flag_values or flags.FLAGS
    module = flag_values.find_module_defining_flag("output_dir") or sys.argv[0]
    path = os.path.join(output_dir, RUN_RECORD)
    lines = [f"# The flags of this run of {program}; repeat it with --flagfile={path}"]
    for flag in sorted(flag_values.get_flags_for_module(module), key=lambda f: f.name):
        lines.append(flag.serialize() if flag.value is not None else f"# --{flag.name} unset")
    write_text_atomically(path, "\n".join(lines) + "\n")


# The training flags both run scripts define: (kind, name, default, help[, enum values]).
TRAINING_FLAGS = (
    ("enum", "strategy", "default", "tf.distribute strategy.", STRATEGIES),
    ("enum", "dtype", "float32", "Compute precision (float16 uses dynamic loss scaling).",
     DTYPES),
    ("bool", "jit_compile", False, "XLA-compile the training step."),
    ("integer", "steps_per_execution", 1, "Training steps per tf.function call."),
    ("float", "weight_decay", 0.01, "Decoupled weight decay (not on LayerNorm, biases)."),
    ("float", "clip_norm", 1.0, "Global-norm gradient clipping (0: off)."),
    ("bool", "adam_bias_correction", False, "Bias-correct AdamW's moments (Keras/PyTorch "
     "AdamW); off is Google's AdamWeightDecayOptimizer."),
    ("integer", "keep_checkpoint_max", 5, "Checkpoints kept."),
    ("bool", "deterministic", False, "Op determinism, fixed seeds, fixed input order."),
    ("integer", "seed", 12345, "Seed of initialisation, dropout and input order."),
)
# The flags of the fine-tuning scripts (tftasks.common.options.FineTuningOptions).
FINE_TUNING_FLAGS = (
    ("integer", "early_stopping_patience", 0, "Stop training after this many evaluations in "
     "a row without a better --best_metric (needs --do_eval; 0: off). best/ keeps the best; "
     "a rerun with the same patience trains no further."),
)
# Google's TPU flags: --use_tpu and --tpu_name work, the others are accepted.
TPU_FLAGS = (
    ("bool", "use_tpu", False, "Same as --strategy=tpu."),
    ("string", "tpu_name", None, "TPU to connect to."),
    ("string", "tpu_zone", None, "Accepted for compatibility; the resolver finds it."),
    ("string", "gcp_project", None, "Accepted for compatibility."),
    ("string", "master", None, "Accepted for compatibility."),
    ("integer", "num_tpu_cores", 8, "Accepted for compatibility."),
    ("integer", "iterations_per_loop", 1000,
     "Google's TPU loop size (see --steps_per_execution)."),
)


def _calling_module_name(depth):
    """The module name absl records for a flag defined `depth` frames up (argv[0] for main)."""
    name = sys._getframe(depth + 1).f_globals.get("__name__")
    return sys.argv[0] if name == "__main__" else name


def _define(table, defaults, helps, flag_values, module_name):
    """Defines every flag of `table` for `module_name`; returns `{name: FlagHolder}`."""
    defaults, helps = dict(defaults or {}), dict(helps or {})
    unknown = (set(defaults) | set(helps)) - {row[1] for row in table}
    if unknown:
        raise ValueError(f"No such shared flag: {sorted(unknown)}.")
    holders = {}
    for kind, name, default, help_text, *enum_values in table:
        args = (name, defaults.get(name, default), *enum_values, helps.get(name, help_text))
        define = getattr(flags, f"DEFINE_{kind}")
        holders[name] = define(*args, flag_values=flag_values, module_name=module_name)
    return holders


def define_training_flags(defaults=None, helps=None, flag_values=flags.FLAGS):
    """Defines the training flags every run script shares (`TRAINING_FLAGS`).

    Call it once, at import time of the script, beside the script's own
    `flags.DEFINE_*` calls. The flags: --strategy, --dtype, --jit_compile,
    --steps_per_execution, --weight_decay, --clip_norm, --adam_bias_correction,
    --keep_checkpoint_max, --deterministic, --seed (the fields of
    `tfcore.training_options.TrainingOptions`). They are registered as the
    calling script's own flags, so `write_run_record` (flags.txt) and
    `--help` list them with the rest.

    Args:
      defaults: `{flag name: default}` for script-specific defaults, e.g.
        `{"adam_bias_correction": None}` (None: the script decides per model).
      helps: `{flag name: help text}` replacing the shared text.
      flag_values: the absl `FlagValues` (tests pass their own).
    Returns `{name: FlagHolder}`. Raises ValueError for a name not shared.
    """
    return _define(TRAINING_FLAGS, defaults, helps, flag_values, _calling_module_name(1))


def define_fine_tuning_flags(defaults=None, helps=None, flag_values=flags.FLAGS):
    """Defines the flags of the fine-tuning scripts (`FINE_TUNING_FLAGS`): --early_stopping_patience.

    Same arguments and registration as `define_training_flags`.
    """
    return _define(FINE_TUNING_FLAGS, defaults, helps, flag_values, _calling_module_name(1))


def define_tpu_flags(defaults=None, helps=None, flag_values=flags.FLAGS):
    """Defines Google's TPU flags (`TPU_FLAGS`): --use_tpu, --tpu_name, and the rest.

    Same arguments and registration as `define_training_flags`.
    """
    return _define(TPU_FLAGS, defaults, helps, flag_values, _calling_module_name(1))


def config_from_flags(config_class, flag_values=flags.FLAGS, undecided=(), **overrides):
    """`config_class(**values)`: each dataclass field takes the flag of the same name.

    A field without a flag keeps its default (or takes `overrides`); a
    required field with neither raises ValueError naming it. The flags named
    in `undecided` become None when not given on the command line ("decide":
    e.g. --do_lower_case, which a Hugging Face folder's tokenizer config
    then decides).

    Example: `config_from_flags(ClassifierConfig, flags.FLAGS, undecided=("do_lower_case",))`.
    """
    overrides = dict(overrides, **{name: None for name in undecided
                                   if not flag_values[name].present})
    values = {}
    for field in dataclasses.fields(config_class):
        if not field.init:
            continue
        if field.name in overrides:
            values[field.name] = overrides[field.name]
        elif field.name in flag_values:
            values[field.name] = flag_values[field.name].value
        elif (field.default is dataclasses.MISSING
              and field.default_factory is dataclasses.MISSING):
            raise ValueError(f"{config_class.__name__}.{field.name} has no flag --{field.name} "
                             "and no default.")
    return config_class(**values)
