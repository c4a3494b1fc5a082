"""Writes all-MiniLM-L6-v2 with one seeded random task head (PyTorch side).

Run with the reference environment only (it imports torch and transformers):

    /work/refvenv/bin/python bench/runs/head_folder.py --head=token --model_dir=MINILM \
        --train_file=wnut17/train.conll --seed=1 --output_dir=/tmp/minilm_ner_seed1
    /work/refvenv/bin/python bench/runs/head_folder.py --head=span --model_dir=MINILM \
        --seed=1 --output_dir=/tmp/minilm_squad_seed1

The folder (config.json, with `id2label` = the training tags sorted for a token
head; model.safetensors; vocab and tokenizer files) is the starting point of
both sides of `ner_vs_hf` / `squad_vs_hf` with `--shared_head`: the same head
weights (and tag order) on both, so the comparison measures the
implementations, not two head initialisations.
"""

import argparse
import os
import shutil

import torch
from transformers import BertForQuestionAnswering, BertForTokenClassification, BertTokenizerFast


def training_tags(path):
    """The sorted tags of a CoNLL file (last column; blank and -DOCSTART- lines skipped)."""
    tags = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] != "-DOCSTART-":
                tags.add(fields[-1])
    return sorted(tags)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", choices=("token", "span"), required=True)
    for name in ("model_dir", "output_dir"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--train_file", help="CoNLL training file (token head: its tags).")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.head == "span":
        names = ["start", "end"]
        model = BertForQuestionAnswering.from_pretrained(args.model_dir)
    else:
        names = training_tags(args.train_file)
        model = BertForTokenClassification.from_pretrained(
            args.model_dir, num_labels=len(names), id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)})
    model.save_pretrained(args.output_dir)
    BertTokenizerFast.from_pretrained(args.model_dir).save_pretrained(args.output_dir)
    # transformers 5 saves tokenizer.json only; run_ner.py reads Google's vocab.txt.
    shutil.copy(os.path.join(args.model_dir, "vocab.txt"), args.output_dir)
    print(f"{args.output_dir}: {args.head} head ({len(names)} outputs) seeded {args.seed}")


if __name__ == "__main__":
    main()
