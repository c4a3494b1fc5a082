"""Tiny Shakespeare, character level: `run_pretraining.py --model=gpt` beside nanoGPT.

Both train nanoGPT's small CPU configuration (4 layers, 4 heads, 128 dims,
block 64, batch 12, 2000 iterations, AdamW lr 1e-3, warmup 100, cosine to
1e-4, beta2 0.99, weight decay 0.1, clip 1.0, no dropout, and nanoGPT's
`bias=False` and exact GELU: our config's `use_bias=False, hidden_act="gelu"`)
on the first 90% of
the characters, one after the other in this run. Both final models are then
scored the same way: the mean next-character loss over every position of
the last 10%, cut into consecutive 64-character windows. nanoGPT's own
20-batch estimate and its median time per iteration are printed beside ours.

    python -m bench gpt_shakespeare --nanogpt=/path/to/nanoGPT \\
        [--torch_python=/work/refvenv/bin/python --data_dir=../shared/data]

`--nanogpt` is a checkout of karpathy/nanoGPT (its code is run, never
copied); `--torch_python` a Python with torch 2.13. Without `--nanogpt` only
ours runs. The text is `--data_dir/tinyshakespeare/input.txt`.
"""

import json
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap

from absl import flags
import numpy as np

from bench import paths
from bench.speed import common

paths.define_data_dir()
paths.define_torch_python()
flags.DEFINE_string("nanogpt", None, "karpathy/nanoGPT checkout (train.py, model.py).")
flags.DEFINE_integer("seed", 12345, "Our --seed.")
flags.DEFINE_integer("dupe_factor", 8, "Training windows at this many offsets.")
flags.DEFINE_enum("only", None, ["ours", "nanogpt"], "Run one side.")
flags.DEFINE_string("ours_flags", "", "More run_pretraining.py flags.")
FLAGS = flags.FLAGS
REPO = paths.REPO_ROOT
RECIPE = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, max_iters=2000,
              learning_rate=1e-3, warmup_iters=100, min_lr=1e-4, beta2=0.99,
              weight_decay=0.1, grad_clip=1.0, dropout=0.0, bias=False)
# nanoGPT's model.py: nn.GELU(), the exact erf form (GPT-2 itself uses the tanh one).
ACTIVATION = "gelu"


def split(text, folder):
    """First 90% / last 10% of the characters, as nanoGPT's prepare.py."""
    n = int(len(text) * 0.9)
    paths = {}
    for name, part in (("train", text[:n]), ("val", text[n:])):
        paths[name] = os.path.join(folder, f"{name}.txt")
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write(part)
    return paths


