"""A finished `run_translation.py` run beside a PyTorch `nn.Transformer` of the same recipe.

    python -m bench translation_vs_torch --ours=RUN_FOLDER
    python -m bench translation_vs_torch --ours=/tmp/mtD/out --steps=20 --ceiling=skip  # smoke

Reads the run folder (spm.model, seq2seq_config.json, flags.txt,
metrics.json, test_translations.txt); tokenizes the run's training pairs
(`--train_source`/`--train_target`/`--max_train_rows` from flags.txt, with
the tokenizer's Python `encode`, eos appended, pairs with an empty side or
over `--max_source_length`/`--max_target_length` dropped, as our records
are) and the test sources (cut to `max_source_length`, eos kept last, as
our decoding does); writes them to an .npz and runs
bench/runs/translation_torch_peer.py with `--torch_python` on the same
hyper-parameters (size, dropout, activation, pre/post-LN, tied scaled
embeddings, [sin | cos] positions, label smoothing, Adam(0.9, 0.98, 1e-9),
warmup then inverse square root at the same peak, token budget and bucket
boundaries, the run's dtype) for the same number of optimizer steps (our
`global_step`, or `--steps`), then beam search with the run's beams, length
penalty and `max_decode_length`. Its hypotheses are detokenized with the
run's spm.model and scored with `tftasks.translation.scoring.corpus_scores`
(sacreBLEU) against the same references as ours.

The table: side, BLEU, chrF, steps, training seconds, decode seconds,
training tokens/s (token budget: steps x `--max_tokens` / seconds, both
sides; the peer's real non-pad source+target tokens/s beside it) and decode
generated tokens/s (ours: its translations re-encoded, so approximate).
Ours comes from metrics.json as it was measured when the run was made: run
both at the same thread count on a quiet machine (the peer uses `--threads`,
2 by default; the CPU pressure before and after the peer is printed). The
initialisations differ (ours: truncated normal d^-0.5 everywhere; the peer:
normal d^-0.5 embeddings, Xavier-uniform matrices, as `nn.Transformer`).

Writes `--output` (default RUN_FOLDER/translation_vs_torch.json) and, with
`--write`, a block in bench/RESULTS.md.
"""

import json
import os
import subprocess
import sys
import time

from absl import flags

from bench import paths
from bench.speed import common

FLAGS = flags.FLAGS
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translation_torch_peer.py")
NAME = "translation_vs_torch"


def define_flags():
    """This benchmark's flags (python -m bench calls it before parsing)."""
    if "ours" in FLAGS:
        return
    paths.define_torch_python()
    flags.DEFINE_string("ours", None, "A finished run_translation.py --output_dir.")
    flags.DEFINE_integer("steps", 0, "Peer optimizer steps (0: our run's global_step).")
    flags.DEFINE_integer("threads", 2, "torch threads of the peer.")
    flags.DEFINE_string("work_dir", "/tmp/translation_vs_torch", "The .npz, recipe and peer output.")
    flags.DEFINE_string("output", None, "Result JSON (default: RUN_FOLDER/translation_vs_torch.json).")
    flags.DEFINE_enum("ceiling", "measure", ["measure", "skip"], "Measure the matmul ceilings.")
    flags.DEFINE_bool("write", False, "Put the block into bench/RESULTS.md.")


# ------------------------------------------------------------------ the run folder

