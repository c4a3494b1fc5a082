"""SQuAD v1.1 fine-tuning with Hugging Face PyTorch: the peer of `run_squad.py`.

Run by the reference Python only (never imports TensorFlow or the project):

    /work/refvenv/bin/python bench/runs/squad_hf_peer.py --model_dir=MINILM \
        --train_file=../shared/data/squad/train-v1.1.json.gz \
        --eval_file=../shared/data/squad/dev-v1.1-shared.json --max_train_rows=200 \
        --max_seq_length=256 --num_train_epochs=1 --train_batch_size=32

Our code over transformers' `BertForQuestionAnswering` and `BertTokenizerFast`
(offsets), the loop of torch_finetuning.py:

- examples: the first `--max_train_rows` questions in file order, answer = the
  first answer's `answer_start` and text;
- features as Google's: `[CLS] question [SEP] window [SEP]`, the question cut
  to `--max_query_length` pieces, windows of the context's pieces starting
  every `--doc_stride` pieces (the last one reaching the end); the answer's
  first/last piece inside the window, else both at [CLS] (0);
- predictions: per feature the `--n_best_size` best starts and ends, spans
  inside the context of at most `--max_answer_length` pieces whose start
  piece has its "max context" in that window (Google's rule), best sum of
  logits over the question's windows; the text is the context's characters
  from the offsets; exact match and F1 as evaluate-v1.1.py defines them.

The last line of stdout is JSON: f1, exact_match, train_seconds,
train_examples (features), train_steps, examples_per_second, predict_seconds.
"""

import collections
import gzip
import json
import re
import string

from transformers import BertForQuestionAnswering, BertTokenizerFast

import torch_finetuning as loop  # this folder's (the script's folder is on sys.path)


def read_squad(path, limit=0):
    """`[(id, question, context, answers)]` in file order; answers: [(start, text)]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    examples = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [(a["answer_start"], a["text"]) for a in qa["answers"]]
                examples.append((qa["id"], qa["question"], paragraph["context"], answers))
                if limit and len(examples) == limit:
                    return examples
    return examples


def window_starts(num_pieces, room, stride):
    """Google's windows: starts 0, stride, 2 stride, ... until one reaches the end."""
    starts, start = [], 0
    while True:
        starts.append(start)
        if start + room >= num_pieces:
            return starts
        start += min(room, stride)


def max_context(starts, room, num_pieces, position, window):
    """True if piece `position` has its best context (Google's score) in window `window`."""
    best, best_window = None, None
    for w, start in enumerate(starts):
        length = min(room, num_pieces - start)
        if not start <= position < start + length:
            continue
        score = min(position - start, start + length - 1 - position) + 0.01 * length
        if best is None or score > best:
            best, best_window = score, w
    return best_window == window


def make_features(examples, tokenizer, args, training):
    """Examples -> feature dicts (input_ids, token_type_ids, attention_mask, positions, ...)."""
    questions = tokenizer([e[1] for e in examples], add_special_tokens=False)["input_ids"]
    contexts = tokenizer([e[2] for e in examples], add_special_tokens=False,
                         return_offsets_mapping=True)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    features = []
    for index, example in enumerate(examples):
        query = questions[index][:args.max_query_length]
        pieces, offsets = contexts["input_ids"][index], contexts["offset_mapping"][index]
        room = args.max_seq_length - len(query) - 3
        starts = window_starts(len(pieces), room, args.doc_stride)
        first = last = None
        if training:
            answer_start, text = example[3][0]
            answer_end = answer_start + len(text)
            inside = [i for i, (s, e) in enumerate(offsets) if s < answer_end and e > answer_start]
            first, last = (inside[0], inside[-1]) if inside else (None, None)
        for w, start in enumerate(starts):
            length = min(room, len(pieces) - start)
            head = [cls] + query + [sep]
            ids = head + pieces[start:start + length] + [sep]
            feature = {"input_ids": ids, "token_type_ids": [0] * len(head) + [1] * (length + 1),
                       "attention_mask": [1] * len(ids), "example": index}
            if training:
                if first is not None and start <= first and last < start + length:
                    feature["start_positions"] = first - start + len(head)
                    feature["end_positions"] = last - start + len(head)
                else:
                    feature["start_positions"] = feature["end_positions"] = 0
            else:  # context piece of each position (-1 outside), and its max-context flag
                feature["piece"] = [-1] * len(head) + list(range(start, start + length)) + [-1]
                feature["max_context"] = [False] * len(head) + [
                    max_context(starts, room, len(pieces), p, w)
                    for p in range(start, start + length)] + [False]
                feature["offsets"] = offsets
            features.append(feature)
    return features


