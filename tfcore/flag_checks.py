"""Range checks of absl flags shared by run_pretraining.py and run_classifier.py.

Each raises `absl.app.UsageError` naming the flag, what it must be and what it
got; NaN and infinity never pass a numeric check.

Example:

    check_positive(FLAGS, ("train_batch_size", "max_seq_length"))
    check_ranges(FLAGS, (("learning_rate", lambda v: v > 0, "positive"),))
"""

import math

from absl import app


def check_positive(flag_values, names):
    """Every flag in `names` (integers) must be > 0."""
    check_ranges(flag_values, [(name, lambda v: v > 0, "positive") for name in names])


def check_ranges(flag_values, ranges):
    """`ranges`: `(name, predicate, expected)` triples; a flag left at None is not checked."""
    for name, ok, expected in ranges:
        value = getattr(flag_values, name)
        if value is None:
            continue
        finite = not isinstance(value, float) or math.isfinite(value)
        if not (finite and ok(value)):
            raise app.UsageError(f"--{name} must be {expected}, got {value!r}.")
