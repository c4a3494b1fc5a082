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

import json
import os
import sys
import time

from absl import app, flags, logging

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
flags.DEFINE_integer("iterations_per_loop", 1000, "Google's TPU loop size (see --steps_per_execution).")
flags.DEFINE_integer("max_eval_steps", 100, "Most evaluation batches.")
flags.DEFINE_bool("use_tpu", False, "Same as --strategy=tpu.")
flags.DEFINE_string("tpu_name", None, "TPU to connect to.")
flags.DEFINE_string("tpu_zone", None, "Accepted for compatibility; the resolver finds it.")
flags.DEFINE_string("gcp_project", None, "Accepted for compatibility.")
flags.DEFINE_string("master", None, "Accepted for compatibility.")
flags.DEFINE_integer("num_tpu_cores", 8, "Accepted for compatibility.")
# Ours.
flags.DEFINE_enum("model", "bert", ["bert", "gpt"], "What to pretrain.")
flags.DEFINE_string("config_file", None, "Model config (same as --bert_config_file for BERT).")
flags.DEFINE_string("eval_input_file", None, "Held-out TFRecord files for --do_eval.")
flags.DEFINE_string("vocab_file", None, "Tokenizer of the exported raw-text signature: BERT "
                    "vocab.txt; GPT vocab.json (characters, or BPE with --merges_file).")
flags.DEFINE_string("merges_file", None, "GPT-2 merges.txt of a byte-level BPE --vocab_file.")
flags.DEFINE_bool("do_lower_case", True, "Tokenizer casing of the exported signature.")
flags.DEFINE_enum("strategy", "default", ["default", "one_device", "mirrored",
                                          "multi_worker", "tpu"], "tf.distribute strategy.")
flags.DEFINE_enum("dtype", "float32", ["float32", "bfloat16", "float16"],
                  "Compute precision (float16 uses dynamic loss scaling).")
flags.DEFINE_bool("jit_compile", False, "XLA-compile the training step.")
flags.DEFINE_integer("steps_per_execution", 1, "Training steps per tf.function call.")
flags.DEFINE_enum("optimizer", "adamw", ["adamw", "lamb", "adam"], "Optimizer.")
flags.DEFINE_enum("decay", "linear", ["linear", "polynomial", "cosine", "constant"],
                  "Learning-rate decay after the warmup.")
flags.DEFINE_float("end_learning_rate", 0.0, "Learning rate at the last step.")
flags.DEFINE_float("decay_power", 1.0, "Power of --decay=polynomial.")
flags.DEFINE_float("weight_decay", 0.01, "Decoupled weight decay (not on LayerNorm, biases).")
flags.DEFINE_float("adam_beta1", 0.9, "Adam beta_1.")
flags.DEFINE_float("adam_beta2", 0.999, "Adam beta_2 (nanoGPT's small runs use 0.99).")
flags.DEFINE_float("clip_norm", 1.0, "Global-norm gradient clipping (0: off).")
flags.DEFINE_bool("adam_bias_correction", None, "Bias-correct AdamW's moments. Default: off "
                  "for BERT (Google's AdamWeightDecayOptimizer), on for GPT (PyTorch AdamW, "
                  "as nanoGPT).")
flags.DEFINE_float("adam_epsilon", None, "Adam epsilon. Default: 1e-6 for BERT (Google's), "
                   "1e-8 for GPT (PyTorch's, as nanoGPT).")
flags.DEFINE_integer("grad_accum_steps", 1, "Batches of --train_batch_size whose gradients "
                     "are summed into one optimizer step.")
flags.DEFINE_string("export_dir", None, "SavedModel folder (default output_dir/saved_model).")
flags.DEFINE_bool("do_export", True, "Export a SavedModel at the end.")
flags.DEFINE_integer("keep_checkpoint_max", 5, "Checkpoints kept.")
flags.DEFINE_bool("deterministic", False, "Op determinism, fixed seeds, fixed input order.")
flags.DEFINE_integer("seed", 12345, "Seed of initialisation, dropout and input order.")
flags.DEFINE_bool("skip_corrupt_records", False, "Skip the rest of a corrupt or truncated "
                  "shard with a warning (default: stop with an error naming the file).")

