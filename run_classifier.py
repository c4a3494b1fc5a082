r"""Fine-tune BERT for classification or regression; Google's flags keep working.

    python run_classifier.py --task_name=MRPC --data_dir=glue_data/MRPC \
        --vocab_file=uncased_L-12_H-768_A-12/vocab.txt \
        --bert_config_file=uncased_L-12_H-768_A-12/bert_config.json \
        --init_checkpoint=uncased_L-12_H-768_A-12/bert_model.ckpt \
        --do_train --do_eval --do_predict --max_seq_length=128 \
        --train_batch_size=32 --learning_rate=2e-5 --num_train_epochs=3.0 --output_dir=out

Data comes from one of: a GLUE/XNLI folder (`--task_name`, `--data_dir`;
tftasks/classification/glue.py), TensorFlow Datasets (`--tfds_name=glue/sst2`,
`imdb_reviews`) or local TSV/CSV/JSONL files (`--train_file --eval_file
--predict_file` with `--text_column`, `--text_b_column`, `--label_column`;
labels learned from the training file, sorted). `--task_type=regression|multilabel`
switches the head and loss; `--pooling=auto` reads the mean of the token vectors
for sentence-transformers checkpoints that declare it (all-MiniLM-L6-v2),
Google's pooler otherwise. `--init_checkpoint` takes a Google TF1, Hugging Face
or saved folder; its bert_config.json/config.json and vocab.txt are used unless
given. The flags become a `tftasks.classification.ClassifierConfig` (same
names) and `tftasks.classification.run(config)` does the work.

Under --output_dir: checkpoints (resumed by running the same command again;
once finished, nothing is trained and metrics.json keeps the earlier training
figures), TensorBoard events (train/, and eval/ for every evaluation),
labels.json, best/ (the best checkpoint by --best_metric when --do_eval,
evaluated every --save_checkpoints_steps and at each epoch end; with
--early_stopping_patience=N training stops after N evaluations in a row
without a better one, and a rerun trains no further),
eval_results.txt and test_results.tsv (Google's formats), metrics.json,
flags.txt (this run's flags: --flagfile=output_dir/flags.txt repeats it), and
saved_model/ (raw text in, probabilities and the label name out). Evaluation,
prediction and the export use best/ when it exists, else the latest
checkpoint. Progress is a bar in a terminal, else one plain line about every
tenth of the training.
"""

from absl import flags

from tfcore.cli import (config_from_flags, define_fine_tuning_flags, define_tpu_flags,
                        define_training_flags)

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
define_tpu_flags()  # --use_tpu, --tpu_name, --iterations_per_loop, ... (Google's)
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
# Ours: training (the flags every run script shares; same defaults) and outputs.
define_training_flags(helps={
    "dtype": "Compute precision.",
    "deterministic": "Op determinism (slower).",
    "seed": "Seed of the head's initialisation, dropout and input order."})
define_fine_tuning_flags()  # --early_stopping_patience
flags.DEFINE_string("best_metric", None, "Metric picking best/ (default: accuracy; "
                    "matthews_corrcoef for cola; pearson for regression; micro_f1 for multilabel). "
                    "Also f1, roc_auc, pr_auc (binary), macro_roc_auc, micro_roc_auc, "
                    "macro_pr_auc, micro_pr_auc (multilabel), loss, ...")
flags.DEFINE_enum("pooling", "auto", ["auto", "pooler", "mean"], "Head input: Google's pooler "
                  "or the mean of the token vectors; auto: mean for sentence-transformers "
                  "folders that declare it (1_Pooling/config.json), else pooler.")
flags.DEFINE_bool("do_export", True, "Export the SavedModel after --do_train.")
flags.DEFINE_string("export_dir", None, "SavedModel folder (default output_dir/saved_model).")


def config_from_command_line(flag_values=FLAGS):
    """The `ClassifierConfig` of the parsed flags; --do_lower_case, --task_type not given: None (decide)."""
    from tftasks.classification import ClassifierConfig
    return config_from_flags(ClassifierConfig, flag_values, undecided=("do_lower_case", "task_type"))


def run():
    """The flags' config -> `tftasks.classification.run`; bad options are usage errors."""
    import tftasks.classification
    from tftasks.common.program import run_task
    return run_task("run_classifier.py", tftasks.classification.run, config_from_command_line())


def main(argv):
    """Runs `run()`; known failures end with one clear line instead of a traceback."""
    del argv
    from tftasks.common.program import exit_on_failure, print_summary
    results = exit_on_failure("run_classifier.py", run)
    print_summary(results, ("task", "steps"), ("train", "eval"))


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
