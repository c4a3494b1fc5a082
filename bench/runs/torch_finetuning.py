"""The training loop shared by the Hugging Face PyTorch peers (run by `--torch_python` only).

squad_hf_peer.py and ner_hf_peer.py import it from their own folder; it
never imports TensorFlow or the project (torch is never a project
dependency). The recipe is the one `run_squad.py` / `run_ner.py` run with
`--adam_bias_correction=true`, written with plain PyTorch:

- `torch.optim.AdamW` (betas 0.9/0.999, epsilon 1e-6 as Google's), weight
  decay on every parameter but biases and LayerNorm weights;
- the learning rate of `tfcore.optimization.WarmupDecaySchedule`: linear
  decay to 0 over all steps (Google's), the warmup ramping linearly to the
  decay curve's value at its last step;
- `num_train_steps = int(features / batch * epochs)` batches drawn from one
  shuffled order per epoch, the epochs joined (shuffle, repeat, batch);
- gradients clipped to global norm `clip_norm`; dropout as the checkpoint's
  config says (model.train());
- every batch padded to its longest row rounded up to 8, as a good
  Hugging Face user's `DataCollatorWithPadding(pad_to_multiple_of=8)`.

Example (inside a peer):

    setup(args)                                   # seed, threads
    training = train(model, rows, collate, args)        # (seconds, steps, first step s)
    batches, seconds = predict(model, rows, collate, args.predict_batch_size, to_lists)
    report({"f1": ...}, training, len(rows), args.train_batch_size, seconds)
"""

import argparse
import json
import math
import sys
import time

import torch

PAD_MULTIPLE = 8
ADAM_EPSILON = 1e-6
NO_DECAY = ("bias", "LayerNorm.weight", "LayerNorm.bias")


def log(*args):
    print("[hf peer]", *args, file=sys.stderr, flush=True)


def arguments(description, defaults):
    """An ArgumentParser with the recipe's options; `defaults` (name -> value) overrides."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model_dir", required=True, help="A Hugging Face BERT folder.")
    parser.add_argument("--train_file", required=True)
    parser.add_argument("--eval_file", required=True)
    parser.add_argument("--max_train_rows", type=int, default=0, help="0: all.")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--train_batch_size", type=int, default=32)
    parser.add_argument("--predict_batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument("--num_train_epochs", type=float, default=3.0)
    parser.add_argument("--warmup_proportion", type=float, default=0.1)
    parser.add_argument("--weight_decay", type=float, default=0.01)
    parser.add_argument("--clip_norm", type=float, default=1.0, help="0: no clipping.")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output_file", default=None,
                        help="Also write the predictions here (JSON).")
    parser.set_defaults(**defaults)
    return parser


def setup(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)


def pad_batch(rows, pad_values):
    """Rows (dicts of int lists) -> dict of LongTensor `[b, s']`, s' = longest rounded up to 8.

    `pad_values`: key -> padding value (keys absent from it are not tensors).
    """
    longest = max(len(row["input_ids"]) for row in rows)
    length = (longest + PAD_MULTIPLE - 1) // PAD_MULTIPLE * PAD_MULTIPLE
    batch = {}
    for key, pad in pad_values.items():
        if isinstance(rows[0][key], list):
            batch[key] = torch.tensor([row[key] + [pad] * (length - len(row[key]))
                                       for row in rows], dtype=torch.long)
        else:
            batch[key] = torch.tensor([row[key] for row in rows], dtype=torch.long)
    return batch


def learning_rate_factor(step, num_train_steps, num_warmup_steps):
    """WarmupDecaySchedule("linear") / learning_rate at optimizer step `step` (0-based)."""
    decayed = max(0.0, 1.0 - min(step, num_train_steps) / max(num_train_steps, 1))
    if step < num_warmup_steps:
        at_end = 1.0 - num_warmup_steps / max(num_train_steps, 1)
        return at_end * step / num_warmup_steps
    return decayed


def optimizer_for(model, args, num_train_steps):
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        (no_decay if any(part in name for part in NO_DECAY) else decay).append(parameter)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.learning_rate, betas=(0.9, 0.999), eps=ADAM_EPSILON)
    warmup = int(num_train_steps * args.warmup_proportion)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_factor(step, num_train_steps, warmup))
    return optimizer, schedule


def batch_order(num_rows, batch_size, num_train_steps, seed):
    """`num_train_steps` lists of row indices: per-epoch permutations, joined, cut in batches."""
    generator = torch.Generator().manual_seed(seed)
    needed = num_train_steps * batch_size
    order = []
    while len(order) < needed:
        order += torch.randperm(num_rows, generator=generator).tolist()
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(num_train_steps)]


def train(model, rows, collate, args):
    """Fine-tunes `model` on `rows`; returns (seconds, steps, seconds of the first step).

    `collate(rows)` -> the model's keyword arguments.

    Logs the process's CPU seconds too: on a shared machine, wall seconds over CPU
    seconds / threads tells how much of the time the neighbours took.
    """
    steps = max(1, int(len(rows) / args.train_batch_size * args.num_train_epochs))
    optimizer, schedule = optimizer_for(model, args, steps)
    model.train()
    report_every = max(1, steps // 20)
    start, cpu_start = time.perf_counter(), time.process_time()
    first_step_seconds = None
    for step, indices in enumerate(batch_order(len(rows), args.train_batch_size, steps,
                                               args.seed)):
        loss = model(**collate([rows[i] for i in indices])).loss
        loss.backward()
        if args.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step == 0:
            first_step_seconds = time.perf_counter() - start
        if (step + 1) % report_every == 0 or step + 1 == steps:
            elapsed = time.perf_counter() - start
            log(f"step {step + 1}/{steps} loss {loss.item():.4f} "
                f"{(step + 1) * args.train_batch_size / elapsed:.1f} examples/s")
    seconds = time.perf_counter() - start
    log(f"trained {steps} steps in {seconds:.1f} s, {time.process_time() - cpu_start:.1f} CPU s")
    return seconds, steps, first_step_seconds


@torch.inference_mode()
def predict(model, rows, collate, batch_size, outputs):
    """Runs `model` in eval mode over `rows` in order; `outputs(result)` -> per-row arrays.

    Returns the list of `outputs(...)` values of every batch, and the seconds taken.
    """
    model.eval()
    start = time.perf_counter()
    results = [outputs(model(**collate(rows[i:i + batch_size])))
               for i in range(0, len(rows), batch_size)]
    return results, time.perf_counter() - start


def report(quality, training, train_rows, batch_size, predict_seconds):
    """Prints the peer's JSON line (the last line of stdout); `training`: what train() returned.

    `examples_per_second` counts every step; `steady_examples_per_second` all
    but the first (as run_squad.py / run_ner.py's own figure leaves out the
    steps that trace and compile).
    """
    seconds, steps, first_step = training
    examples = steps * batch_size
    steady = (examples - batch_size) / (seconds - first_step) if steps > 1 else math.nan
    print(json.dumps(dict(
        quality, train_seconds=round(seconds, 3), train_examples=train_rows,
        train_steps=steps, examples_trained=examples,
        examples_per_second=round(examples / seconds, 3),
        steady_examples_per_second=round(steady, 3),
        predict_seconds=round(predict_seconds, 3),
        torch=torch.__version__)), flush=True)
