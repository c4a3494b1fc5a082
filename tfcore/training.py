"""A distributed training loop of our own, with checkpoints, resume and a NaN guard.

Keras 3 `model.fit` fails under `MultiWorkerMirroredStrategy` here, and it
clips and normalises per replica; this loop works under every strategy and
computes exactly the single-device loss and gradient for the same global
batch:

- A *task* says how its loss and metrics are ratios of sums over the batch
  (`numerators(model, batch)` / `denominators(batch)`). Denominators are
  summed over replicas and micro-batches before the forward pass, so e.g.
  the MLM loss is normalised by the global sum of `masked_lm_weights`.
- Gradients are summed over micro-batches (`grad_accum_steps`) and
  replicas, then clipped by global norm, then applied once.
- Checkpoints hold the model, the optimizer (slots and step) and the dropout
  RNG states; on resume the input skips the batches already consumed.

Example:

    trainer = Trainer(model, optimizer, task, strategy, clip_norm=1.0)
    trainer.fit(dataset_fn, num_train_steps=1000, checkpoint_dir="out")
"""

import os
import shutil
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfcore.distribute import is_chief

# Added to every denominator: Google's MLM loss adds 1e-5 to the weight sum.
RATIO_EPSILON = 1e-5


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN/Inf loss; the message names the step."""


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (e.g. a full disk); the previous one is intact."""


def _split(batch, parts):
    """Splits every feature of `batch` into `parts` equal micro-batches."""
    if parts == 1:
        return [batch]
    pieces = {k: tf.split(v, parts, axis=0) for k, v in batch.items()}
    return [{k: pieces[k][i] for k in batch} for i in range(parts)]


def first_local_value(strategy, per_replica):
    """The local copy of values that are equal on every replica (already all-reduced)."""
    return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0],
                                 per_replica)


def ratios(numerators, denominators):
    """`{name: numerator / (denominator + RATIO_EPSILON)}` for every numerator."""
    return {k: numerators[k] / (denominators[k] + RATIO_EPSILON) for k in numerators}


