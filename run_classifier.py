r"""Fine-tune BERT for classification or regression; Google's flags keep working.

    python run_classifier.py --task_name=MRPC --data_dir=glue_data/MRPC \
        --vocab_file=uncased_L-12_H-768_A-12/vocab.txt \
        --bert_config_file=uncased_L-12_H-768_A-12/bert_config.json \
        --init_checkpoint=uncased_L-12_H-768_A-12/bert_model.ckpt \
        --do_train --do_eval --do_predict --max_seq_length=128 \
        --train_batch_size=32 --learning_rate=2e-5 --num_train_epochs=3.0 --output_dir=out

Data comes from one of: a GLUE/XNLI folder (`--task_name`, `--data_dir`;
see tfbert/classifier_glue.py), TensorFlow Datasets (`--tfds_name=glue/sst2`,
`imdb_reviews`; tfbert/classifier_tfds.py) or local TSV/CSV/JSONL files
(`--train_file --eval_file --predict_file` with `--text_column`,
`--text_b_column`, `--label_column`; labels learned from the training file,
sorted). `--task_type=regression|multilabel` switches the head and loss;
`--pooling=auto` reads the mean of the token vectors for sentence-transformers
checkpoints that declare it (all-MiniLM-L6-v2), Google's pooler otherwise.
`--init_checkpoint` takes a Google TF1, Hugging Face or saved folder; its
bert_config.json/config.json and vocab.txt are used unless given.

Under --output_dir: checkpoints (resumed by running the same command again;
once finished, nothing is trained and metrics.json keeps the earlier training
figures), TensorBoard events (train/, and eval/ for every evaluation),
labels.json, best/ (the best checkpoint by --best_metric when --do_eval,
evaluated every --save_checkpoints_steps and at each epoch end),
eval_results.txt and test_results.tsv (Google's formats), metrics.json,
flags.txt (this run's flags: --flagfile=output_dir/flags.txt repeats it), and
saved_model/ (raw text in, probabilities and the label name out). Evaluation,
prediction and the export use best/ when it exists, else the latest
checkpoint. Progress is a bar in a terminal, else one plain line about every
tenth of the training.
"""

import os
import sys
import time

from absl import app, flags, logging

FLAGS = flags.FLAGS
# Google's run_classifier.py flags (same names and defaults).
flags.DEFINE_string("task_name", None, "GLUE/XNLI task: cola, mnli, mrpc, xnli, sst-2, qnli, "
                    "qqp, rte, wnli, sts-b.")
flags.DEFINE_string("data_dir", None, "The task's folder in Google's GLUE layout.")
flags.DEFINE_string("vocab_file", None, "vocab.txt (default: the --init_checkpoint folder's).")
flags.DEFINE_string("bert_config_file", None, "bert_config.json (default: --init_checkpoint's).")
flags.DEFINE_string("init_checkpoint", None, "Initial weights: Google TF1, Hugging Face or ours.")
flags.DEFINE_string("output_dir", None, "Checkpoints, results, best/, saved_model/.")
flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents (uncased models).")
flags.DEFINE_integer("max_seq_length", 128, "Tokens per example, [CLS]/[SEP] included.")
flags.DEFINE_bool("do_train", False, "Train.")
flags.DEFINE_bool("do_eval", False, "Evaluate on the dev split (and keep the best checkpoint).")
flags.DEFINE_bool("do_predict", False, "Predict the test split into test_results.tsv.")
flags.DEFINE_integer("train_batch_size", 32, "Global training batch.")
flags.DEFINE_integer("eval_batch_size", 8, "Evaluation batch.")
flags.DEFINE_integer("predict_batch_size", 8, "Prediction batch.")
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate (AdamW).")
flags.DEFINE_float("num_train_epochs", 3.0, "Epochs over the training data.")
flags.DEFINE_float("warmup_proportion", 0.1, "Share of the steps with linear warmup.")
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Steps between checkpoints (and evals).")
flags.DEFINE_integer("iterations_per_loop", 1000, "Google's TPU loop size (see --steps_per_execution).")
flags.DEFINE_bool("use_tpu", False, "Same as --strategy=tpu.")
flags.DEFINE_string("tpu_name", None, "TPU to connect to.")
for _name in ("tpu_zone", "gcp_project", "master"):
    flags.DEFINE_string(_name, None, "Accepted for compatibility.")