def read_flags_file(path):
    """flags.txt -> {name: str value}; `--noname` -> "false", a bare `--name` -> "true"."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("--"):
                continue
            name, has_value, value = line[2:].partition("=")
            if has_value:
                values[name] = value
            elif name.startswith("no") and name[2:]:
                values[name[2:]] = "false"
                values.setdefault(name, "true")  # a flag whose own name starts with "no"
            else:
                values[name] = "true"
    return values


def read_run(folder):
    """`(run flags, Seq2SeqConfig dict, metrics)` of a finished run; SystemExit names what is missing."""
    needed = ("spm.model", "seq2seq_config.json", "flags.txt", "metrics.json")
    missing = [n for n in needed if not os.path.exists(os.path.join(folder, n))]
    if missing:
        raise SystemExit(f"--ours={folder}: not a finished run_translation.py folder "
                         f"(missing {', '.join(missing)})")
    with open(os.path.join(folder, "seq2seq_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    return read_flags_file(os.path.join(folder, "flags.txt")), config, metrics


def check_supported(config, folder):
    """The peer mirrors the run_translation.py default family only; SystemExit otherwise."""
    wanted = {"position_embedding": "sinusoidal", "sinusoidal_layout": "concatenated",
              "norm": "layer", "target_vocab_size": None, "tie_word_embeddings": True,
              "scale_embedding": True, "use_bias": True, "gated_feed_forward": False,
              "scale_queries": True, "final_logits_bias": False, "head_size": None,
              "scale_decoder_output": False}
    wrong = {k: config.get(k) for k, v in wanted.items() if config.get(k, v) != v}
    if wrong:
        raise SystemExit(f"{folder}/seq2seq_config.json: the PyTorch peer covers "
                         f"{wanted} only; this run has {wrong}")
    if config.get("hidden_act") not in ("relu", "swish", "silu", "gelu"):
        raise SystemExit(f"{folder}/seq2seq_config.json: hidden_act {config.get('hidden_act')!r} "
                         "is not one the peer has (relu, swish, silu, gelu)")


def test_side(metrics, run_flags):
    """("test" or "eval", source file, target file): the set our run scored."""
    for side in ("test", "eval"):
        if side in metrics and run_flags.get(f"{side}_source"):
            return side, run_flags[f"{side}_source"], run_flags[f"{side}_target"]
    raise SystemExit(f"--ours={FLAGS.ours}: metrics.json has no test or eval scores to compare")


# ------------------------------------------------------------------ ids for the peer

def flat(rows):
    import numpy as np
    lengths = np.array([len(r) for r in rows], np.int32)
    values = np.array([i for r in rows for i in r], np.int32)
    return values, lengths


def training_ids(run_flags, tokenizer):
    """Our records' pairs: encoded with eos, empty or over-length pairs dropped."""
    from tftasks.translation.corpus import read_parallel
    rows = run_flags.get("max_train_rows")
    pairs = read_parallel(run_flags["train_source"], run_flags.get("train_target"),
                          int(rows) if rows else None)
    max_source = int(run_flags.get("max_source_length", 128))
    max_target = int(run_flags.get("max_target_length", 128))
    sources, targets = [], []
    for source, target in pairs:
        if not source or not target:
            continue
        s, t = tokenizer.encode(source), tokenizer.encode(target)
        if len(s) <= max_source and len(t) <= max_target:
            sources.append(s)
            targets.append(t)
    return sources, targets


def test_ids(lines, tokenizer, max_source_length):
    """As tftasks.translation.runner.translate_lines: cut to the limit, eos kept last."""
    out = []
    for line in lines:
        ids = tokenizer.encode(line)[:max_source_length]
        if ids and ids[-1] != tokenizer.eos_id:
            ids[-1] = tokenizer.eos_id
        out.append(ids)
    return out


def recipe(config, run_flags, steps):
    from tftasks.translation.batching import default_boundaries
    get = run_flags.get
    longest = max(int(get("max_source_length", 128)), int(get("max_target_length", 128)))
    if float(get("weight_decay", 0) or 0):
        print("note: the run used --weight_decay; the peer's Adam has none", flush=True)
    return {
        "vocab_size": config["vocab_size"], "hidden_size": config["hidden_size"],
        "num_heads": config["num_attention_heads"],
        "intermediate_size": config["intermediate_size"],
        "encoder_layers": config["num_hidden_layers"],
        "decoder_layers": config.get("num_decoder_layers") or config["num_hidden_layers"],
        "dropout": config["hidden_dropout_prob"],
        "attention_dropout": config["attention_probs_dropout_prob"],
        "activation": config["hidden_act"], "norm_first": bool(config["norm_first"]),
        "layer_norm_eps": config["layer_norm_eps"],
        "max_positions": max(config["max_position_embeddings"],
                             int(get("max_decode_length", 128)) + 1, longest + 1),
        "label_smoothing": float(get("label_smoothing", 0.1)),
        "learning_rate": float(get("learning_rate", 1e-3)),
        "warmup_steps": int(get("num_warmup_steps", 800)), "steps": steps,
        "max_tokens": int(get("max_tokens", 4096)), "boundaries": default_boundaries(longest),
        "clip_norm": float(get("clip_norm", 0) or 0),
        "num_beams": int(get("num_beams", 4)), "length_penalty": float(get("length_penalty", 1)),
        "max_decode_length": int(get("max_decode_length", 128)),
        "decode_batch_size": int(get("decode_batch_size", 64)),
        "seed": int(get("seed", 12345)), "threads": FLAGS.threads,
        "dtype": get("dtype", "float32"),
        "pad_id": config["pad_token_id"], "eos_id": config["eos_token_id"]}


