"""Pieces every training script shares: runtime setup and optimizer.

Example:

    configure_runtime(dtype="bfloat16", deterministic=True, seed=42)
    optimizer = make_optimizer("adamw", 1e-4, num_train_steps=1000, num_warmup_steps=100)
"""

import keras
import tensorflow as tf

from tfcore.optimization import WarmupDecaySchedule, create_optimizer

POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def configure_runtime(dtype="float32", deterministic=False, seed=None):
    """Sets the Keras precision policy; with `deterministic`, op determinism and seeds."""
    if dtype not in POLICIES:
        raise ValueError(f"dtype must be one of {sorted(POLICIES)}, got {dtype!r}.")
    keras.mixed_precision.set_global_policy(POLICIES[dtype])
    # TensorFlow's own INFO lines (savers, signatures) drown the scripts' progress.
    tf.get_logger().setLevel("WARNING")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def make_optimizer(name, learning_rate, num_train_steps, num_warmup_steps=0,
                   decay_type="linear", end_learning_rate=0.0, weight_decay=0.01,
                   dtype="float32", power=1.0, **optimizer_kwargs):
    """Optimizer with a warmup + decay schedule; float16 gets dynamic loss scaling.

    `optimizer_kwargs` go to `create_optimizer` (e.g. `beta_2=0.99`).
    """
    schedule = WarmupDecaySchedule(learning_rate, num_train_steps, num_warmup_steps,
                                   end_learning_rate, decay_type, power)
    optimizer = create_optimizer(name, schedule, weight_decay=weight_decay, **optimizer_kwargs)
    if dtype == "float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer, schedule