# The embedded default's settings (used where the flag is not given).
EMBEDDED_DEFAULTS = dict(do_train=True, do_eval=True, max_seq_length=64,
                         max_predictions_per_seq=10, train_batch_size=32, eval_batch_size=64,
                         learning_rate=1e-3, num_train_steps=600, num_warmup_steps=60,
                         save_checkpoints_steps=200, steps_per_execution=10,
                         # lr 1e-3 over 600 steps: Google's uncorrected early Adam steps
                         # (~3x larger) leave this small run at the baseline; Keras' AdamW learns.
                         adam_bias_correction=True)
# GPT's embedded default: characters of the same corpus, a 4-layer decoder.
EMBEDDED_GPT_DEFAULTS = dict(max_seq_length=64, learning_rate=2e-3, num_warmup_steps=60,
                             decay="cosine", end_learning_rate=2e-4, weight_decay=0.1,
                             adam_beta2=0.99)
EMBEDDED_GPT_CONFIG = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                           intermediate_size=512, max_position_embeddings=64,
                           hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                           bos_token_id=0, eos_token_id=0)  # the character vocab's <|endoftext|>
EMBEDDED_CONFIG = dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=512, max_position_embeddings=128, type_vocab_size=2,
                       hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
EMBEDDED_VOCAB_SIZE = 4000
# Models never share a default output folder (checkpoints of one would not restore into the other).
DEFAULT_OUTPUT_DIRS = {"bert": "pretraining_output", "gpt": "gpt_output"}
# The embedded data of each model under output_dir/data: train and held-out shard folders.
EMBEDDED_SHARD_FOLDERS = {"bert": ("train_records", "heldout_records"),
                          "gpt": ("gpt_train_records", "gpt_heldout_records")}


def is_embedded_default():
    return FLAGS.input_file is None


def apply_default_output_dir():
    """--output_dir, when not given, is the model's own folder (DEFAULT_OUTPUT_DIRS)."""
    if FLAGS.output_dir is None:
        FLAGS.output_dir = DEFAULT_OUTPUT_DIRS[FLAGS.model]
    if not FLAGS.output_dir.strip():
        raise app.UsageError("--output_dir must name a folder, got an empty value.")


def apply_embedded_defaults():
    """The embedded default's settings, for every flag the user did not give."""
    defaults = dict(EMBEDDED_DEFAULTS)
    if FLAGS.model == "gpt":
        defaults.update(EMBEDDED_GPT_DEFAULTS)
    for name, value in defaults.items():
        if not FLAGS[name].present:
            setattr(FLAGS, name, value)


