"""Optimizers and learning-rate schedules for pretraining and fine-tuning.

`create_optimizer("adamw", ...)` gives Google's BERT settings: AdamW with
epsilon 1e-6 and no weight decay on LayerNorm parameters and biases; with
`bias_correction=False` it is Google's `AdamWeightDecayOptimizer` exactly
(`AdamWeightDecay`: no bias correction of the moments, which makes the early
and, in short fine-tuning runs, all steps larger), with `bias_correction=True`
the AdamW of the Adam paper, PyTorch and Hugging Face (`BiasCorrectedAdamW`).
Gradient clipping by global norm is done by the training loop
(`tfcore.training`) on the all-reduced gradient, because Keras clips each
replica's gradient before summing them, which would make a multi-replica run
differ from a single-device one.

Example:

    schedule = WarmupDecaySchedule(1e-4, num_train_steps=10000, num_warmup_steps=100)
    optimizer = create_optimizer("adamw", schedule, weight_decay=0.01)
"""

import math

import keras
import tensorflow as tf

# google-research/bert optimization.py: AdamWeightDecayOptimizer defaults.
ADAM_EPSILON = 1e-6
ADAM_BETA_1, ADAM_BETA_2 = 0.9, 0.999
# Google excludes "LayerNorm", "layer_norm" and "bias"; our LayerNorm weights are gamma/beta.
NO_DECAY_NAMES = ["bias", "gamma", "beta", "LayerNorm", "layer_norm"]
DECAY_TYPES = ("linear", "polynomial", "cosine", "constant", "inverse_sqrt")


@keras.saving.register_keras_serializable(package="tfcore")
class WarmupDecaySchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0, then decay from `learning_rate` to `end_learning_rate`.

    The two phases join continuously: the warmup ramps to the decay curve's
    value at `num_warmup_steps` (for "cosine", which starts after the
    warmup, that is `learning_rate`). `decay_type`: "linear" (Google's default: polynomial with
    power 1 over the whole run), "polynomial" (`power`), "cosine", "constant",
    "inverse_sqrt" (the Transformer's: `learning_rate * sqrt(warmup / step)`
    after the warmup; Noam's `d**-0.5 * min(step**-0.5, step * warmup**-1.5)`
    with `learning_rate = d**-0.5 * warmup**-0.5`).
    Google decays over all `num_train_steps` (counting warmup); so do we.
    """

    def __init__(self, learning_rate, num_train_steps, num_warmup_steps=0,
                 end_learning_rate=0.0, decay_type="linear", power=1.0):
        if decay_type not in DECAY_TYPES:
            raise ValueError(f"decay_type must be one of {DECAY_TYPES}, got {decay_type!r}.")
        if num_warmup_steps > num_train_steps:
            raise ValueError(f"num_warmup_steps {num_warmup_steps} > num_train_steps "
                             f"{num_train_steps}.")
        self.learning_rate = float(learning_rate)
        self.num_train_steps = int(num_train_steps)
        self.num_warmup_steps = int(num_warmup_steps)
        self.end_learning_rate = float(end_learning_rate)
        self.decay_type = decay_type
        self.power = float(power)

    def _decayed(self, step):
        total = max(self.num_train_steps, 1)
        progress = tf.minimum(step, float(total)) / float(total)
        span = self.learning_rate - self.end_learning_rate
        if self.decay_type == "constant":
            return tf.fill(tf.shape(step), self.learning_rate)
        if self.decay_type == "inverse_sqrt":
            # The Transformer's (Noam) schedule: learning_rate * sqrt(warmup / step)
            # after the warmup; end_learning_rate and num_train_steps do not apply.
            warmup = float(max(self.num_warmup_steps, 1))
            return self.learning_rate * tf.sqrt(warmup / tf.maximum(step, warmup))
        if self.decay_type == "cosine":
            # Cosine over the steps after warmup, as nanoGPT's recipe.
            after = tf.maximum(step - self.num_warmup_steps, 0.0)
            frac = tf.minimum(after / float(max(total - self.num_warmup_steps, 1)), 1.0)
            return self.end_learning_rate + 0.5 * span * (1.0 + tf.cos(math.pi * frac))
        power = 1.0 if self.decay_type == "linear" else self.power
        return self.end_learning_rate + span * tf.pow(1.0 - progress, power)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        decayed = self._decayed(step)
        if self.num_warmup_steps <= 0:
            return decayed
        # Google's warmup reaches `learning_rate` while the decay curve is already
        # lower there (a jump down); ours ramps to the decay curve's value instead.
        at_end = self._decayed(tf.constant(float(self.num_warmup_steps)))
        warmup = at_end * step / float(self.num_warmup_steps)
        return tf.where(step < self.num_warmup_steps, warmup, decayed)

    def get_config(self):
        return dict(learning_rate=self.learning_rate, num_train_steps=self.num_train_steps,
                    num_warmup_steps=self.num_warmup_steps,
                    end_learning_rate=self.end_learning_rate, decay_type=self.decay_type,
                    power=self.power)


def _handle(variable):
    """The resource handle of a Keras or tf variable (the local copy inside a strategy update)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value  # the tf.Variable (a DistributedVariable under a strategy)
    return variable.handle


