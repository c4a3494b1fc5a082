r"""Fine-tune BERT on SQuAD 1.1 / 2.0 and predict; Google's run_squad.py flags keep working.

    python run_squad.py --vocab_file=$BERT_BASE_DIR/vocab.txt \
        --bert_config_file=$BERT_BASE_DIR/bert_config.json \
        --init_checkpoint=$BERT_BASE_DIR/bert_model.ckpt \
        --do_train=True --train_file=$SQUAD_DIR/train-v1.1.json \
        --do_predict=True --predict_file=$SQUAD_DIR/dev-v1.1.json \
        --train_batch_size=12 --learning_rate=3e-5 --num_train_epochs=2.0 \
        --max_seq_length=384 --doc_stride=128 --output_dir=/tmp/squad_base/

SQuAD 2.0: add --version_2_with_negative=True (--null_score_diff_threshold).
`--init_checkpoint` takes a Google TF1 checkpoint, a Hugging Face folder
(BertForQuestionAnswering weights load with their span head; an encoder's
head starts fresh) or a folder we saved; its bert_config.json/config.json
and vocab.txt are used unless given. --train_file may be .json or .json.gz;
--max_train_rows=N trains on the first N questions. The flags become a
`tftasks.squad.SquadConfig` (same names) and `tftasks.squad.run(config)`
does the work.

Under --output_dir: train.tf_record (the training features with Google's
names, reused by a rerun with the same data and settings), checkpoints
(resumed by running the same command again), TensorBoard events,
predictions.json, nbest_predictions.json, null_odds.json (2.0), and when
the predict file has answers the official exact match / F1 in metrics.json
and eval_results.txt; flags.txt (--flagfile repeats the run); saved_model/
(question and context strings in, answer text and character span out).
With --do_eval, the predict file is also evaluated every
--save_checkpoints_steps and best/ keeps the best F1.
"""

from absl import flags

from tfcore.cli import (config_from_flags, define_fine_tuning_flags, define_tpu_flags,
                        define_training_flags)

FLAGS = flags.FLAGS
# Google's run_squad.py flags (same names and defaults).
flags.DEFINE_string("bert_config_file", None, "bert_config.json (default: --init_checkpoint's).")
flags.DEFINE_string("vocab_file", None, "vocab.txt (default: the --init_checkpoint folder's).")
flags.DEFINE_string("output_dir", None, "Checkpoints, predictions, metrics, saved_model/.")
flags.DEFINE_string("train_file", None, "SQuAD JSON for training (.json or .json.gz).")
flags.DEFINE_string("predict_file", None, "SQuAD JSON to predict (dev-v1.1.json ...).")
flags.DEFINE_string("init_checkpoint", None, "Initial weights: Google TF1, Hugging Face or ours.")
flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents (uncased models).")
flags.DEFINE_integer("max_seq_length", 384, "Tokens per window, [CLS]/[SEP] included.")
flags.DEFINE_integer("doc_stride", 128, "Pieces between the starts of a context's windows.")
flags.DEFINE_integer("max_query_length", 64, "Question pieces kept (the rest is cut).")
flags.DEFINE_bool("do_train", False, "Train.")
flags.DEFINE_bool("do_predict", False, "Predict --predict_file (and evaluate it if it has "
                  "answers).")
flags.DEFINE_integer("train_batch_size", 32, "Global training batch.")
flags.DEFINE_integer("predict_batch_size", 8, "Prediction batch.")
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate (AdamW).")
flags.DEFINE_float("num_train_epochs", 3.0, "Epochs over the training features.")
flags.DEFINE_float("warmup_proportion", 0.1, "Share of the steps with linear warmup.")
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Steps between checkpoints (and evals).")
flags.DEFINE_integer("n_best_size", 20, "Answers in nbest_predictions.json (and the top "
                     "start/end positions searched).")
flags.DEFINE_integer("max_answer_length", 30, "Longest answer, in WordPieces.")
flags.DEFINE_bool("verbose_logging", False, "Log data-processing warnings in detail.")
flags.DEFINE_bool("version_2_with_negative", False, "SQuAD 2.0: questions may have no answer.")
flags.DEFINE_float("null_score_diff_threshold", 0.0, "Predict \"\" when null score - best "
                   "non-null score exceeds this.")
define_tpu_flags()  # --use_tpu, --tpu_name, --iterations_per_loop, ... (Google's)
# Ours.
flags.DEFINE_bool("do_eval", False, "Evaluate --predict_file every --save_checkpoints_steps "
                  "while training and keep the best F1 in best/.")
flags.DEFINE_integer("max_train_rows", 0, "Train on the first N questions only (0: all).")
define_training_flags(helps={
    "dtype": "Compute precision.",
    "deterministic": "Op determinism (slower).",
    "seed": "Seed of the head's initialisation, dropout and the question order."})
define_fine_tuning_flags()  # --early_stopping_patience
flags.DEFINE_bool("do_export", True, "Export the SavedModel after --do_train.")
flags.DEFINE_string("export_dir", None, "SavedModel folder (default output_dir/saved_model).")


def config_from_command_line(flag_values=FLAGS):
    """The `SquadConfig` of the parsed flags; --do_lower_case not given: None (decide)."""
    from tftasks.squad import SquadConfig
    return config_from_flags(SquadConfig, flag_values, undecided=("do_lower_case",))


def run():
    """The flags' config -> `tftasks.squad.run`; bad options are usage errors."""
    import tftasks.squad
    from tftasks.common.program import run_task
    return run_task("run_squad.py", tftasks.squad.run, config_from_command_line())


def main(argv):
    """Runs `run()`; known failures end with one clear line instead of a traceback."""
    del argv
    from tftasks.common.program import exit_on_failure, print_summary
    results = exit_on_failure("run_squad.py", run)
    print_summary(results, ("task", "steps"), ("train", "eval"))


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
