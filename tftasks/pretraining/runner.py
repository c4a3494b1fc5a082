"""One pretraining run: build, train, evaluate, save the pretrained folder, export, metrics.

`run(config)` is what `run_pretraining.py` calls after reading its flags;
Python users call it the same way (`tftasks.pretraining.run`), without absl.
Under `config.output_dir`: checkpoints (ckpt-N), TensorBoard events (train/,
eval/), metrics.json, the pretrained folder (BERT: Google's layout; GPT:
Hugging Face's) and the SavedModel (saved_model/ or `config.export_dir`).

Example:

    result = run(preset_config("embedded_bert", num_train_steps=20,
                               num_warmup_steps=2, output_dir="out"))
    result.metrics["eval"]["masked_lm_accuracy"]
"""

import dataclasses
import hashlib
import json
import os
import time
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfcore import distribute, experiment, reporting, training
from tfcore.io import write_json_atomically
from tftasks.pretraining.data import prepare_embedded_data
from tftasks.pretraining.models import RECIPES, adam_kwargs
from tftasks.pretraining.presets import embedded_preset


@dataclasses.dataclass
class PretrainingResult:
    """What a run produced. `metrics_path`/`export_dir` are None where not written
    (a non-chief worker writes neither; export needs a vocab file and --do_export)."""

    model: str
    metrics: dict
    output_dir: str
    metrics_path: Optional[str] = None
    export_dir: Optional[str] = None
    seconds: float = 0.0


def run(config, run_record: Optional[Callable] = None, notify: Callable = logging.info):
    """Trains, evaluates and exports as `config` (a `PretrainingConfig`) says.

    Args:
      config: validated here too; `output_dir` None means the model's default.
      run_record: optional `callback(output_dir)` called on the chief before any
        data is built (run_pretraining.py writes flags.txt with it).
      notify: `callback(line)` for lines meant for the user ("nothing to train").
    Returns a `PretrainingResult`. Raises `OptionError` for a bad config,
    `CheckpointWriteError`, `NonFiniteLossError`, `ConfigError`, tf.errors.OpError.
    """
    config = config.with_defaults()
    config.validate()
    started = time.time()
    experiment.configure_runtime(config.dtype, config.deterministic, config.seed)
    strategy = distribute.get_strategy("tpu" if config.use_tpu else config.strategy,
                                       config.tpu_name)
    chief = distribute.is_chief(strategy)
    if chief and run_record is not None:
        # Before the embedded default fills in input_file: the record repeats the run as given.
        run_record(config.output_dir)
    session = _prepare(config, strategy, notify)
    results = _train_and_evaluate(session, chief, notify)
    result = PretrainingResult(config.model, results, config.output_dir)
    if chief:
        _write_outputs(session, result)
    result.seconds = time.time() - started
    return result


@dataclasses.dataclass
class _Session:
    """The pieces of a run once built (config with its data filled in)."""

    config: object
    recipe: object
    model: object
    trainer: object
    schedule: object
    vocab_file: Optional[str]
    merges_file: Optional[str]


def _prepare(config, strategy, notify):
    """Embedded data (if any), model config, model, optimizer and trainer."""
    recipe, preset = RECIPES[config.model], embedded_preset(config.model)
    vocab_file = config.vocab_file
    if config.is_embedded_default:
        data = prepare_embedded_data(os.path.join(config.output_dir, "data"), config, preset,
                                     notify)
        config = config.replace(input_file=data["input_file"],
                                eval_input_file=data["eval_input_file"])
        vocab_file = vocab_file or data["vocab_file"]
    vocab_size = vocab_size_of(vocab_file) if vocab_file else None
    model_config = recipe.model_config(config, vocab_size, preset)
    with strategy.scope():
        model = recipe.build_model(model_config)
        optimizer, schedule = experiment.make_optimizer(
            config.optimizer, config.learning_rate, config.num_train_steps,
            config.num_warmup_steps, config.decay, config.end_learning_rate,
            config.weight_decay, config.dtype, config.decay_power,
            beta_1=config.adam_beta1, beta_2=config.adam_beta2, **adam_kwargs(config, recipe))
    merges_file = config.merges_file
    has_own_checkpoint = tf.train.latest_checkpoint(config.output_dir) is not None
    if config.init_checkpoint and not has_own_checkpoint:
        model.load_pretrained_weights(config.init_checkpoint)
        if not vocab_file:
            vocab_file, merges_file = recipe.tokenizer_files(model, merges_file)
    trainer = training.Trainer(model, optimizer, recipe.task(), strategy,
                               config.grad_accum_steps, config.clip_norm or None,
                               config.steps_per_execution, config.jit_compile)
    return _Session(config, recipe, model, trainer, schedule, vocab_file, merges_file)


