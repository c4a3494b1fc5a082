r"""Pretrain BERT (MLM + NSP) from TFRecord shards; resumable, distributed, exportable.

Google's flags keep working:

    python run_pretraining.py --bert_config_file=bert_config.json \
        --input_file='records/*.tfrecord' --output_dir=out --do_train --do_eval \
        --train_batch_size=32 --max_seq_length=128 --max_predictions_per_seq=20 \
        --num_train_steps=100000 --num_warmup_steps=10000 --learning_rate=1e-4

With no flags it runs the embedded default: a corpus of Python standard
library docstrings -> WordPiece vocab -> TFRecord shards -> a tiny BERT
trained for a few hundred steps -> evaluation on held-out shards -> export.

    python run_pretraining.py --model=gpt     # a character-level GPT -> ./gpt_output

Under --output_dir (default ./pretraining_output for BERT, ./gpt_output for
GPT): checkpoints (ckpt-N, the last --keep_checkpoint_max kept), TensorBoard
events (train/, eval/), metrics.json, flags.txt (the run's flags, for
--flagfile), the SavedModel under saved_model/ (or --export_dir), and the
trained model as a pretrained folder that `from_pretrained`, run_classifier's
--init_checkpoint, `tfbert.export_encoder --model_dir` and `tfgpt.generate
--checkpoint_dir` read as it is: for BERT Google's layout (bert_config.json,
bert_model.ckpt.*, vocab.txt), for GPT Hugging Face's (config.json,
model.safetensors, vocab.json [+ merges.txt]). Running the same command again
resumes from the last checkpoint (once finished: nothing to train; metrics.json
keeps the earlier training figures); --init_checkpoint only initialises the
weights of a run that has no checkpoint of its own.
"""

import dataclasses
import sys

from absl import app, flags

from tfcore import cli

FLAGS = flags.FLAGS
# Google's run_pretraining.py flags (same names and defaults).
flags.DEFINE_string("bert_config_file", None, "bert_config.json of the model to train.")
flags.DEFINE_string("input_file", None, "Training TFRecord files: comma-separated globs.")
flags.DEFINE_string("output_dir", None, "Checkpoints, logs, metrics, export and the pretrained "
                    "model (default: pretraining_output for BERT, gpt_output for GPT).")
flags.DEFINE_string("init_checkpoint", None, "Initial weights: Google TF1, Hugging Face or ours.")
flags.DEFINE_integer("max_seq_length", 128, "Tokens per record.")
flags.DEFINE_integer("max_predictions_per_seq", 20, "Masked-LM predictions per record.")
flags.DEFINE_bool("do_train", False, "Train.")
flags.DEFINE_bool("do_eval", False, "Evaluate (on --eval_input_file, else --input_file).")
flags.DEFINE_integer("train_batch_size", 32, "Global batch per forward pass (an optimizer "
                     "step sees train_batch_size * grad_accum_steps examples).")
flags.DEFINE_integer("eval_batch_size", 8, "Global evaluation batch.")
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate.")
flags.DEFINE_integer("num_train_steps", 100000, "Optimizer steps.")
flags.DEFINE_integer("num_warmup_steps", 10000, "Linear warmup steps.")
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Steps between checkpoints.")
flags.DEFINE_integer("max_eval_steps", 100, "Most evaluation batches.")
cli.define_tpu_flags()  # --use_tpu, --tpu_name, --iterations_per_loop and the accepted rest
# Ours.
flags.DEFINE_enum("model", "bert", ["bert", "gpt"], "What to pretrain.")
flags.DEFINE_string("config_file", None, "Model config (same as --bert_config_file for BERT).")
flags.DEFINE_string("eval_input_file", None, "Held-out TFRecord files for --do_eval.")
flags.DEFINE_string("vocab_file", None, "Tokenizer of the exported raw-text signature: BERT "
                    "vocab.txt; GPT vocab.json (characters, or BPE with --merges_file).")
flags.DEFINE_string("merges_file", None, "GPT-2 merges.txt of a byte-level BPE --vocab_file.")
flags.DEFINE_bool("do_lower_case", True, "Tokenizer casing of the exported signature.")
cli.define_training_flags(  # --strategy, --dtype, --seed, ...: shared with run_classifier.py
    defaults={"adam_bias_correction": None},
    helps={"adam_bias_correction": "Bias-correct AdamW's moments. Default: off for BERT "
           "(Google's AdamWeightDecayOptimizer), on for GPT (PyTorch AdamW, as nanoGPT)."})
flags.DEFINE_enum("optimizer", "adamw", ["adamw", "lamb", "adam"], "Optimizer.")
flags.DEFINE_enum("decay", "linear", ["linear", "polynomial", "cosine", "constant"],
                  "Learning-rate decay after the warmup.")
flags.DEFINE_float("end_learning_rate", 0.0, "Learning rate at the last step.")
flags.DEFINE_float("decay_power", 1.0, "Power of --decay=polynomial.")
flags.DEFINE_float("adam_beta1", 0.9, "Adam beta_1.")
flags.DEFINE_float("adam_beta2", 0.999, "Adam beta_2 (nanoGPT's small runs use 0.99).")
flags.DEFINE_float("adam_epsilon", None, "Adam epsilon. Default: 1e-6 for BERT (Google's), "
                   "1e-8 for GPT (PyTorch's, as nanoGPT).")
flags.DEFINE_integer("grad_accum_steps", 1, "Batches of --train_batch_size whose gradients "
                     "are summed into one optimizer step.")
flags.DEFINE_string("export_dir", None, "SavedModel folder (default output_dir/saved_model).")
flags.DEFINE_bool("do_export", True, "Export a SavedModel at the end.")
flags.DEFINE_bool("skip_corrupt_records", False, "Skip the rest of a corrupt or truncated "
                  "shard with a warning (default: stop with an error naming the file).")


def config_from_command_line():
    """The flags as a validated `PretrainingConfig`; no --input_file: the embedded preset.

    The preset's settings fill every flag the user did not give, and the flags
    are set to the final values, so flags.txt records the run as it ran.
    """
    from tftasks.pretraining import OptionError, PretrainingConfig, preset_config
    config = cli.config_from_flags(PretrainingConfig, FLAGS)
    if config.is_embedded_default:
        given = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                 if FLAGS[f.name].present}
        config = preset_config(f"embedded_{config.model}", **given)
    try:
        config.validate()
    except OptionError as e:
        raise app.UsageError(str(e)) from None
    config = config.with_defaults()
    for name, value in dataclasses.asdict(config).items():
        if FLAGS[name].value != value:
            setattr(FLAGS, name, value)
    return config


def main(argv):
    """Flags -> config -> `tftasks.pretraining.run`; known failures end with one clear line."""
    del argv
    config = config_from_command_line()  # Usage errors come before TensorFlow's import.
    import tensorflow as tf
    from tfcore.config import ConfigError
    from tfcore.training import CheckpointWriteError, NonFiniteLossError
    from tftasks.pretraining import run
    from tftasks.pretraining.summary import print_summary
    try:
        result = run(config, notify=print,
                     run_record=lambda output_dir: cli.write_run_record(
                         output_dir, "run_pretraining.py"))
    except (CheckpointWriteError, NonFiniteLossError, ConfigError, FileNotFoundError) as e:
        sys.exit(f"ERROR: {e}")
    except tf.errors.OpError as e:
        sys.exit(f"ERROR: {e.message.strip()}")
    if result.metrics_path:  # the chief wrote the outputs
        print_summary(result)


if __name__ == "__main__":
    cli.run_main(main)