flags.DEFINE_integer("num_tpu_cores", 8, "Accepted for compatibility.")
# Ours: data.
flags.DEFINE_string("train_file", None, "Local training file (.tsv, .csv, .jsonl).")
flags.DEFINE_string("eval_file", None, "Local evaluation file.")
flags.DEFINE_string("predict_file", None, "Local file to predict (labels not needed).")
flags.DEFINE_string("text_column", "text", "Column (header name or 0-based index) of text_a.")
flags.DEFINE_string("text_b_column", None, "Column of text_b for pair tasks.")
flags.DEFINE_string("label_column", "label", "Column of the label.")
flags.DEFINE_string("label_separator", ",", "Separates the labels of a row (multilabel).")
flags.DEFINE_enum("task_type", "classification", ["classification", "regression", "multilabel"],
                  "Softmax classes, one score (num_labels=1, MSE) or sigmoid labels.")
flags.DEFINE_integer("max_train_rows", 0, "Use only the first N training examples (0: all).")
flags.DEFINE_string("tfds_name", None, "TensorFlow Datasets name, e.g. glue/sst2, imdb_reviews.")
flags.DEFINE_string("tfds_data_dir", None, "TFDS data folder.")
flags.DEFINE_string("tfds_text_keys", None, "Text feature(s), comma-separated (inferred if obvious).")
flags.DEFINE_string("tfds_label_key", None, "Label feature (default: 'label' / the ClassLabel).")
flags.DEFINE_string("tfds_train_split", None, "Default: train.")
flags.DEFINE_string("tfds_eval_split", None, "Default: the first validation* split, else test.")
flags.DEFINE_string("tfds_predict_split", None, "Default: test.")
flags.DEFINE_string("xnli_language", "zh", "XNLI language (Google's processor fixes zh).")
# Ours: training and outputs.
flags.DEFINE_enum("strategy", "default", ["default", "one_device", "mirrored",
                                          "multi_worker", "tpu"], "tf.distribute strategy.")
flags.DEFINE_enum("dtype", "float32", ["float32", "bfloat16", "float16"], "Compute precision.")
flags.DEFINE_bool("jit_compile", False, "XLA-compile the training step.")
flags.DEFINE_integer("steps_per_execution", 1, "Training steps per tf.function call.")
flags.DEFINE_float("weight_decay", 0.01, "Decoupled weight decay (not on LayerNorm, biases).")
flags.DEFINE_float("clip_norm", 1.0, "Global-norm gradient clipping (0: off).")
flags.DEFINE_bool("adam_bias_correction", False, "Bias-correct AdamW's moments (Keras/PyTorch "
                  "AdamW); off is Google's AdamWeightDecayOptimizer.")
flags.DEFINE_string("best_metric", None, "Metric picking best/ (default: accuracy; "
                    "matthews_corrcoef for cola; pearson for regression; micro_f1 for multilabel).")
flags.DEFINE_integer("keep_checkpoint_max", 5, "Checkpoints kept.")
flags.DEFINE_enum("pooling", "auto", ["auto", "pooler", "mean"], "Head input: Google's pooler "
                  "or the mean of the token vectors; auto: mean for sentence-transformers "
                  "folders that declare it (1_Pooling/config.json), else pooler.")
flags.DEFINE_bool("do_export", True, "Export the SavedModel after --do_train.")
flags.DEFINE_string("export_dir", None, "SavedModel folder (default output_dir/saved_model).")
flags.DEFINE_bool("deterministic", False, "Op determinism (slower).")
flags.DEFINE_integer("seed", 12345, "Seed of the head's initialisation, dropout and input order.")