TRAIN_KEYS = {"input_ids": 0, "token_type_ids": 0, "attention_mask": 0,
              "start_positions": 0, "end_positions": 0}
PREDICT_KEYS = {"input_ids": 0, "token_type_ids": 0, "attention_mask": 0}


def best_answers(examples, features, starts, ends, n_best, max_answer_length):
    """id -> predicted text: the best-scoring valid span over the example's windows."""
    best = {}
    for feature, start_logits, end_logits in zip(features, starts, ends):
        n = len(feature["input_ids"])
        start_logits, end_logits = start_logits[:n], end_logits[:n]
        top_starts = sorted(range(n), key=lambda i: -start_logits[i])[:n_best]
        top_ends = sorted(range(n), key=lambda i: -end_logits[i])[:n_best]
        for s in top_starts:
            if feature["piece"][s] < 0 or not feature["max_context"][s]:
                continue
            for e in top_ends:
                if feature["piece"][e] < 0 or e < s or e - s + 1 > max_answer_length:
                    continue
                score = start_logits[s] + end_logits[e]
                example = feature["example"]
                if example not in best or score > best[example][0]:
                    offsets = feature["offsets"]
                    best[example] = (score, offsets[feature["piece"][s]][0],
                                     offsets[feature["piece"][e]][1])
    predictions = {}
    for index, (qid, _, context, _) in enumerate(examples):
        _, begin, end = best.get(index, (0.0, 0, 0))
        predictions[qid] = context[begin:end]
    return predictions


PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text):
    """evaluate-v1.1.py's normalisation: lowercase, no punctuation, articles or extra spaces."""
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1_score(prediction, truth):
    predicted, true = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((collections.Counter(predicted) & collections.Counter(true)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(true)
    return 2 * precision * recall / (precision + recall)


def squad_scores(examples, predictions):
    """{"exact_match", "f1"} in percent, max over each question's answers."""
    exact = f1 = 0.0
    for qid, _, _, answers in examples:
        truths = [text for _, text in answers]
        exact += max(float(normalize_answer(predictions[qid]) == normalize_answer(t))
                     for t in truths)
        f1 += max(f1_score(predictions[qid], t) for t in truths)
    return {"exact_match": 100.0 * exact / len(examples), "f1": 100.0 * f1 / len(examples)}


def main():
    parser = loop.arguments(__doc__.splitlines()[0], {"max_seq_length": 384})
    parser.add_argument("--doc_stride", type=int, default=128)
    parser.add_argument("--max_query_length", type=int, default=64)
    parser.add_argument("--n_best_size", type=int, default=20)
    parser.add_argument("--max_answer_length", type=int, default=30)
    args = parser.parse_args()
    loop.setup(args)
    # Contexts are tokenized whole, then cut into windows: no length warning for them.
    tokenizer = BertTokenizerFast.from_pretrained(args.model_dir, model_max_length=10 ** 9)
    train_examples = read_squad(args.train_file, args.max_train_rows)
    train_features = make_features(train_examples, tokenizer, args, training=True)
    eval_examples = read_squad(args.eval_file)
    eval_features = make_features(eval_examples, tokenizer, args, training=False)
    loop.log(f"{len(train_examples)} training questions -> {len(train_features)} features; "
                f"{len(eval_examples)} dev questions -> {len(eval_features)} features")
    model = BertForQuestionAnswering.from_pretrained(args.model_dir)
    training = loop.train(
        model, train_features, lambda rows: loop.pad_batch(rows, TRAIN_KEYS), args)
    batches, predict_seconds = loop.predict(
        model, eval_features, lambda rows: loop.pad_batch(rows, PREDICT_KEYS),
        args.predict_batch_size, lambda out: (out.start_logits.tolist(), out.end_logits.tolist()))
    starts = [row for batch in batches for row in batch[0]]
    ends = [row for batch in batches for row in batch[1]]
    predictions = best_answers(eval_examples, eval_features, starts, ends,
                               args.n_best_size, args.max_answer_length)
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8") as f:
            json.dump(predictions, f, indent=1)
    loop.report(squad_scores(eval_examples, predictions), training, len(train_features),
                args.train_batch_size, predict_seconds)


if __name__ == "__main__":
    main()
