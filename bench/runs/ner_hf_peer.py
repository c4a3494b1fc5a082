"""CoNLL NER fine-tuning with Hugging Face PyTorch: the peer of `run_ner.py`.

Run by the reference Python only (never imports TensorFlow or the project):

    /work/refvenv/bin/python bench/runs/ner_hf_peer.py --model_dir=MINILM \
        --train_file=../shared/data/wnut17/train.conll \
        --eval_file=../shared/data/wnut17/dev.conll --max_train_rows=300

Our code over transformers' `BertForTokenClassification` and
`BertTokenizerFast`, the loop of torch_finetuning.py:

- sentences: `token<TAB>...<TAB>tag` lines (first and last columns), a blank
  line between sentences, `-DOCSTART-` lines skipped; the first
  `--max_train_rows` training sentences; labels: the training tags, sorted;
- features: each word's pieces (a word with none becomes [UNK]); the first
  piece carries the word's tag, the others, [CLS] and [SEP] -100. Training
  sentences longer than `max_seq_length - 2` pieces lose their last words;
  evaluation sentences are cut into windows of whole words, so every word is
  predicted (as run_ner.py does);
- entity-level micro precision/recall/F1 over the dev set with conlleval's
  chunk rules (IOB1/IOB2 starts and ends), written here.

The last line of stdout is JSON: f1, precision, recall, train_seconds,
train_examples (sentences), train_steps, examples_per_second, predict_seconds.
"""

from transformers import BertForTokenClassification, BertTokenizerFast

import torch_finetuning as loop  # this folder's (the script's folder is on sys.path)

IGNORE = -100
KEYS = {"input_ids": 0, "token_type_ids": 0, "attention_mask": 0, "labels": IGNORE}
PREDICT_KEYS = {"input_ids": 0, "token_type_ids": 0, "attention_mask": 0}


def read_conll(path, limit=0):
    """`[(words, tags)]`: one per sentence, at most `limit` (0: all)."""
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            columns = line.rstrip("\r\n").split("\t") if line.strip() else []
            if columns and columns[0] != "-DOCSTART-":
                words.append(columns[0])
                tags.append(columns[-1])
                continue
            if words:
                sentences.append((words, tags))
                words, tags = [], []
    if words:
        sentences.append((words, tags))
    return sentences[:limit] if limit else sentences


def word_pieces(sentences, tokenizer):
    """Per sentence, per word: its piece ids ([UNK] for a word with none)."""
    flat = [w for words, _ in sentences for w in words]
    ids = tokenizer(flat, add_special_tokens=False)["input_ids"] if flat else []
    out, k = [], 0
    for words, _ in sentences:
        out.append([ids[k + i] or [tokenizer.unk_token_id] for i in range(len(words))])
        k += len(words)
    return out


def word_windows(counts, budget):
    """`[(first, end)]` ranges of consecutive words of at most `budget` pieces each."""
    out, first, used = [], 0, 0
    for i, count in enumerate(counts):
        count = min(count, budget)
        if used + count > budget:
            out.append((first, i))
            first, used = i, 0
        used += count
    out.append((first, len(counts)))
    return out


def make_features(sentences, pieces, label_ids, tokenizer, max_seq_length, training):
    """Feature dicts; each has `sentence` and `words` (the word index of every label slot)."""
    budget = max_seq_length - 2
    features = []
    for s, ((_, tags), words) in enumerate(zip(sentences, pieces)):
        ranges = word_windows([len(p) for p in words], budget)
        for first, end in ranges[:1] if training else ranges:
            ids, labels, word_of = [tokenizer.cls_token_id], [IGNORE], [-1]
            for w in range(first, end):
                kept = words[w][:budget - len(ids) + 1]
                ids += kept
                labels += [label_ids.get(tags[w], 0)] + [IGNORE] * (len(kept) - 1)
                word_of += [w] + [-1] * (len(kept) - 1)
            ids.append(tokenizer.sep_token_id)
            labels.append(IGNORE)
            word_of.append(-1)
            features.append({"input_ids": ids, "token_type_ids": [0] * len(ids),
                             "attention_mask": [1] * len(ids), "labels": labels,
                             "sentence": s, "words": word_of})
    return features


def chunks(tags):
    """Set of (type, first, last) entities of one tag sequence, by conlleval's rules."""
    found, start, kind = set(), None, None
    previous_prefix, previous_kind = "O", ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, this_kind = tag.partition("-") if tag != "O" else ("O", "", "")
        ends = previous_prefix in "BI" and (prefix in "BO" or this_kind != previous_kind)
        if ends and start is not None:
            found.add((kind, start, i - 1))
            start = None
        begins = prefix == "B" or (prefix == "I" and (previous_prefix == "O"
                                                      or previous_kind != this_kind))
        if begins:
            start, kind = i, this_kind
        previous_prefix, previous_kind = prefix, this_kind
    return found


def entity_scores(gold_sentences, predicted_sentences):
    """Micro {"precision", "recall", "f1"} in percent over all sentences' entities."""
    correct = gold = predicted = 0
    for gold_tags, predicted_tags in zip(gold_sentences, predicted_sentences):
        g, p = chunks(gold_tags), chunks(predicted_tags)
        correct, gold, predicted = correct + len(g & p), gold + len(g), predicted + len(p)
    precision = 100.0 * correct / predicted if predicted else 0.0
    recall = 100.0 * correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold_entities": gold,
            "predicted_entities": predicted}


def main():
    parser = loop.arguments(__doc__.splitlines()[0], {"num_train_epochs": 3.0})
    args = parser.parse_args()
    loop.setup(args)
    tokenizer = BertTokenizerFast.from_pretrained(args.model_dir)
    train = read_conll(args.train_file, args.max_train_rows)
    dev = read_conll(args.eval_file)
    names = sorted({tag for _, tags in train for tag in tags})
    label_ids = {name: i for i, name in enumerate(names)}
    train_features = make_features(train, word_pieces(train, tokenizer), label_ids, tokenizer,
                                   args.max_seq_length, training=True)
    dev_features = make_features(dev, word_pieces(dev, tokenizer), label_ids, tokenizer,
                                 args.max_seq_length, training=False)
    loop.log(f"{len(train)} training sentences, {len(names)} labels; {len(dev)} dev sentences "
             f"-> {len(dev_features)} windows")
    model = BertForTokenClassification.from_pretrained(
        args.model_dir, num_labels=len(names), id2label=dict(enumerate(names)),
        label2id=label_ids)
    training = loop.train(model, train_features,
                           lambda rows: loop.pad_batch(rows, KEYS), args)
    batches, predict_seconds = loop.predict(
        model, dev_features, lambda rows: loop.pad_batch(rows, PREDICT_KEYS),
        args.predict_batch_size, lambda out: out.logits.argmax(-1).tolist())
    predicted = [["O"] * len(words) for words, _ in dev]
    for feature, row in zip(dev_features, [row for batch in batches for row in batch]):
        for position, word in enumerate(feature["words"]):
            if word >= 0:
                predicted[feature["sentence"]][word] = names[row[position]]
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8") as f:
            for (words, tags), guesses in zip(dev, predicted):
                f.writelines(f"{w}\t{t}\t{g}\n" for w, t, g in zip(words, tags, guesses))
                f.write("\n")
    loop.report(entity_scores([tags for _, tags in dev], predicted), training,
                len(train_features), args.train_batch_size, predict_seconds)


if __name__ == "__main__":
    main()