class _FusedAdamW(keras.optimizers.AdamW):
    """AdamW whose per-variable update is two fused TensorFlow kernels.

    `ResourceApplyGradientDescent` applies the decoupled weight decay
    (`w -= lr * weight_decay * w`) and `ResourceApplyAdam` the moments and the
    step, each one pass over the variable, instead of the ~12 element-wise
    ops (one pass each) of a Python-written `update_step`. `ResourceApplyAdam`
    computes `w -= lr * sqrt(1 - p2) / (1 - p1) * m / (sqrt(v) + eps')`;
    subclasses choose `p1`, `p2` (the beta powers) and `eps'` so that this is
    their rule (`_powers_and_epsilon`).
    """

    def _powers_and_epsilon(self, dtype):
        raise NotImplementedError

    def _apply_weight_decay(self, variables):
        """Decay is fused into `update_step` (before the Adam step, as Keras orders it)."""

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        if self.weight_decay and self._use_weight_decay(variable):
            tf.raw_ops.ResourceApplyGradientDescent(
                var=_handle(variable), alpha=lr * tf.cast(self.weight_decay, dtype),
                delta=tf.convert_to_tensor(variable))
        index = self._get_variable_index(variable)
        power_1, power_2, epsilon = self._powers_and_epsilon(dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]), beta1_power=power_1, beta2_power=power_2,
            lr=lr, beta1=tf.cast(self.beta_1, dtype), beta2=tf.cast(self.beta_2, dtype),
            epsilon=epsilon, grad=tf.cast(tf.convert_to_tensor(gradient), dtype))


@keras.saving.register_keras_serializable(package="tfcore")
class AdamWeightDecay(_FusedAdamW):
    """Google BERT's `AdamWeightDecayOptimizer`: AdamW without bias correction.

    Per variable: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
    `w -= lr * (m / (sqrt(v) + eps) + weight_decay * w)`. Keras' `AdamW`
    scales `m / sqrt(v)` by `sqrt(1 - b2^t) / (1 - b1^t)`; this one does not
    (beta powers 0 in the fused kernel).
    """

    def _powers_and_epsilon(self, dtype):
        zero = tf.zeros([], dtype)
        return zero, zero, tf.cast(self.epsilon, dtype)


@keras.saving.register_keras_serializable(package="tfcore")
class BiasCorrectedAdamW(_FusedAdamW):
    """AdamW with epsilon added to the bias-corrected `sqrt(v_hat)`, as PyTorch computes it.

    `m_hat = m / (1 - b1^t)`, `v_hat = v / (1 - b2^t)`,
    `w -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * w)`
    (the fused kernel's `eps' = eps * sqrt(1 - b2^t)`).
    Keras' `AdamW` adds epsilon to `sqrt(v)` before correcting ("epsilon hat"):
    its epsilon is in effect `1 / sqrt(1 - b2^t)` times larger (31x at step 1,
    3x at step 100), which slows the parameters with small gradients in the
    first hundreds of steps. From the same weights and batches, a SQuAD
    fine-tuning step of Keras' AdamW drifts from PyTorch's within 10 steps;
    this one follows it.
    """

    def _powers_and_epsilon(self, dtype):
        step = tf.cast(self.iterations + 1, dtype)
        power_1 = tf.pow(tf.cast(self.beta_1, dtype), step)
        power_2 = tf.pow(tf.cast(self.beta_2, dtype), step)
        return power_1, power_2, tf.cast(self.epsilon, dtype) * tf.sqrt(1.0 - power_2)


def create_optimizer(name, learning_rate, weight_decay=0.01, beta_1=ADAM_BETA_1,
                     beta_2=ADAM_BETA_2, epsilon=ADAM_EPSILON, bias_correction=True):
    """Returns a Keras optimizer: "adamw" (Google's settings), "lamb" or "adam".

    Args:
      name: "adamw", "lamb" or "adam".
      learning_rate: a float or a schedule (e.g. `WarmupDecaySchedule`).
      weight_decay: decoupled weight decay; never applied to biases and
        LayerNorm parameters.
      bias_correction: "adamw" only; False gives `AdamWeightDecay` (Google's),
        True `BiasCorrectedAdamW` (PyTorch's).
    """
    if name == "adamw":
        adamw = BiasCorrectedAdamW if bias_correction else AdamWeightDecay
        optimizer = adamw(learning_rate, weight_decay=weight_decay,
                          beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    elif name == "lamb":
        optimizer = keras.optimizers.Lamb(learning_rate, beta_1=beta_1, beta_2=beta_2,
                                          epsilon=epsilon, weight_decay=weight_decay or None)
    elif name == "adam":
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2,
                                          epsilon=epsilon)
    else:
        raise ValueError(f"Unknown optimizer {name!r}; expected adamw, lamb or adam.")
    if name != "adam" and weight_decay:
        optimizer.exclude_from_weight_decay(var_names=NO_DECAY_NAMES)
    return optimizer