# Float flags: (name, test of a finite value, what is expected). NaN and inf never pass.
FLOAT_FLAG_RANGES = (
    ("learning_rate", lambda v: v > 0, "positive"),
    ("end_learning_rate", lambda v: v >= 0, ">= 0"),
    ("decay_power", lambda v: v > 0, "positive"),
    ("weight_decay", lambda v: v >= 0, ">= 0"),
    ("clip_norm", lambda v: v >= 0, ">= 0 (0: no clipping)"),
    ("adam_beta1", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("adam_beta2", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("adam_epsilon", lambda v: v > 0, "positive"),
)


def validate_flags():
    """Usage errors before any work starts."""
    from tfcore.flag_checks import check_positive, check_ranges
    if not is_embedded_default() and not (FLAGS.do_train or FLAGS.do_eval):
        raise app.UsageError("At least one of --do_train or --do_eval must be set.")
    if FLAGS.model == "gpt" and FLAGS.bert_config_file:
        raise app.UsageError("--bert_config_file is for --model=bert; use --config_file.")
    if not is_embedded_default() and not (FLAGS.bert_config_file or FLAGS.config_file
                                          or FLAGS.init_checkpoint):
        raise app.UsageError("--bert_config_file (or --config_file/--init_checkpoint) is "
                             "required with --input_file.")
    check_positive(FLAGS, ("max_seq_length", "max_predictions_per_seq", "train_batch_size",
                           "eval_batch_size", "num_train_steps", "save_checkpoints_steps",
                           "steps_per_execution", "grad_accum_steps", "keep_checkpoint_max"))
    if FLAGS.num_warmup_steps < 0 or FLAGS.num_warmup_steps > FLAGS.num_train_steps:
        raise app.UsageError(f"--num_warmup_steps must be in [0, --num_train_steps], got "
                             f"{FLAGS.num_warmup_steps}.")
    check_ranges(FLAGS, FLOAT_FLAG_RANGES)
    if FLAGS.max_predictions_per_seq > FLAGS.max_seq_length:
        raise app.UsageError("--max_predictions_per_seq cannot exceed --max_seq_length.")


def embedded_data_settings():
    """What shapes the embedded data: a marker with other settings means rebuild."""
    settings = {"model": FLAGS.model, "max_seq_length": FLAGS.max_seq_length,
                "seed": FLAGS.seed}
    if FLAGS.model == "bert":
        settings.update(max_predictions_per_seq=FLAGS.max_predictions_per_seq,
                        vocab_size=EMBEDDED_VOCAB_SIZE)
    return settings


def is_data_ready(marker, settings):
    """True when `marker` exists and records exactly `settings`."""
    try:
        with open(marker, encoding="utf-8") as f:
            return json.load(f) == settings
    except (OSError, ValueError):
        return False


def prepare_embedded_data(folder):
    """Corpus -> vocab -> train/held-out shards under `folder`; reused when complete.

    Each model has its own shard folders and its own marker (`DONE-<model>`,
    written last, holding the settings the data was built with), so BERT's and
    GPT's data never stand in for each other. Everything runs in this process,
    through the same library functions as `python -m tfrecords.build_vocab` and
    `python -m tfrecords.create_pretraining_data` (byte-identical shards).
    Returns `{"vocab_file", "input_file", "eval_input_file"}`.
    """
    from tfcore.io import write_json_atomically
    from tfrecords import stdlib_corpus
    train, heldout = (os.path.join(folder, name) for name in EMBEDDED_SHARD_FOLDERS[FLAGS.model])
    marker, settings = os.path.join(folder, f"DONE-{FLAGS.model}"), embedded_data_settings()
    if FLAGS.model == "gpt":
        vocab, pattern = os.path.join(train, "vocab.json"), "*.tfrecord"
        build = build_embedded_gpt_data
    else:
        vocab, pattern = os.path.join(folder, "vocab.txt"), "*"
        build = build_embedded_bert_data
    if not is_data_ready(marker, settings):
        print(f"Embedded default: building a corpus, vocab and {FLAGS.model.upper()} shards "
              f"under {folder}")
        corpus = stdlib_corpus.write_corpus(os.path.join(folder, "corpus"))
        build(corpus["paths"], vocab, {"train": train, "heldout": heldout})
        write_json_atomically(marker, settings)
    return {"vocab_file": vocab, "input_file": os.path.join(train, pattern),
            "eval_input_file": os.path.join(heldout, pattern)}


def embedded_writer_configs(paths, vocab, shards):
    """`[WriterConfig]` of the embedded shards: train (5 passes) then held-out (1 pass).

    GPT's train pass learns the character vocab (written to `vocab`); the
    held-out pass reads it, so both share one vocabulary.
    """
    from tfrecords.writer import WriterConfig
    common = dict(num_shards=2, max_seq_length=FLAGS.max_seq_length, random_seed=FLAGS.seed)
    if FLAGS.model == "gpt":
        return [WriterConfig(input_file=paths["train"], output_dir=shards["train"], model="gpt",
                             tokenizer="char", **common),
                WriterConfig(input_file=paths["heldout"], output_dir=shards["heldout"],
                             model="gpt", tokenizer="char", vocab_file=vocab, **common)]
    return [WriterConfig(input_file=paths[name], vocab_file=vocab, output_dir=shards[name],
                         dupe_factor=dupe, max_predictions_per_seq=FLAGS.max_predictions_per_seq,
                         **common)
            for name, dupe in (("train", 5), ("heldout", 1))]


def build_embedded_bert_data(paths, vocab, shards):
    """WordPiece vocab of the train corpus, then masked-LM + NSP shards."""
    from tfrecords.build_vocab import build_vocab
    from tfrecords.writer import write_pretraining_data
    build_vocab(paths["train"], vocab, vocab_size=EMBEDDED_VOCAB_SIZE)
    for config in embedded_writer_configs(paths, vocab, shards):
        write_pretraining_data(config)


def build_embedded_gpt_data(paths, vocab, shards):
    """Character-level GPT shards (the vocab.json lands beside the train shards)."""
    from tfrecords.writer import write_pretraining_data
    for config in embedded_writer_configs(paths, vocab, shards):
        write_pretraining_data(config)


def gpt_config(vocab_size=None):
    from tfgpt import GPTConfig
    path = FLAGS.config_file
    if path:
        return GPTConfig.from_json_file(path)
    if FLAGS.init_checkpoint:
        return GPTConfig.from_json_file(os.path.join(FLAGS.init_checkpoint, "config.json"))
    return GPTConfig(vocab_size=vocab_size, **EMBEDDED_GPT_CONFIG)


def gpt_datasets():
    """`(train_fn, eval_fn)` of `{"token_ids": [batch, max_seq_length + 1]}`."""
    from tfrecords.reader import gpt_dataset
    eval_pattern = FLAGS.eval_input_file or FLAGS.input_file

    def train_fn(context):
        return gpt_dataset(FLAGS.input_file, FLAGS.train_batch_size * FLAGS.grad_accum_steps,
                           FLAGS.max_seq_length, is_training=True, input_context=context,
                           deterministic=FLAGS.deterministic, seed=FLAGS.seed,
                           skip_corrupt=FLAGS.skip_corrupt_records, split_targets=False)

    def eval_fn(context):
        batch = max(1, FLAGS.eval_batch_size // context.num_replicas_in_sync)
        return gpt_dataset(eval_pattern, batch, FLAGS.max_seq_length, is_training=False,
                           deterministic=True, skip_corrupt=FLAGS.skip_corrupt_records,
                           split_targets=False)

    return train_fn, eval_fn


def bert_config(vocab_size=None):
    from tfbert import BertConfig
    from tfbert.checkpoints import read_checkpoint
    path = FLAGS.config_file or FLAGS.bert_config_file
    if path:
        return BertConfig.from_json_file(path)
    if FLAGS.init_checkpoint:
        return BertConfig.from_json_file(read_checkpoint(FLAGS.init_checkpoint)[2])
    return BertConfig(vocab_size=vocab_size, **EMBEDDED_CONFIG)


def vocab_size_of(vocab_file):
    """Entries of a vocab.txt (one per line) or a vocab.json (an object)."""
    import json
    with open(vocab_file, encoding="utf-8") as f:
        if vocab_file.endswith(".json"):
            return len(json.load(f))
        return sum(1 for _ in f)


def bert_datasets():
    """`(train_fn, eval_fn)`: `input_context -> tf.data.Dataset` of feature dicts."""
    from tfrecords.reader import bert_pretraining_dataset, list_files
    eval_pattern = FLAGS.eval_input_file or FLAGS.input_file

    def train_fn(context):
        mine = list_files(FLAGS.input_file)[context.input_pipeline_id::
                                            context.num_input_pipelines]
        logging.info("Input pipeline %d of %d reads training files: %s",
                     context.input_pipeline_id, context.num_input_pipelines, " ".join(mine))
        # The reader divides the global batch among replicas (and their files
        # among workers); a replica's batch holds grad_accum_steps micro-batches.
        return bert_pretraining_dataset(
            FLAGS.input_file, FLAGS.train_batch_size * FLAGS.grad_accum_steps,
            FLAGS.max_seq_length, FLAGS.max_predictions_per_seq, is_training=True,
            input_context=context, deterministic=FLAGS.deterministic, seed=FLAGS.seed,
            skip_corrupt=FLAGS.skip_corrupt_records)

    def eval_fn(context):
        # Every worker reads the whole held-out set: workers then run the same
        # number of steps (collectives need that), and the all-reduced sums
        # count each example once per worker, which leaves the ratios exact.
        batch = max(1, FLAGS.eval_batch_size // context.num_replicas_in_sync)
        return bert_pretraining_dataset(
            eval_pattern, batch, FLAGS.max_seq_length, FLAGS.max_predictions_per_seq,
            is_training=False, deterministic=True, skip_corrupt=FLAGS.skip_corrupt_records)

    return train_fn, eval_fn


def masked_lm_baseline(train_fn, eval_fn, max_eval_batches):
    """Accuracy of always predicting the training records' most frequent masked token."""
    import numpy as np
    import tensorflow as tf
    context = tf.distribute.InputContext()
    counts = None
    for batch in train_fn(context).take(max(1, 20000 // FLAGS.train_batch_size)):
        ids = batch["masked_lm_ids"].numpy()[batch["masked_lm_weights"].numpy() > 0]
        binc = np.bincount(ids)
        counts = binc if counts is None else np.pad(counts, (0, max(0, len(binc) - len(counts)))) \
            + np.pad(binc, (0, max(0, len(counts) - len(binc))))
    most_frequent = int(np.argmax(counts))
    hits = total = 0.0
    for batch in eval_fn(context).take(max_eval_batches):
        weights = batch["masked_lm_weights"].numpy()
        hits += float(((batch["masked_lm_ids"].numpy() == most_frequent) * weights).sum())
        total += float(weights.sum())
    return hits / max(total, 1.0), most_frequent


def pretraining_task():
    if FLAGS.model == "gpt":
        from tfgpt import LMTask
        return LMTask()
    from tfbert.pretrainer import BertPretrainingTask
    return BertPretrainingTask()


def weights_digest(model):
    """sha256 over every weight's bytes: equal digests mean identical weights."""
    import hashlib
    import numpy as np
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()


def build(strategy, config):
    """The pretrainer, its optimizer and schedule, created under the strategy."""
    from tfbert import BertPretrainer
    from tfcore.experiment import make_optimizer
    with strategy.scope():
        if FLAGS.model == "gpt":
            from tfgpt import GPTLanguageModel
            model = GPTLanguageModel(config)
        else:
            model = BertPretrainer(config)
        optimizer, schedule = make_optimizer(
            FLAGS.optimizer, FLAGS.learning_rate, FLAGS.num_train_steps,
            FLAGS.num_warmup_steps, FLAGS.decay, FLAGS.end_learning_rate,
            FLAGS.weight_decay, FLAGS.dtype, FLAGS.decay_power,
            beta_1=FLAGS.adam_beta1, beta_2=FLAGS.adam_beta2, **adam_kwargs())
    return model, optimizer, schedule


# Where a flag is not given: BERT follows Google's AdamWeightDecayOptimizer,
# GPT PyTorch's AdamW (nanoGPT's recipe).
ADAM_DEFAULTS = {"bert": dict(bias_correction=False, epsilon=1e-6),
                 "gpt": dict(bias_correction=True, epsilon=1e-8)}


def adam_kwargs():
    """Bias correction (AdamW only) and epsilon: the flags, else the model's defaults."""
    kwargs = dict(ADAM_DEFAULTS[FLAGS.model])
    if FLAGS.adam_bias_correction is not None:
        kwargs["bias_correction"] = FLAGS.adam_bias_correction
    if FLAGS.adam_epsilon is not None:
        kwargs["epsilon"] = FLAGS.adam_epsilon
    if FLAGS.optimizer != "adamw":
        del kwargs["bias_correction"]
    return kwargs


def export(model, vocab_file, export_dir):
    if FLAGS.model == "gpt":
        from tfgpt.export import GeneratorExport
        from tfgpt.tokenization import BytePairTokenizer, CharTokenizer
        tokenizer = (BytePairTokenizer(vocab_file, FLAGS.merges_file) if FLAGS.merges_file
                     else CharTokenizer(vocab_file))
        return GeneratorExport(model, tokenizer).save(export_dir)
    from tfbert import BertTokenizer
    from tfbert.export_encoder import EncoderExport
    tokenizer = BertTokenizer(vocab_file, do_lower_case=FLAGS.do_lower_case)
    length = min(FLAGS.max_seq_length, model.config.max_position_embeddings)
    return EncoderExport(model.bert, tokenizer, max_seq_length=length).save(export_dir)


def main(argv):
    """Runs `pretrain()`; known failures end with one clear line instead of a traceback."""
    del argv
    apply_default_output_dir()
    if is_embedded_default():
        apply_embedded_defaults()
    validate_flags()  # Usage errors come before TensorFlow's import (seconds).
    import tensorflow as tf
    from tfcore.config import ConfigError
    from tfcore.training import CheckpointWriteError, NonFiniteLossError
    try:
        pretrain()
    except (CheckpointWriteError, NonFiniteLossError, ConfigError, FileNotFoundError) as e:
        sys.exit(f"ERROR: {e}")
    except tf.errors.OpError as e:
        sys.exit(f"ERROR: {e.message.strip()}")


def train(trainer, train_fn, schedule, output_dir, chief):
    """Trains to --num_train_steps; returns the `train` metrics, or None if nothing was left."""
    from tfcore import reporting
    step_batch = FLAGS.train_batch_size * FLAGS.grad_accum_steps
    reporter = reporting.TrainingReporter(
        FLAGS.num_train_steps, os.path.join(output_dir, "train") if chief else None,
        tokens_per_step=step_batch * FLAGS.max_seq_length,
        examples_per_step=step_batch, learning_rate=schedule)
    metrics = trainer.fit(train_fn, FLAGS.num_train_steps, output_dir,
                          FLAGS.save_checkpoints_steps, FLAGS.keep_checkpoint_max,
                          on_execution=reporter)
    reporter.close()
    if not metrics:  # fit returns {} when the checkpoint is already at the last step
        print(f"Already at step {trainer.step} (--num_train_steps={FLAGS.num_train_steps}), "
              "nothing to train.")
        return None
    metrics.update(reporter.throughput())
    return metrics


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


def tokenizer_of_init_checkpoint(model):
    """The vocab file of the --init_checkpoint folder (GPT: also its merges.txt), or None."""
    if FLAGS.model != "gpt":
        return model.vocab_file
    found = {os.path.basename(path): path for path in model.tokenizer_files}
    if "merges.txt" in found and not FLAGS.merges_file:
        FLAGS.merges_file = found["merges.txt"]
    return found.get("vocab.json")


def save_pretrained_folder(model, output_dir, vocab_file):
    """Writes what `from_pretrained` reads into `output_dir`, beside the trainer checkpoints.

    BERT: Google's bert_config.json, bert_model.ckpt.* and vocab.txt (the
    trainer's `checkpoint` state file and ckpt-N are different names, so resume
    is untouched). GPT: Hugging Face's config.json, model.safetensors and the
    tokenizer as vocab.json (+ merges.txt).
    """
    if FLAGS.model == "gpt":
        files = {}
        if vocab_file:
            files["vocab.json"] = vocab_file
            if FLAGS.merges_file:
                files["merges.txt"] = FLAGS.merges_file
        model.save_pretrained(output_dir, tokenizer_files=files)
    else:
        model.save_pretrained(output_dir, vocab_file=vocab_file)
    logging.info("Wrote the pretrained %s folder %s", FLAGS.model, output_dir)


def pretrain():
    """Trains, evaluates and exports as the (validated) flags say."""
    import tensorflow as tf
    from tfcore import cli, distribute, experiment, reporting, training
    from tfcore.io import write_json_atomically
    gpt = FLAGS.model == "gpt"

    started = time.time()
    experiment.configure_runtime(FLAGS.dtype, FLAGS.deterministic, FLAGS.seed)
    strategy = distribute.get_strategy("tpu" if FLAGS.use_tpu else FLAGS.strategy,
                                       FLAGS.tpu_name)
    chief = distribute.is_chief(strategy)
    output_dir = FLAGS.output_dir
    if chief:
        # Before the embedded default fills in --input_file: the record repeats the run as given.
        cli.write_run_record(output_dir, "run_pretraining.py")
    vocab_file = FLAGS.vocab_file
    if is_embedded_default():
        data = prepare_embedded_data(os.path.join(output_dir, "data"))
        FLAGS.input_file, FLAGS.eval_input_file = data["input_file"], data["eval_input_file"]
        vocab_file = vocab_file or data["vocab_file"]
    vocab_size = vocab_size_of(vocab_file) if vocab_file else None
    config = gpt_config(vocab_size) if gpt else bert_config(vocab_size)
    model, optimizer, schedule = build(strategy, config)
    has_own_checkpoint = tf.train.latest_checkpoint(output_dir) is not None
    if FLAGS.init_checkpoint and not has_own_checkpoint:
        model.load_pretrained_weights(FLAGS.init_checkpoint)
        vocab_file = vocab_file or tokenizer_of_init_checkpoint(model)
    trainer = training.Trainer(model, optimizer, pretraining_task(), strategy,
                               FLAGS.grad_accum_steps, FLAGS.clip_norm or None,
                               FLAGS.steps_per_execution, FLAGS.jit_compile)
    train_fn, eval_fn = gpt_datasets() if gpt else bert_datasets()
    results = {}
    if FLAGS.do_train:
        train_metrics = train(trainer, train_fn, schedule, output_dir, chief)
        if train_metrics is not None:
            results["train"] = train_metrics
    else:
        trainer.restore_or_initialize(output_dir, FLAGS.keep_checkpoint_max)
    results["steps"] = trainer.step
    results["weights_sha256"] = weights_digest(model)
    logging.info("Final weights sha256 %s", results["weights_sha256"])
    if FLAGS.do_eval:
        results["eval"] = trainer.evaluate(eval_fn, FLAGS.max_eval_steps)
        if not gpt:
            baseline, token = masked_lm_baseline(train_fn, eval_fn, FLAGS.max_eval_steps)
            results["eval"]["masked_lm_accuracy_baseline"] = baseline
            results["eval"]["most_frequent_masked_token_id"] = token
        if chief:
            reporting.write_scalars(os.path.join(output_dir, "eval"), trainer.step,
                                    results["eval"])
    if not chief:
        return
    metrics_path = os.path.join(output_dir, "metrics.json")
    results = merged_metrics(metrics_path, results)
    write_json_atomically(metrics_path, results)
    save_pretrained_folder(model, output_dir, vocab_file)
    export_dir = None
    if FLAGS.do_export and vocab_file:
        export_dir = export(model, vocab_file, FLAGS.export_dir
                            or os.path.join(output_dir, "saved_model"))
    print_summary(results, output_dir, metrics_path, export_dir, time.time() - started)


def print_summary(results, output_dir, metrics_path, export_dir, seconds):
    from tfcore.reporting import summary_table
    rows = [("steps", results["steps"])]
    for section in ("train", "eval"):
        rows += [(f"{section}.{k}", v) for k, v in sorted(results.get(section, {}).items())]
    print("\n" + summary_table(rows))
    print(f"\nFinished in {seconds:.0f} s.")
    print(f"  checkpoints:  {output_dir}  (also a pretrained folder: from_pretrained, "
          f"{'tfgpt.generate --checkpoint_dir' if FLAGS.model == 'gpt' else '--init_checkpoint'})")
    print(f"  TensorBoard:  tensorboard --logdir {output_dir}")
    print(f"  metrics:      {metrics_path}")
    if export_dir:
        signatures = ("serving_default: prompt -> generated text; logits: token ids"
                      if FLAGS.model == "gpt" else "serving_default: raw text; encode: token ids")
        print(f"  SavedModel:   {export_dir}  ({signatures})")


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
