"""An independent transcription of Google's run_squad.py `write_predictions`, for parity checks.

Written from the published algorithm (google-research/bert run_squad.py),
in the shape Google's code keeps its data: per feature the WordPiece
`tokens` (strings), `token_to_orig_map` and `token_is_max_context` dicts
keyed by position, per example the white-space `doc_tokens`. It shares no
code with `tftasks.squad.postprocess`; `get_final_text` uses BERT's basic
tokenizer (`tfcore.text.wordpiece.basic_tokenize`, itself checked against
Hugging Face's in tests/tfbert).

Example:

    google_features = [google_view(f, vocab) for f in features]
    texts = reference_predictions(examples, google_features, logits, 20, 30, True)
"""

from tfcore.text.wordpiece import basic_tokenize


def google_view(feature, vocab):
    """A `tftasks.squad.features.Feature` as Google's InputFeatures fields (a dict)."""
    tokens = [vocab[i] for i in feature.input_ids]
    context = [p for p in range(len(tokens)) if feature.token_to_word[p] >= 0]
    return {"example_index": feature.example_index, "tokens": tokens,
            "token_to_orig_map": {p: int(feature.token_to_word[p]) for p in context},
            "token_is_max_context": {p: bool(feature.max_context[p]) for p in context}}


def top_positions(values, n):
    ranked = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    return ranked[:n]


def project_to_original(pred_text, orig_text, do_lower_case):
    """Google's get_final_text: align the normalised prediction with the original words."""
    tokenized = " ".join(basic_tokenize(orig_text, do_lower_case))
    begin = tokenized.find(pred_text)
    if begin < 0:
        return orig_text
    last = begin + len(pred_text) - 1

    def squeeze(text):
        mapping = {}
        chars = []
        for position, char in enumerate(text):
            if char != " ":
                mapping[len(chars)] = position
                chars.append(char)
        return "".join(chars), mapping

    orig_squeezed, orig_map = squeeze(orig_text)
    tok_squeezed, tok_map = squeeze(tokenized)
    if len(orig_squeezed) != len(tok_squeezed):
        return orig_text
    inverse = {position: i for i, position in tok_map.items()}
    if begin not in inverse or inverse[begin] not in orig_map:
        return orig_text
    if last not in inverse or inverse[last] not in orig_map:
        return orig_text
    return orig_text[orig_map[inverse[begin]]:orig_map[inverse[last]] + 1]


def reference_predictions(examples, features, logits, n_best_size, max_answer_length,
                          do_lower_case, version_2=False, threshold=0.0):
    """`{qas_id: text}` for `examples` [(qas_id, doc_tokens)]; features and logits aligned."""
    answers = {}
    for example_index, (qas_id, doc_tokens) in enumerate(examples):
        mine = [(f, logits[k]) for k, f in enumerate(features)
                if f["example_index"] == example_index]
        prelim = []
        null_score, null_parts, null_feature = 1e6, (0.0, 0.0), 0
        for feature_index, (feature, (starts, ends)) in enumerate(mine):
            if version_2 and starts[0] + ends[0] < null_score:
                null_score, null_parts = starts[0] + ends[0], (starts[0], ends[0])
                null_feature = feature_index
            for s in top_positions(starts, n_best_size):
                for e in top_positions(ends, n_best_size):
                    if s >= len(feature["tokens"]) or e >= len(feature["tokens"]):
                        continue
                    if s not in feature["token_to_orig_map"]:
                        continue
                    if e not in feature["token_to_orig_map"]:
                        continue
                    if not feature["token_is_max_context"].get(s, False):
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    prelim.append((feature_index, s, e, float(starts[s]), float(ends[e])))
        if version_2:
            prelim.append((null_feature, 0, 0, float(null_parts[0]), float(null_parts[1])))
        prelim = sorted(prelim, key=lambda p: p[3] + p[4], reverse=True)
        nbest, seen = [], {}
        for feature_index, s, e, start_logit, end_logit in prelim:
            if len(nbest) >= n_best_size:
                break
            feature = mine[feature_index][0]
            if s > 0:
                text = " ".join(feature["tokens"][s:e + 1]).replace(" ##", "").replace("##", "")
                text = " ".join(text.strip().split())
                first, last = feature["token_to_orig_map"][s], feature["token_to_orig_map"][e]
                text = project_to_original(text, " ".join(doc_tokens[first:last + 1]),
                                           do_lower_case)
                if text in seen:
                    continue
            else:
                text = ""
            seen[text] = True
            nbest.append((text, start_logit, end_logit))
        if version_2 and "" not in seen:
            nbest.append(("", float(null_parts[0]), float(null_parts[1])))
        if not nbest:
            nbest.append(("empty", 0.0, 0.0))
        if not version_2:
            answers[qas_id] = nbest[0][0]
            continue
        non_null = next(entry for entry in nbest if entry[0])
        diff = null_score - non_null[1] - non_null[2]
        answers[qas_id] = "" if diff > threshold else non_null[0]
    return answers