FLAG_RANGES = (
    ("learning_rate", lambda v: v > 0, "positive"),
    ("num_train_epochs", lambda v: v > 0, "positive"),
    ("warmup_proportion", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("max_train_rows", lambda v: v >= 0, ">= 0 (0: all rows)"),
    ("weight_decay", lambda v: v >= 0, ">= 0"),
    ("clip_norm", lambda v: v >= 0, ">= 0 (0: no clipping)"),
    ("label_separator", lambda v: v != "", "a non-empty string"),
)


def validate_flags():
    """Usage errors before any work starts."""
    from tfcore.flag_checks import check_positive, check_ranges
    if not (FLAGS.do_train or FLAGS.do_eval or FLAGS.do_predict):
        raise app.UsageError("At least one of --do_train, --do_eval or --do_predict must be set.")
    if not FLAGS.output_dir:
        raise app.UsageError("--output_dir is required.")
    files = [f for f in ("train_file", "eval_file", "predict_file") if getattr(FLAGS, f)]
    sources = [name for name, on in (("--task_name", FLAGS.task_name), ("--tfds_name",
               FLAGS.tfds_name), ("--train_file/--eval_file/--predict_file", files)) if on]
    if len(sources) != 1:
        raise app.UsageError("Give exactly one data source: --task_name with --data_dir, "
                             f"--tfds_name, or local files; got {sources or 'none'}.")
    if FLAGS.task_name:
        _validate_glue()
    elif FLAGS.data_dir:
        raise app.UsageError("--data_dir needs --task_name (Google's GLUE layout).")
    if files:
        for flag, mode in (("train_file", "do_train"), ("eval_file", "do_eval"),
                           ("predict_file", "do_predict")):
            if getattr(FLAGS, mode) and not getattr(FLAGS, flag):
                raise app.UsageError(f"--{mode} with local files needs --{flag}.")
    if FLAGS.task_type == "multilabel" and not files:
        raise app.UsageError("--task_type=multilabel needs local files (--train_file ...).")
    check_positive(FLAGS, ("max_seq_length", "train_batch_size", "eval_batch_size",
                           "predict_batch_size", "save_checkpoints_steps", "steps_per_execution",
                           "keep_checkpoint_max"))
    check_ranges(FLAGS, FLAG_RANGES)
    out = FLAGS.output_dir
    if not (FLAGS.do_train or FLAGS.init_checkpoint or os.path.exists(os.path.join(out, "checkpoint"))
            or os.path.isdir(os.path.join(out, "best"))):
        raise app.UsageError(f"Nothing to evaluate or predict with: {out} has no checkpoint; "
                             "pass --do_train or --init_checkpoint.")
    if FLAGS.max_seq_length < 3:
        raise app.UsageError("--max_seq_length must be at least 3 ([CLS] text [SEP]).")


def _validate_glue():
    from tfbert.classifier_glue import glue_task
    try:
        task = glue_task(FLAGS.task_name)
    except KeyError as e:
        raise app.UsageError(e.args[0]) from None
    if not FLAGS.data_dir:
        raise app.UsageError("--task_name needs --data_dir.")
    if not os.path.isdir(FLAGS.data_dir):
        raise app.UsageError(f"--data_dir={FLAGS.data_dir}: no such folder.")
    if FLAGS["task_type"].present and FLAGS.task_type != task.task_type:
        raise app.UsageError(f"--task_type={FLAGS.task_type} contradicts --task_name="
                             f"{FLAGS.task_name} ({task.task_type}).")
    FLAGS.task_type = task.task_type


def model_files():
    """Config/vocab/casing, checked against --max_seq_length: usage errors."""
    from tfbert.classifier_run import resolve_model_files
    from tfbert.config import BertConfig
    try:
        files = resolve_model_files(FLAGS, FLAGS["do_lower_case"].present)
        config = BertConfig.from_json_file(files.config_file)
    except ValueError as e:
        raise app.UsageError(str(e)) from None
    if FLAGS.max_seq_length > config.max_position_embeddings:
        raise app.UsageError(f"--max_seq_length={FLAGS.max_seq_length} exceeds the model's "
                             f"max_position_embeddings {config.max_position_embeddings}.")
    return files, config


def main(argv):
    """Runs `run()`; known failures end with one clear line instead of a traceback."""
    del argv
    import tensorflow as tf
    from tfbert.classifier_data import DataError
    from tfcore.training import CheckpointWriteError, NonFiniteLossError
    try:
        results = run()
    except (DataError, CheckpointWriteError, NonFiniteLossError) as e:
        logging.error("%s", e)
        sys.exit(f"run_classifier.py: error: {e}")
    except tf.errors.OpError as e:  # e.g. a full disk while exporting (tfcore.export)
        sys.exit(f"run_classifier.py: error: {e.message.strip()}")
    print_summary(results)


def run():
    """Validates the flags, then trains/evaluates/predicts/exports; returns the results dict."""
    validate_flags()
    files, config = model_files()
    from tfbert import classifier_session
    from tfcore.cli import write_run_record
    started = time.time()
    results = classifier_session.ClassifierSession(FLAGS, files, config).run(
        record=lambda output_dir: write_run_record(output_dir, "run_classifier.py"))
    results["seconds"] = time.time() - started
    return results


def print_summary(results):
    from tfcore.reporting import summary_table
    rows = [("task", results["task"]), ("steps", results["steps"])]
    for section in ("train", "eval"):
        rows += [(f"{section}.{k}", v) for k, v in sorted(results.get(section, {}).items())]
    print("\n" + summary_table(rows))
    print(f"\nFinished in {results['seconds']:.0f} s.")
    for name, path in results["files"].items():
        print(f"  {name + ':':14s}{path}")


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
