r"""Fine-tune BERT for token classification (named entities) on CoNLL-style files or TFDS.

    python run_ner.py --init_checkpoint=all-MiniLM-L6-v2 \
        --train_file=../shared/data/wnut17/train.conll \
        --eval_file=../shared/data/wnut17/dev.conll --do_train --do_eval \
        --max_seq_length=128 --train_batch_size=32 --learning_rate=5e-5 \
        --num_train_epochs=3 --output_dir=out_ner

Data: CoNLL-style files (`--train_file --eval_file --predict_file`: one word
a line, `--token_column` (0) and `--tag_column` (-1) separated by a tab or
white space, a blank line between sentences, `-DOCSTART-` lines skipped) or
TensorFlow Datasets (`--tfds_name=conll2003` with `--tfds_tokens_key`,
`--tfds_tags_key`). Tags: IOB1, IOB2 or BIOES (`--tag_scheme=auto` detects
it), learned from the training file ("O" first, then sorted) and kept in
labels.json. The first WordPiece of each word is labelled, the other pieces
are ignored by the loss and the metrics. Training truncates sentences longer
than --max_seq_length; evaluation and prediction split them into windows, so
every word is predicted. Flags otherwise as run_classifier.py (Google's
names and defaults, the shared training flags: --adam_bias_correction,
--seed, --deterministic, ...). The flags become a `tftasks.ner.NerConfig`
and `tftasks.ner.run(config)` does the work.

Under --output_dir: checkpoints (resumed by rerunning), TensorBoard events,
labels.json, best/ (the best checkpoint by --best_metric, entity F1 by
default), eval_results.txt (Google's "key = value" lines, then a
conlleval-like per-type table), metrics.json (with `eval.per_type`),
test_results.conll (--do_predict: token, gold tag when the file has one,
predicted tag), flags.txt and saved_model/ (raw text in, entities with
character spans out; see tftasks/ner/export.py).
"""

from absl import flags

from tfcore.cli import (config_from_flags, define_fine_tuning_flags, define_tpu_flags,
                        define_training_flags)

FLAGS = flags.FLAGS
# Google's run_classifier.py flags (same names and defaults).
flags.DEFINE_string("vocab_file", None, "vocab.txt (default: the --init_checkpoint folder's).")
flags.DEFINE_string("bert_config_file", None, "bert_config.json (default: --init_checkpoint's).")
flags.DEFINE_string("init_checkpoint", None, "Initial weights: Google TF1, Hugging Face or ours.")
flags.DEFINE_string("output_dir", None, "Checkpoints, results, best/, saved_model/.")
flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents (default: a Hugging Face "
                  "folder's tokenizer_config.json, else True).")
flags.DEFINE_integer("max_seq_length", 128, "WordPieces per example, [CLS]/[SEP] included.")
flags.DEFINE_bool("do_train", False, "Train.")
flags.DEFINE_bool("do_eval", False, "Evaluate on --eval_file (and keep the best checkpoint).")
flags.DEFINE_bool("do_predict", False, "Tag --predict_file into test_results.conll.")
flags.DEFINE_integer("train_batch_size", 32, "Global training batch (sentences).")
flags.DEFINE_integer("eval_batch_size", 8, "Evaluation batch.")
flags.DEFINE_integer("predict_batch_size", 8, "Prediction batch.")
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate (AdamW).")
flags.DEFINE_float("num_train_epochs", 3.0, "Epochs over the training data.")
flags.DEFINE_float("warmup_proportion", 0.1, "Share of the steps with linear warmup.")
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Steps between checkpoints (and evals).")
define_tpu_flags()
# Ours: data.
flags.DEFINE_string("train_file", None, "CoNLL-style training file.")
flags.DEFINE_string("eval_file", None, "CoNLL-style evaluation file.")
flags.DEFINE_string("predict_file", None, "CoNLL-style file to tag (tags not needed).")
flags.DEFINE_integer("token_column", 0, "0-based column of the word.")
flags.DEFINE_integer("tag_column", -1, "0-based column of the tag (-1: the last).")
flags.DEFINE_enum("tag_scheme", "auto", ["auto", "IOB1", "IOB2", "BIOES"],
                  "Tag scheme of the training tags (auto: detected).")
flags.DEFINE_integer("max_train_rows", 0, "Use only the first N training sentences (0: all).")
flags.DEFINE_string("tfds_name", None, "TensorFlow Datasets name, e.g. conll2003.")
flags.DEFINE_string("tfds_data_dir", None, "TFDS data folder.")
flags.DEFINE_string("tfds_tokens_key", "tokens", "TFDS feature of the words.")
flags.DEFINE_string("tfds_tags_key", "ner", "TFDS feature of the tags (Sequence of ClassLabel).")
flags.DEFINE_string("tfds_train_split", None, "Default: train.")
flags.DEFINE_string("tfds_eval_split", None, "Default: the first validation* split, else test.")
flags.DEFINE_string("tfds_predict_split", None, "Default: test.")
# Ours: training (the flags every run script shares) and outputs.
define_training_flags(helps={
    "dtype": "Compute precision.",
    "deterministic": "Op determinism (slower).",
    "seed": "Seed of the head's initialisation, dropout and input order."})
define_fine_tuning_flags()  # --early_stopping_patience
flags.DEFINE_enum("best_metric", "f1", ["f1", "precision", "recall", "accuracy"],
                  "Entity metric picking best/ (accuracy: per word).")
flags.DEFINE_bool("do_export", True, "Export the SavedModel after --do_train.")
flags.DEFINE_string("export_dir", None, "SavedModel folder (default output_dir/saved_model).")


def config_from_command_line(flag_values=FLAGS):
    """The `NerConfig` of the parsed flags; --do_lower_case not given: None (decide)."""
    from tftasks.ner import NerConfig
    return config_from_flags(NerConfig, flag_values, undecided=("do_lower_case",))


def run():
    """The flags' config -> `tftasks.ner.run`; bad options are usage errors."""
    import tftasks.ner
    from tftasks.common.program import run_task
    return run_task("run_ner.py", tftasks.ner.run, config_from_command_line())


def main(argv):
    """Runs `run()`; known failures end with one clear line instead of a traceback."""
    del argv
    from tftasks.common.program import exit_on_failure, print_summary
    from tftasks.ner.metrics import format_report
    results = exit_on_failure("run_ner.py", run)
    print_summary(results, ("task", "tag_scheme", "steps"), ("train", "eval", "predict"),
                  report=format_report(results["eval"]) if "eval" in results else None)


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