def run_peer(data_path, recipe_path, output_path):
    env = dict(os.environ, OMP_NUM_THREADS=str(FLAGS.threads),
               MKL_NUM_THREADS=str(FLAGS.threads), OMP_WAIT_POLICY="PASSIVE")
    env.pop("PYTHONPATH", None)
    argv = [paths.torch_python(), PEER, f"--data={data_path}", f"--recipe={recipe_path}",
            f"--output={output_path}"]
    print("peer: " + " ".join(argv), flush=True)
    subprocess.run(argv, check=True, env=env, stdout=sys.stderr)
    with open(output_path, encoding="utf-8") as f:
        return json.load(f)


# ------------------------------------------------------------------ the table

def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def rows_of(ours, peer):
    header = ["side", "BLEU", "chrF", "steps", "train s", "decode s",
              "train tok/s (budget)", "train tok/s (real, src+tgt)", "decode gen tok/s"]
    lines = []
    for row in (ours, peer):
        lines.append([row["side"], fmt(row["bleu"], 2), fmt(row["chrf"], 2), str(row["steps"]),
                      fmt(row["train_seconds"]), fmt(row["decode_seconds"]),
                      fmt(row["budget_tokens_per_second"], 0),
                      fmt(row.get("real_tokens_per_second"), 0),
                      ("≈" if row["side"] == "ours" else "")
                      + fmt(row.get("generated_tokens_per_second"), 0)])
    return common.markdown_table(header, lines)


def per_second(amount, seconds):
    return amount / seconds if amount is not None and seconds else None


