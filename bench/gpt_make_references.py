"""Reference outputs of Hugging Face GPT-2 (PyTorch) for tfgpt, from a model built here.

Runs OUTSIDE the project's environment (never imported by the project or its tests):

    /work/refvenv/bin/python bench/gpt_make_references.py [--out /work/refs/gpt2_small_random]
    /work/venv/bin/python bench/gpt_check_reference.py   # compares tfgpt against it

/work/refvenv: torch 2.13 (CPU), transformers 5.23, tokenizers. No download: GPT-2's
real tokenizer files are not available offline, so a byte-level BPE is trained here
with `tokenizers` (GPT-2's pre-tokenizer and byte alphabet, vocab --vocab_size) on
tinyshakespeare's first 90% + WikiText-2 valid.

Writes, under --out:
  vocab.json, merges.txt       the trained BPE (GPT-2 format; <|endoftext|> is id 0)
  config.json, model.safetensors  GPT2LMHeadModel, random init (seeded), GPT-2 architecture
  reference.npz:
    prompt_ids [n, P] int32 (padded with -1), prompt_lengths [n]: GPT2Tokenizer ids of PROMPTS
    logits [n, P, vocab] float32: GPT2LMHeadModel(eval) logits of each prompt, alone (zeros after)
    greedy [n, P + G] int32 (-1 after the end): HF generate(do_sample=False, max_new_tokens=G)
      of each prompt alone; it stops early after eos (<|endoftext|>)
    greedy_min_margin [n]: smallest top-1 minus top-2 logit along each greedy path
    {wikitext,shakespeare}_ids / _lengths: GPT2Tokenizer ids of every line of
      WikiText-2 test.txt and of tinyshakespeare's last 10% (flat, with lengths per line)
"""

import argparse
import json
import os

import numpy as np

DATA = "/work/shared/data"
PROMPTS = [
    "First Citizen:\nBefore we proceed any further, hear me speak.",
    "ROMEO:\nBut, soft! what light through yonder window breaks?",
    " = Valkyria Chronicles III = \n",
    "The game began development in 2010 , carrying over a large portion of the work",
    "To be, or not to be",
    "KING",
]
GREEDY_TOKENS = 40


def shakespeare_split():
    with open(os.path.join(DATA, "tinyshakespeare/input.txt"), encoding="utf-8") as f:
        text = f.read()
    cut = int(0.9 * len(text))
    return text[:cut], text[cut:]


def train_tokenizer(out, vocab_size):
    from tokenizers import ByteLevelBPETokenizer
    train_text, _ = shakespeare_split()
    path = os.path.join(out, "train_text.tmp")
    with open(path, "w", encoding="utf-8") as f:
        f.write(train_text)
    tokenizer = ByteLevelBPETokenizer()  # GPT-2 regex, byte alphabet, no prefix space
    tokenizer.train([path, os.path.join(DATA, "wikitext2/valid.txt")], vocab_size=vocab_size,
                    min_frequency=2, special_tokens=["<|endoftext|>"])
    os.remove(path)
    tokenizer.save_model(out)


def build_model(out, vocab_size, seed):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=vocab_size, n_embd=256, n_layer=4, n_head=4, n_positions=256,
                        bos_token_id=0, eos_token_id=0, activation_function="gelu_new")
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    return model


def references(model, tokenizer):
    import torch
    ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    width = max(map(len, ids))
    prompt_ids = np.full((len(ids), width), -1, np.int32)
    logits = np.zeros((len(ids), width, model.config.vocab_size), np.float32)
    greedy = np.full((len(ids), width + GREEDY_TOKENS), -1, np.int32)
    margins = np.zeros(len(ids), np.float32)
    with torch.no_grad():
        for i, row in enumerate(ids):
            x = torch.tensor([row])
            prompt_ids[i, :len(row)] = row
            logits[i, :len(row)] = model(x).logits[0].numpy()
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                                 max_new_tokens=GREEDY_TOKENS, pad_token_id=0,
                                 output_scores=True, return_dict_in_generate=True)
            seq = out.sequences[0].numpy()
            greedy[i, :len(seq)] = seq
            top2 = [torch.topk(s[0], 2).values for s in out.scores]
            margins[i] = min(float(t[0] - t[1]) for t in top2)
    return dict(prompt_ids=prompt_ids, prompt_lengths=np.array([len(r) for r in ids], np.int32),
                logits=logits, greedy=greedy, greedy_min_margin=margins)


def corpus_ids(tokenizer):
    with open(os.path.join(DATA, "wikitext2/test.txt"), encoding="utf-8") as f:
        wiki = f.read().split("\n")
    shakespeare = shakespeare_split()[1].split("\n")
    result = {}
    for name, lines in (("wikitext", wiki), ("shakespeare", shakespeare)):
        encoded = tokenizer(lines)["input_ids"]
        result[f"{name}_ids"] = np.array([t for row in encoded for t in row], np.int32)
        result[f"{name}_lengths"] = np.array([len(row) for row in encoded], np.int32)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/work/refs/gpt2_small_random")
    parser.add_argument("--vocab_size", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train_tokenizer(args.out, args.vocab_size)
    from transformers import GPT2Tokenizer
    tokenizer = GPT2Tokenizer.from_pretrained(args.out)
    with open(os.path.join(args.out, "vocab.json"), encoding="utf-8") as f:
        vocab_size = len(json.load(f))
    model = build_model(args.out, vocab_size, args.seed)
    arrays = references(model, tokenizer)
    arrays.update(corpus_ids(tokenizer))
    np.savez_compressed(os.path.join(args.out, "reference.npz"), **arrays)
    print(f"wrote {args.out}: vocab {vocab_size}, greedy margins "
          f"{np.round(arrays['greedy_min_margin'], 4).tolist()}, "
          f"{len(arrays['wikitext_ids'])} WikiText-2 ids, "
          f"{len(arrays['shakespeare_ids'])} Shakespeare ids")


if __name__ == "__main__":
    main()
