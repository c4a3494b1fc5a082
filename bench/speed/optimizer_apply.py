"""One AdamW apply over all-MiniLM-L6-v2's trainable shapes: our fused kernels vs element-wise ops.

    python -m bench optimizer_apply [--rounds=5 --calls=15 --threads=2]

Sides, each a `tf.function` around `optimizer.apply(grads, variables)` on
the 103 trainable shapes of all-MiniLM-L6-v2 + a span head (22.6M float32
parameters, random values, gradients of 1e-3 scale):

- `fused`: `tfcore.optimization.BiasCorrectedAdamW` (two fused kernels per
  variable: `ResourceApplyGradientDescent` for the decay, `ResourceApplyAdam`);
- `elementwise`: the same rule written as element-wise TensorFlow ops (one
  pass over the variable each), as the previous commit of this optimizer had it;
- `keras`: Keras 3's `AdamW` (its own rule, epsilon on `sqrt(v)`).

Each round times every side (median of `--calls` calls after two warm-up
calls), the first side rotating; reported: each side's median over rounds and
the median of the per-round ratios elementwise / fused and keras / fused,
with the matmul and memory-read ceilings (the update is memory-bound).
"""

from absl import flags
import numpy as np

from bench.speed import ceiling, common

FLAGS = flags.FLAGS
HIDDEN, FFN, LAYERS, VOCAB, POSITIONS = 384, 1536, 6, 30522, 512


def define_flags():
    """This benchmark's flags (python -m bench calls it before parsing)."""
    if "calls" in FLAGS:
        return
    flags.DEFINE_integer("rounds", 5, "Rounds (each times every side once).")
    flags.DEFINE_integer("calls", 15, "Timed calls per side per round (the median is kept).")
    flags.DEFINE_integer("threads", 2, "TensorFlow threads.")


def minilm_shapes():
    """The trainable shapes of all-MiniLM-L6-v2 with a 2-output span head."""
    h, f = HIDDEN, FFN
    shapes = [(VOCAB, h), (POSITIONS, h), (2, h), (h,), (h,)]
    for _ in range(LAYERS):
        shapes += [(h, h), (h,)] * 4 + [(h,), (h,), (h, f), (f,), (f, h), (h,), (h,), (h,)]
    return shapes + [(h, 2), (2,)]


def elementwise_adamw():
    """The bias-corrected AdamW rule as element-wise ops (a Keras AdamW subclass)."""
    import keras
    import tensorflow as tf

    class ElementwiseAdamW(keras.optimizers.AdamW):
        def update_step(self, gradient, variable, learning_rate):
            dtype = variable.dtype
            lr = tf.cast(learning_rate, dtype)
            step = tf.cast(self.iterations + 1, dtype)
            correction_1 = 1.0 - tf.pow(tf.cast(self.beta_1, dtype), step)
            correction_2 = 1.0 - tf.pow(tf.cast(self.beta_2, dtype), step)
            m = self._momentums[self._get_variable_index(variable)]
            v = self._velocities[self._get_variable_index(variable)]
            self.assign_add(m, (gradient - m) * (1 - self.beta_1))
            self.assign_add(v, (tf.square(gradient) - v) * (1 - self.beta_2))
            self.assign_sub(variable, lr / correction_1 * m
                            / (tf.sqrt(v / correction_2) + self.epsilon))

    return ElementwiseAdamW(1e-4, weight_decay=0.01, epsilon=1e-6)


def timed_apply(make_optimizer, shapes, rng, calls):
    """Median seconds of one `optimizer.apply` over fresh variables of `shapes`."""
    import keras
    import tensorflow as tf
    variables = [keras.Variable(rng.normal(size=s).astype(np.float32) * 0.02,
                                name="kernel" if len(s) == 2 else "bias") for s in shapes]
    grads = [tf.constant(rng.normal(size=s).astype(np.float32) * 1e-3) for s in shapes]
    optimizer = make_optimizer()
    optimizer.build(variables)
    step = tf.function(lambda: optimizer.apply(grads, variables))
    step()
    step()
    return float(np.median(common.time_calls(step, calls)))


def main(argv):
    del argv
    common.setup_threads(FLAGS.threads)
    import keras
    from tfcore.optimization import create_optimizer
    common.check_pressure("before")
    print(ceiling.describe(ceiling.measure(with_bandwidth=True, repeats=5)))
    shapes = minilm_shapes()
    params = sum(int(np.prod(s)) for s in shapes)
    sides = {
        "fused": lambda: create_optimizer("adamw", 1e-4, weight_decay=0.01, bias_correction=True),
        "elementwise": elementwise_adamw,
        "keras": lambda: keras.optimizers.AdamW(1e-4, weight_decay=0.01, epsilon=1e-6),
    }
    names = list(sides)
    rng = np.random.default_rng(0)
    times = {name: [] for name in names}
    for r in range(FLAGS.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(timed_apply(sides[name], shapes, rng, FLAGS.calls))
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1] * 1e3:.1f} ms" for n in names),
              flush=True)
    common.check_pressure("after")
    print(f"\nOne apply over {len(shapes)} variables, {params / 1e6:.1f}M parameters, "
          f"{FLAGS.threads} thread(s), median of {FLAGS.rounds} rounds:")
    for name in names:
        print(f"  {name:<12} {np.median(times[name]) * 1e3:7.1f} ms")
    for name in ("elementwise", "keras"):
        ratios = [a / b for a, b in zip(times[name], times["fused"])]
        print(f"  {name} / fused: {np.median(ratios):.2f}x (median of per-round ratios)")