def main(argv):
    del argv
    if not FLAGS.ours:
        raise SystemExit("--ours=RUN_FOLDER is required (a finished run_translation.py folder)")
    common.setup_threads(FLAGS.threads)
    import numpy as np
    from tfseq2seq.tokenization import SentencePieceTokenizer
    from tftasks.translation.corpus import read_parallel, split_pairs
    from tftasks.translation.scoring import corpus_scores

    folder = FLAGS.ours
    run_flags, config, metrics = read_run(folder)
    check_supported(config, folder)
    side, source_file, target_file = test_side(metrics, run_flags)
    tokenizer = SentencePieceTokenizer(os.path.join(folder, "spm.model"))
    ours_steps = int(metrics.get("train", {}).get("global_step") or 0)
    steps = FLAGS.steps or ours_steps
    if not steps:
        raise SystemExit(f"{folder}/metrics.json has no train.global_step: pass --steps")
    ceiling_line = "Ceilings not measured (`--ceiling=skip`)."
    if FLAGS.ceiling == "measure":
        from bench.speed import ceiling
        ceiling_line = ceiling.describe(ceiling.measure(with_bandwidth=False, repeats=5))
    print(ceiling_line, flush=True)

    sources, targets = training_ids(run_flags, tokenizer)
    test_sources, references = split_pairs(read_parallel(source_file, target_file))
    max_source = int(run_flags.get("max_source_length", 128))
    test = test_ids(test_sources, tokenizer, max_source)
    os.makedirs(FLAGS.work_dir, exist_ok=True)
    data_path = os.path.join(FLAGS.work_dir, "ids.npz")
    arrays = {}
    for name, rows in (("train_source", sources), ("train_target", targets), ("test_source", test)):
        arrays[name], arrays[name + "_lengths"] = flat(rows)
    np.savez(data_path, **arrays)
    the_recipe = recipe(config, run_flags, steps)
    recipe_path = os.path.join(FLAGS.work_dir, "recipe.json")
    with open(recipe_path, "w", encoding="utf-8") as f:
        json.dump(the_recipe, f, indent=1)
    print(f"{len(sources):,} training pairs, {len(test):,} {side} sources; peer: {steps} steps",
          flush=True)

    pressure_before = common.check_pressure("before the peer")
    started = time.time()
    peer = run_peer(data_path, recipe_path, os.path.join(FLAGS.work_dir, "peer.json"))
    pressure_after = common.check_pressure("after the peer")
    hypotheses = [tokenizer.decode(ids) for ids in peer.pop("hypotheses")]
    with open(os.path.join(FLAGS.work_dir, f"peer_{side}_translations.txt"), "w",
              encoding="utf-8") as f:
        f.writelines(h + "\n" for h in hypotheses)
    peer_scores = corpus_scores(hypotheses, references)

    budget = the_recipe["max_tokens"]
    train = metrics.get("train", {})
    scored = metrics[side]
    ours_generated = None
    translations = os.path.join(folder, f"{side}_translations.txt")
    if os.path.exists(translations):
        with open(translations, encoding="utf-8") as f:
            ours_generated = sum(len(tokenizer.encode(line.rstrip("\n"))) for line in f)
    ours = {"side": "ours", "bleu": scored.get("bleu"), "chrf": scored.get("chrf"),
            "steps": ours_steps, "train_seconds": train.get("train_seconds"),
            "decode_seconds": scored.get("decode_seconds"),
            "budget_tokens_per_second": per_second(ours_steps * budget, train.get("train_seconds")),
            "generated_tokens_per_second": per_second(ours_generated, scored.get("decode_seconds"))}
    real = peer["train_source_tokens"] + peer["train_target_tokens"]
    theirs = {"side": f"PyTorch nn.Transformer (torch {peer['torch']})",
              "bleu": peer_scores["bleu"], "chrf": peer_scores["chrf"], "steps": peer["steps"],
              "train_seconds": peer["train_seconds"], "decode_seconds": peer["decode_seconds"],
              "budget_tokens_per_second": per_second(peer["steps"] * budget, peer["train_seconds"]),
              "real_tokens_per_second": per_second(real, peer["train_seconds"]),
              "generated_tokens_per_second": per_second(peer["generated_tokens"],
                                                        peer["decode_seconds"])}
    recipe_line = (f"Recipe (from {folder}): d_model {the_recipe['hidden_size']}, "
                   f"{the_recipe['encoder_layers']}+{the_recipe['decoder_layers']} layers, "
                   f"{the_recipe['num_heads']} heads, FFN {the_recipe['intermediate_size']} "
                   f"{the_recipe['activation']}, {'pre' if the_recipe['norm_first'] else 'post'}-LN, "
                   f"dropout {the_recipe['dropout']}/{the_recipe['attention_dropout']}, vocab "
                   f"{the_recipe['vocab_size']} (tied), label smoothing "
                   f"{the_recipe['label_smoothing']}, lr {the_recipe['learning_rate']:g} warmup "
                   f"{the_recipe['warmup_steps']} then 1/sqrt, max_tokens {budget}, "
                   f"{the_recipe['dtype']}; beam {the_recipe['num_beams']}, length penalty "
                   f"{the_recipe['length_penalty']:g}, max_decode_length "
                   f"{the_recipe['max_decode_length']}; {len(sources):,} training pairs; "
                   f"{side} set {source_file} ({len(test):,} sentences); peer threads "
                   f"{FLAGS.threads}.")
    lines = [f"### {NAME}: run_translation.py vs a PyTorch nn.Transformer, same recipe", "",
             f"Command: `python -m bench {NAME} --ours={folder}"
             f"{f' --steps={FLAGS.steps}' if FLAGS.steps else ''}`  ",
             f"Date: {common.today()}; CPU pressure before the peer `{pressure_before}`, after "
             f"`{pressure_after}`.", "", ceiling_line, "", recipe_line, ""]
    lines += rows_of(ours, theirs)
    lines += ["", "Ours: metrics.json of the run (its own timing). Budget tok/s = steps x "
              "max_tokens / training seconds; ≈: our translations re-encoded. The peer decodes "
              "without a key/value cache."]
    text = "\n".join(lines)
    print("\n" + text, flush=True)
    result = {"ours": ours, "peer": theirs, "peer_scores": peer_scores, "peer_raw": peer,
              "recipe": the_recipe, "side": side, "seconds": time.time() - started}
    output = FLAGS.output or os.path.join(folder, f"{NAME}.json")
    from tfcore.io import write_json_atomically
    write_json_atomically(output, result)
    print(f"wrote {output}", flush=True)
    if FLAGS.write:
        from bench.runs import side_by_side
        side_by_side.write_block(NAME, text)


if __name__ == "__main__":
    from absl import app
    define_flags()
    app.run(main)
