"""tfgpt against the Hugging Face GPT-2 references of bench/gpt_make_references.py.

    /work/venv/bin/python bench/gpt_check_reference.py [--ref /work/refs/gpt2_small_random]

Checks, with the reference's own folder loaded by `GPTLanguageModel.from_pretrained`:
  1. logits of each prompt (max abs difference; target <= 1e-4);
  2. greedy generation, all prompts in ONE right-padded batch, eager-compiled and XLA
     loops, token for token against HF `generate(do_sample=False)` of each prompt alone;
  3. `BytePairTokenizer` ids against HF `GPT2Tokenizer` on every line of WikiText-2
     test.txt and tinyshakespeare's last 10%, and detokenize(tokenize(line)) == line.
"""

import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tfgpt import GPTLanguageModel  # noqa: E402
from tfgpt.tokenization import load_tokenizer  # noqa: E402
from bench.gpt_make_references import DATA, shakespeare_split  # noqa: E402

BATCH_LINES = 512


def check_logits(lm, ref):
    worst = 0.0
    for row, length, expected in zip(ref["prompt_ids"], ref["prompt_lengths"], ref["logits"]):
        logits = lm({"token_ids": tf.constant(row[None, :length])}).numpy()[0]
        worst = max(worst, float(np.abs(logits - expected[:length]).max()))
    return worst


def check_greedy(lm, ref, jit_compile):
    prompts = tf.ragged.constant([r[:n].tolist() for r, n in
                                  zip(ref["prompt_ids"], ref["prompt_lengths"])], tf.int32)
    new = ref["greedy"].shape[1] - ref["prompt_ids"].shape[1]
    start = time.perf_counter()
    ours = lm.generate(prompts, max_new_tokens=new, end_token_id=lm.config.eos_token_id,
                       jit_compile=jit_compile).numpy()
    seconds = time.perf_counter() - start
    identical = 0
    for i, (theirs, length) in enumerate(zip(ref["greedy"], ref["prompt_lengths"])):
        theirs = theirs[theirs >= 0]
        mine = ours[i][:len(theirs)]
        rest = ours[i][len(theirs):]
        identical += int(np.array_equal(mine, theirs) and np.all(rest == lm.config.pad_token_id))
    return identical, len(ref["greedy"]), seconds


def lines_of(name):
    if name == "wikitext":
        with open(os.path.join(DATA, "wikitext2/test.txt"), encoding="utf-8") as f:
            return f.read().split("\n")
    return shakespeare_split()[1].split("\n")


def check_tokenizer(tokenizer, ref, name):
    lines = lines_of(name)
    expected = tf.RaggedTensor.from_row_lengths(ref[f"{name}_ids"], ref[f"{name}_lengths"])
    tokenize = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    detokenize = tf.function(tokenizer.detokenize)
    mismatched, not_round_trip, seconds = [], 0, 0.0
    for start in range(0, len(lines), BATCH_LINES):
        batch = lines[start:start + BATCH_LINES]
        begin = time.perf_counter()
        ids = tokenize(tf.constant(batch))
        seconds += time.perf_counter() - begin
        want = expected[start:start + BATCH_LINES].to_list()
        for i, (got, wanted) in enumerate(zip(ids.to_list(), want)):
            if got != wanted:
                mismatched.append(start + i)
        texts = detokenize(ids).numpy()
        not_round_trip += sum(t.decode("utf-8") != line for t, line in zip(texts, batch))
    return dict(lines=len(lines), tokens=int(expected.flat_values.shape[0]),
                mismatched=len(mismatched), first_mismatches=mismatched[:5],
                not_round_trip=not_round_trip,
                chars_per_second=sum(map(len, lines)) / seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ref", default="/work/refs/gpt2_small_random")
    args = parser.parse_args()
    ref = dict(np.load(os.path.join(args.ref, "reference.npz")))
    lm = GPTLanguageModel.from_pretrained(args.ref)
    print(f"1. logits max |ours - HF| over {len(ref['prompt_ids'])} prompts: "
          f"{check_logits(lm, ref):.2e}  (target <= 1e-4)")
    print(f"   smallest HF top-1 - top-2 logit gap on the greedy paths: "
          f"{ref['greedy_min_margin'].min():.4f}")
    for jit in (False, True):
        same, total, seconds = check_greedy(lm, ref, jit)
        print(f"2. greedy, one padded batch, jit_compile={jit}: {same}/{total} prompts token-for-"
              f"token identical to HF ({seconds:.1f} s incl. tracing)")
    tokenizer = load_tokenizer(args.ref)
    for name in ("wikitext", "shakespeare"):
        r = check_tokenizer(tokenizer, ref, name)
        print(f"3. tokenizer on {name}: {r['lines']} lines, {r['tokens']} HF ids; lines with "
              f"different ids: {r['mismatched']} {r['first_mismatches']}; detokenize != line: "
              f"{r['not_round_trip']}; {r['chars_per_second'] / 1e3:.0f}k chars/s")


if __name__ == "__main__":
    main()