def run(cmd, **kwargs):
    print("$ " + " ".join(cmd), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode:
        sys.exit(f"failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return done


def run_ours(texts, folder, seed, dupe_factor, extra_flags=()):
    r = RECIPE
    records = {}
    for name in ("train", "val"):
        records[name] = os.path.join(folder, f"records_{name}")
        # Training windows start at dupe_factor offsets (nanoGPT samples random
        # ones); validation windows are consecutive, each position scored once.
        vocab = ([f"--vocab_file={os.path.join(records['train'], 'vocab.json')}"]
                 if name == "val" else [f"--dupe_factor={dupe_factor}"])
        run([sys.executable, "-m", "tfrecords.create_pretraining_data", "--model=gpt",
             "--tokenizer=char", "--input_format=text", f"--input_file={texts[name]}",
             f"--output_dir={records[name]}", f"--max_seq_length={r['block_size']}",
             "--progress=false", *vocab], cwd=REPO)
    vocab_file = os.path.join(records["train"], "vocab.json")
    vocab_size = len(json.load(open(vocab_file)))
    config = os.path.join(folder, "gpt_config.json")
    with open(config, "w") as f:
        json.dump(dict(vocab_size=vocab_size, hidden_size=r["n_embd"],
                       num_hidden_layers=r["n_layer"], num_attention_heads=r["n_head"],
                       max_position_embeddings=r["block_size"],
                       hidden_dropout_prob=r["dropout"], embedding_dropout_prob=r["dropout"],
                       attention_probs_dropout_prob=r["dropout"],
                       use_bias=r["bias"], hidden_act=ACTIVATION,
                       bos_token_id=0, eos_token_id=0), f)
    val_windows = len(open(texts["val"], encoding="utf-8").read()) // r["block_size"]
    out = os.path.join(folder, "ours")
    cmd = [sys.executable, "run_pretraining.py", "--model=gpt", f"--config_file={config}",
           f"--input_file={records['train']}/*.tfrecord",
           f"--eval_input_file={records['val']}/*.tfrecord", f"--vocab_file={vocab_file}",
           f"--output_dir={out}", "--do_train", "--do_eval",
           f"--train_batch_size={r['batch_size']}", f"--max_seq_length={r['block_size']}",
           f"--num_train_steps={r['max_iters']}", f"--num_warmup_steps={r['warmup_iters']}",
           f"--learning_rate={r['learning_rate']}", "--decay=cosine",
           f"--end_learning_rate={r['min_lr']}", f"--adam_beta2={r['beta2']}",
           f"--weight_decay={r['weight_decay']}", f"--clip_norm={r['grad_clip']}",
           "--eval_batch_size=64", f"--max_eval_steps={val_windows // 64 + 1}",
           f"--save_checkpoints_steps={r['max_iters']}", "--steps_per_execution=50",
           "--do_export=false", f"--seed={seed}", *extra_flags]
    run(cmd, cwd=REPO)
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    return {"val_loss_full": metrics["eval"]["loss"],
            "ms_per_iter": 1000 * r["batch_size"] / metrics["train"]["examples_per_second"],
            "command": " ".join(cmd)}


NANOGPT_EVAL = textwrap.dedent("""
    import json, sys, numpy as np, torch
    from model import GPT, GPTConfig  # nanoGPT's, in the working directory
    ckpt = torch.load(sys.argv[2], map_location="cpu")
    model = GPT(GPTConfig(**ckpt["model_args"]))
    model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()})
    model.eval()
    val = np.fromfile(sys.argv[3], dtype=np.uint16).astype(np.int64)
    block = int(sys.argv[4])
    count = (len(val) - 1) // block
    starts = np.arange(count) * block
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, count, 64):
            rows = starts[i:i + 64, None] + np.arange(block + 1)[None, :]
            batch = torch.from_numpy(val[rows])
            _, loss = model(batch[:, :-1].contiguous(), batch[:, 1:].contiguous())
            total += float(loss) * len(rows)
            n += len(rows)
    print(json.dumps({"val_loss_full": total / n, "iter": ckpt["iter_num"]}))
""")


def run_nanogpt(text, nanogpt, torch_python, folder):
    r = RECIPE
    data = os.path.join(folder, "nanogpt_data", "shakespeare_char")
    os.makedirs(data)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    n = int(len(text) * 0.9)
    for name, part in (("train", text[:n]), ("val", text[n:])):
        np.array([index[c] for c in part], np.uint16).tofile(os.path.join(data, f"{name}.bin"))
    with open(os.path.join(data, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": len(chars), "itos": dict(enumerate(chars)), "stoi": index}, f)
    # nanoGPT reads data/<dataset>/ relative to its working directory.
    work = os.path.join(folder, "nanogpt_run")
    os.makedirs(work)
    for name in ("train.py", "model.py", "configurator.py"):
        with open(os.path.join(nanogpt, name)) as src, open(os.path.join(work, name), "w") as dst:
            dst.write(src.read())
    os.symlink(os.path.join(folder, "nanogpt_data"), os.path.join(work, "data"))
    out = os.path.join(folder, "nanogpt_out")
    args = [f"--{k}={v}" for k, v in r.items()] + [
        # config/train_shakespeare_char.py's settings that the recipe does not name.
        "--gradient_accumulation_steps=1",
        "--dataset=shakespeare_char", f"--lr_decay_iters={r['max_iters']}", "--device=cpu",
        "--compile=False", "--eval_iters=20", "--log_interval=1", "--eval_interval=250",
        "--always_save_checkpoint=True", f"--out_dir={out}", "--dtype=float32"]
    done = run([torch_python, "-u", "train.py", *args], cwd=work)
    times = [float(t) for t in re.findall(r"iter \d+: loss [\d.]+, time ([\d.]+)ms", done.stdout)]
    estimates = re.findall(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)", done.stdout)
    scored = run([torch_python, "-c", NANOGPT_EVAL, work, os.path.join(out, "ckpt.pt"),
                  os.path.join(data, "val.bin"), str(r["block_size"])], cwd=work)
    result = json.loads(scored.stdout.strip().splitlines()[-1])
    result.update(ms_per_iter=statistics.median(times[10:]),
                  val_loss_estimate=float(estimates[-1][2]) if estimates else None,
                  command=f"{torch_python} train.py {' '.join(args)}")
    return result


def main(argv):
    del argv
    with open(paths.data_path("tinyshakespeare", "input.txt"), encoding="utf-8") as f:
        text = f.read()
    common.check_pressure("before")
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        if FLAGS.nanogpt and FLAGS.only != "ours":
            results["nanoGPT"] = run_nanogpt(text, FLAGS.nanogpt, paths.torch_python(), folder)
        if FLAGS.only != "nanogpt":
            results["ours"] = run_ours(split(text, folder), folder, FLAGS.seed,
                                       FLAGS.dupe_factor, FLAGS.ours_flags.split())
    for name, r in results.items():
        print(f"{name:8s} val loss (whole val split) {r['val_loss_full']:.4f}  "
              f"ms/iter {r['ms_per_iter']:.1f}" +
              (f"  (nanoGPT's 20-batch estimate {r['val_loss_estimate']:.4f})"
               if r.get("val_loss_estimate") else ""))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    from absl import app
    app.run(main)