class TrainingTask:
    """The one task protocol of `Trainer`: a loss and metrics as ratios of batch sums.

    Every metric `m` is `numerators[m] / denominators[m]` where both are sums
    over the examples of a batch; the Trainer adds them up over micro-batches,
    replicas and evaluation batches before dividing, so every figure is that
    of the global batch (or the whole evaluation set), exactly as on one device.
    Subclasses: `tfbert.pretrainer.BertPretrainingTask` (MLM + NSP),
    `tfgpt.task.LMTask` (next token), the classification task of `tftasks`.

    `loss_names`: the metrics whose ratios are summed into the loss. Example:
    `loss_names = ("mse",)`, `denominators(batch) -> {"mse": examples}`,
    `numerators(model, batch, training) -> {"mse": sum of squared errors}`.
    """

    loss_names = ()

    def denominators(self, batch):
        """`{metric name: float32 scalar}`: the batch's sums the ratios divide by.

        Computed from the batch alone (no model), before the forward pass.
        `batch`: the dataset's feature dict, `[per-replica batch, ...]` each.
        """
        raise NotImplementedError(f"{type(self).__name__} must define denominators(batch).")

    def numerators(self, model, batch, training):
        """`{metric name: float32 scalar}`: the batch's sums of loss and hits.

        Same keys as `denominators`; `training` goes to `model(..., training=)`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define numerators(model, batch, training).")


class Trainer:
    """Runs a task's training and evaluation under a `tf.distribute` strategy.

    Args:
      model: a Keras model built under `strategy.scope()`.
      optimizer: a Keras optimizer (or LossScaleOptimizer for float16), made
        under the same scope, without its own clipping.
      task: a `TrainingTask` (`loss_names`, `denominators(batch)`,
        `numerators(model, batch, training)`: dicts of float32 scalars).
      grad_accum_steps: each per-replica batch is split into this many
        micro-batches whose gradients are summed.
      clip_norm: global-norm clipping of the all-reduced gradient (None: off).
      steps_per_execution: training steps per `tf.function` call.
    """

    def __init__(self, model, optimizer, task, strategy=None, grad_accum_steps=1,
                 clip_norm=1.0, steps_per_execution=1, jit_compile=False):
        self.model, self.optimizer, self.task = model, optimizer, task
        self.strategy = strategy or tf.distribute.get_strategy()
        self.grad_accum_steps = grad_accum_steps
        self.clip_norm = clip_norm
        self.steps_per_execution = steps_per_execution
        self._replica_step = tf.function(self._train_replica_step, jit_compile=jit_compile)
        self._train_function = None
        self._eval_function = None

    # ------------------------------------------------------------ one step

    def _loss_scale(self):
        scale = getattr(self.optimizer, "dynamic_scale", None)
        return 1.0 if scale is None else tf.cast(scale, tf.float32)

    def _train_replica_step(self, batch):
        ctx = tf.distribute.get_replica_context()
        den = ctx.all_reduce(tf.distribute.ReduceOp.SUM, self.task.denominators(batch))
        variables = self.model.trainable_variables
        grads, totals = None, None
        for part in _split(batch, self.grad_accum_steps):
            with tf.GradientTape() as tape:
                nums = self.task.numerators(self.model, part, training=True)
                loss = tf.add_n([nums[n] / (den[n] + RATIO_EPSILON) for n in self.task.loss_names])
                scaled = loss * self._loss_scale()
            part_grads = [tf.convert_to_tensor(g) for g in tape.gradient(scaled, variables)]
            grads = part_grads if grads is None else [a + b for a, b in zip(grads, part_grads)]
            totals = nums if totals is None else {k: totals[k] + nums[k] for k in nums}
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads)
        scale = self._loss_scale()
        if self.clip_norm:
            # Clipping the scaled gradient at clip * scale == clipping the true one.
            grads, norm = tf.clip_by_global_norm(grads, self.clip_norm * scale)
        else:
            norm = tf.linalg.global_norm(grads)
        replicas = self.strategy.num_replicas_in_sync
        if replicas > 1:  # Keras' optimizer sums replica gradients again.
            grads = [g / replicas for g in grads]
        self.optimizer.apply(grads, variables)
        metrics = ratios(ctx.all_reduce(tf.distribute.ReduceOp.SUM, totals), den)
        metrics["loss"] = tf.add_n([metrics[n] for n in self.task.loss_names])
        metrics["grad_norm"] = norm / scale
        return metrics

    def _make_train_function(self):
        strategy = self.strategy

        def one_step(iterator):
            per_replica = strategy.run(self._replica_step, args=(next(iterator),))
            return first_local_value(strategy, per_replica)

        @tf.function
        def train_function(iterator, steps):
            metrics = one_step(iterator)
            for _ in tf.range(steps - 1):
                metrics = one_step(iterator)
            return metrics

        if self.steps_per_execution == 1:  # one step per call: trace the step once, not twice
            return tf.function(lambda iterator, steps: one_step(iterator))
        return train_function

    # ------------------------------------------------------------ checkpoints

    @property
    def step(self):
        """Training steps taken so far (the optimizer's iteration count)."""
        return int(self.optimizer.iterations.value.numpy())

    def checkpoint(self):
        """The tf.train.Checkpoint of everything a bit-identical resume needs."""
        rng_states = [v.value for v in self.model.non_trainable_variables
                      if "seed_generator" in v.path]
        return tf.train.Checkpoint(model=self.model, optimizer=self.optimizer,
                                   rng_states=rng_states)

    def restore_or_initialize(self, checkpoint_dir, max_to_keep=5):
        """Builds the optimizer, restores the latest checkpoint if any; returns the step."""
        with self.strategy.scope():
            self.optimizer.build(self.model.trainable_variables)
        directory = checkpoint_dir
        if not is_chief(self.strategy):
            # Every worker must save (the save is collective); others write to scratch.
            task_id = self.strategy.cluster_resolver.task_id
            directory = os.path.join(checkpoint_dir, f".worker_{task_id}_scratch")
        self._checkpoint = self.checkpoint()
        self.manager = tf.train.CheckpointManager(
            self._checkpoint, directory, max_to_keep=max_to_keep)
        latest = tf.train.latest_checkpoint(checkpoint_dir)
        if latest:
            self._checkpoint.restore(latest).assert_existing_objects_matched()
            logging.info("Resumed from %s at step %d.", latest, self.step)
        return self.step

    def save(self):
        """Writes a checkpoint; a failed write leaves the previous one as the latest."""
        previous = self.manager.latest_checkpoint
        try:
            path = self.manager.save(checkpoint_number=self.step)
        except (tf.errors.OpError, OSError) as e:
            message = getattr(e, "message", None) or str(e)
            raise CheckpointWriteError(
                f"Could not write the checkpoint of step {self.step} under "
                f"{self.manager.directory}: {message.strip()}. The previous checkpoint "
                f"({previous or 'none'}) is intact: free space and run again to resume."
            ) from None
        if not is_chief(self.strategy):
            shutil.rmtree(self.manager.directory, ignore_errors=True)
        return path

    # ------------------------------------------------------------ loops

    def distribute(self, dataset_fn, skip_steps=0):
        """Distributes `dataset_fn(input_context)`; skips the batches of `skip_steps` steps."""
        strategy = self.strategy

        def per_worker(context):
            dataset = dataset_fn(context)
            replicas_per_pipeline = context.num_replicas_in_sync // context.num_input_pipelines
            return dataset.skip(skip_steps * replicas_per_pipeline) if skip_steps else dataset

        return strategy.distribute_datasets_from_function(per_worker)

    def fit(self, dataset_fn, num_train_steps, checkpoint_dir, save_checkpoints_steps=1000,
            max_to_keep=5, on_execution=None, max_seconds=None):
        """Trains to `num_train_steps`, resuming from `checkpoint_dir` if it has a checkpoint.

        Args:
          dataset_fn: `input_context -> tf.data.Dataset` of per-replica batches
            (each split into `grad_accum_steps` micro-batches), repeated.
          on_execution: optional `callback(step, metrics: dict of floats, seconds)`
            after every `steps_per_execution` steps. A true return value stops
            training there (e.g. early stopping), with a checkpoint of that step.
          max_seconds: optional time budget: training stops (with a checkpoint)
            after the first execution that ends past it; a rerun resumes there.
        Returns the metrics of the last execution (floats).
        """
        step = self.restore_or_initialize(checkpoint_dir, max_to_keep)
        if step >= num_train_steps:
            logging.info("Checkpoint step %d >= num_train_steps %d: nothing to train.",
                         step, num_train_steps)
            return {}
        iterator = iter(self.distribute(dataset_fn, skip_steps=step))
        if self._train_function is None:
            self._train_function = self._make_train_function()
        metrics = {}
        deadline = None if max_seconds is None else time.perf_counter() + max_seconds
        while step < num_train_steps:
            # Executions stop at checkpoint boundaries so saves land on exact steps.
            to_boundary = save_checkpoints_steps - step % save_checkpoints_steps
            steps = min(self.steps_per_execution, num_train_steps - step, to_boundary)
            start = time.perf_counter()
            result = self._train_function(iterator, tf.constant(steps))
            metrics = {k: float(v) for k, v in result.items()}
            seconds = time.perf_counter() - start
            step = self.step
            if not np.isfinite(metrics["loss"]):
                raise NonFiniteLossError(
                    f"Loss is {metrics['loss']} at step {step}; training stopped. The last "
                    f"good checkpoint is kept: {self.manager.latest_checkpoint}.")
            stop = bool(on_execution(step, metrics, seconds)) if on_execution else False
            out_of_time = deadline is not None and time.perf_counter() >= deadline
            if (step % save_checkpoints_steps == 0 or step >= num_train_steps or out_of_time
                    or stop):
                self.save()
            if stop:
                logging.info("Stopped at step %d of %d by the on_execution callback.", step,
                             num_train_steps)
                break
            if out_of_time:
                logging.info("Time budget of %.0f s spent at step %d: stopping.", max_seconds,
                             step)
                break
        return metrics

    def evaluate(self, dataset_fn, max_steps=None):
        """Global ratio metrics over a finite dataset (or its first `max_steps` batches)."""
        strategy, task, model = self.strategy, self.task, self.model

        def replica_sums(batch):
            sums = (task.numerators(model, batch, training=False), task.denominators(batch))
            return tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.SUM, sums)

        @tf.function
        def eval_step(batch):
            return first_local_value(strategy, strategy.run(replica_sums, args=(batch,)))

        nums, dens = None, None
        for i, batch in enumerate(self.distribute(dataset_fn)):
            if max_steps is not None and i >= max_steps:
                break
            n, d = eval_step(batch)
            nums = n if nums is None else {k: nums[k] + n[k] for k in n}
            dens = d if dens is None else {k: dens[k] + d[k] for k in d}
        if nums is None:
            raise ValueError("The evaluation dataset is empty.")
        metrics = {k: float(v) for k, v in ratios(nums, dens).items()}
        metrics["loss"] = sum(metrics[n] for n in task.loss_names)
        return metrics