def _train_and_evaluate(session, chief, notify):
    """`{"train"?, "steps", "weights_sha256", "eval"?}` of this run."""
    config, trainer = session.config, session.trainer
    train_fn, eval_fn = session.recipe.datasets(config)
    results = {}
    if config.do_train:
        train_metrics = _train(session, train_fn, chief, notify)
        if train_metrics is not None:
            results["train"] = train_metrics
    else:
        trainer.restore_or_initialize(config.output_dir, config.keep_checkpoint_max)
    results["steps"] = trainer.step
    results["weights_sha256"] = weights_digest(session.model)
    logging.info("Final weights sha256 %s", results["weights_sha256"])
    if config.do_eval:
        results["eval"] = trainer.evaluate(eval_fn, config.max_eval_steps)
        results["eval"].update(session.recipe.eval_extras(train_fn, eval_fn, config))
        if chief:
            reporting.write_scalars(os.path.join(config.output_dir, "eval"), trainer.step,
                                    results["eval"])
    return results


def _train(session, train_fn, chief, notify):
    """Trains to num_train_steps; returns the `train` metrics, or None if nothing was left."""
    config, trainer = session.config, session.trainer
    step_batch = config.train_batch_size * config.grad_accum_steps
    reporter = reporting.TrainingReporter(
        config.num_train_steps, os.path.join(config.output_dir, "train") if chief else None,
        tokens_per_step=step_batch * config.max_seq_length,
        examples_per_step=step_batch, learning_rate=session.schedule)
    metrics = trainer.fit(train_fn, config.num_train_steps, config.output_dir,
                          config.save_checkpoints_steps, config.keep_checkpoint_max,
                          on_execution=reporter)
    reporter.close()
    if not metrics:  # fit returns {} when the checkpoint is already at the last step
        notify(f"Already at step {trainer.step} (--num_train_steps={config.num_train_steps}), "
               "nothing to train.")
        return None
    metrics.update(reporter.throughput())
    return metrics


def _write_outputs(session, result):
    """metrics.json (merged with the earlier one), the pretrained folder, the SavedModel."""
    config, recipe = session.config, session.recipe
    result.metrics_path = os.path.join(config.output_dir, "metrics.json")
    result.metrics = merged_metrics(result.metrics_path, result.metrics)
    write_json_atomically(result.metrics_path, result.metrics)
    recipe.save_pretrained(session.model, config.output_dir, session.vocab_file,
                           session.merges_file)
    logging.info("Wrote the pretrained %s folder %s", config.model, config.output_dir)
    if config.do_export and session.vocab_file:
        result.export_dir = recipe.export(
            session.model, config.export_dir or os.path.join(config.output_dir, "saved_model"),
            session.vocab_file, session.merges_file, config)


def merged_metrics(metrics_path, results):
    """`results` over the earlier metrics.json: sections this run did not produce are kept.

    A rerun that trains nothing has no `train` section of its own; the earlier
    run's figures stay instead of being replaced by zeros.
    """
    try:
        with open(metrics_path, encoding="utf-8") as f:
            merged = json.load(f)
    except (OSError, ValueError):
        return results
    merged = merged if isinstance(merged, dict) else {}
    merged.update(results)
    return merged


def weights_digest(model):
    """sha256 over every weight's bytes: equal digests mean identical weights."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()


def vocab_size_of(vocab_file):
    """Entries of a vocab.txt (one per line) or a vocab.json (an object)."""
    with open(vocab_file, encoding="utf-8") as f:
        if vocab_file.endswith(".json"):
            return len(json.load(f))
        return sum(1 for _ in f)
