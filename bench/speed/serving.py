"""Serving latency of an exported BERT encoder SavedModel: batch 1 and 32, seq 128, p50/p99.

Each TensorFlow side is exported, loaded back with `tf.saved_model.load` and
called through its signature, in this process:

- ours: `tfbert.export_encoder.EncoderExport(BertModel(config, dtype=...), tokenizer,
  max_seq_length=128)`: the `encode(input_ids, segment_ids, input_mask)`
  signature; and separately (its own row, not in the comparison) the raw-text
  `serving_default(text)` signature (in-graph WordPiece, then the encoder and
  mean pooling) on texts of more than 128 tokens;
- keras-hub: `BertBackbone(dtype=...).export(...)` (Keras' SavedModel export),
  its `serve({"token_ids", "segment_ids", "padding_mask"})` endpoint;
- HF PyTorch: `BertModel` under `torch.inference_mode()` (no export).

Precisions: float32; mixed_bfloat16 (float32 weights, bf16 compute; HF: bf16
autocast); bfloat16 weights (HF: `model.to(torch.bfloat16)`). Every row of the
batch is a full 128 tokens. Latency is per call, output fetched to NumPy.
"""

import os
import shutil
import tempfile

import numpy as np

from bench.speed import common, harness, peer
from bench.speed.bert_train import SIZES, VOCAB, bert_config

SEQ = 128
TORCH_PRECISION = {"float32": "float32", "mixed_bfloat16": "autocast", "bfloat16": "bfloat16"}


def _latencies(call, calls):
    return lambda: common.time_calls(call, calls)


def write_vocab(path, size=VOCAB):
    """A WordPiece vocabulary of `size` lines: specials, then 3-5 letter lowercase words."""
    rng = np.random.default_rng(0)
    words, seen = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], set()
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    while len(words) < size:
        word = "".join(rng.choice(letters, rng.integers(3, 6)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    with open(path, "w") as f:
        f.write("\n".join(words) + "\n")
    return words[5:]


def _scratch(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def _ours(size, precision, features, texts, calls, raw_text, vocab_file):
    def build():
        import keras
        import tensorflow as tf
        from tfbert import BertModel, BertTokenizer
        from tfbert.export_encoder import EncoderExport
        keras.utils.set_random_seed(0)
        folder = _scratch("bench-ours-encoder-")
        model = BertModel(bert_config(size), dtype=precision)
        EncoderExport(model, BertTokenizer(vocab_file), max_seq_length=SEQ).save(
            os.path.join(folder, "saved_model"))
        del model
        loaded = tf.saved_model.load(os.path.join(folder, "saved_model"))
        if raw_text:
            serve, text = loaded.signatures["serving_default"], tf.constant(texts)
            call = lambda: serve(text=text)["embedding"].numpy()  # noqa: E731
        else:
            encode = loaded.signatures["encode"]
            ids = {k: tf.constant(features[k]) for k in ("input_ids", "segment_ids", "input_mask")}
            call = lambda: encode(**ids)["pooled_output"].numpy()  # noqa: E731
        for _ in range(3):
            call()
        return _latencies(call, calls), lambda: shutil.rmtree(folder, ignore_errors=True)
    return build


def _keras_hub(size, precision, features, calls):
    def build():
        import keras
        import keras_hub
        import tensorflow as tf
        keras.utils.set_random_seed(0)
        s = SIZES[size]
        folder = _scratch("bench-keras-hub-encoder-")
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=VOCAB, num_layers=s["layers"], num_heads=s["heads"],
            hidden_dim=s["hidden"], intermediate_dim=s["intermediate"], num_segments=2,
            dtype=precision)
        backbone.export(os.path.join(folder, "saved_model"), format="tf_saved_model",
                        verbose=False)
        del backbone
        loaded = tf.saved_model.load(os.path.join(folder, "saved_model"))
        inputs = {"token_ids": tf.constant(features["input_ids"]),
                  "segment_ids": tf.constant(features["segment_ids"]),
                  "padding_mask": tf.constant(features["input_mask"])}
        call = lambda: loaded.serve(inputs)["pooled_output"].numpy()  # noqa: E731
        for _ in range(3):
            call()
        return _latencies(call, calls), lambda: shutil.rmtree(folder, ignore_errors=True)
    return build


def _groups(args, size, batch, calls, vocab_file, words):
    from bench.speed import data
    features = data.bert_pretraining_batch(batch, SEQ, 1, VOCAB)
    rng = np.random.default_rng(batch)
    texts = [" ".join(rng.choice(words, 2 * SEQ)) for _ in range(batch)]  # > 128 tokens each
    groups = []
    for precision in args.weights or ("float32", "mixed_bfloat16", "bfloat16"):
        label = precision + (" weights" if precision == "bfloat16" else "")
        entries = [
            harness.Entry("ours", "ours EncoderExport `encode` (token ids)", label,
                          _ours(size, precision, features, texts, calls, False, vocab_file),
                          work=batch),
            harness.Entry("keras-hub", "keras-hub BertBackbone export `serve`", label,
                          _keras_hub(size, precision, features, calls), work=batch),
            harness.Entry("ours, raw text", "ours EncoderExport `serving_default` (raw text)",
                          label, _ours(size, precision, features, texts, calls, True, vocab_file),
                          work=batch)]
        if not args.no_torch:
            spec = {"model": dict(SIZES[size], vocab=VOCAB),
                    "precision": TORCH_PRECISION[precision]}
            entries.append(harness.Entry(
                "HF PyTorch", "HF PyTorch BertModel",
                {"float32": "float32", "autocast": "bf16 autocast",
                 "bfloat16": "bfloat16 weights"}[TORCH_PRECISION[precision]],
                peer.builder(args, "serving", spec, {"batch": batch, "seq": SEQ, "calls": calls},
                             {"batch": batch, "seq": SEQ, "calls": 2}), work=batch))
        groups.append((label, entries))
    return groups


def _p50(entry):
    return common.percentile(entry.samples, 50)


def latency_table(entries):
    p50s = harness.group_figures(entries, _p50)
    rows = []
    for e in entries:
        if e.error is not None or not e.samples:
            rows.append(harness.failed_row(e, 5))
            continue
        peers = p50s[id(e)]
        p50 = _p50(e)
        rows.append([e.side, e.setting, f"{1000 * p50:.1f}",
                     f"{1000 * common.percentile(e.samples, 99):.1f}",
                     f"{1000 * min(e.samples):.1f}", str(len(e.samples)),
                     common.fmt(harness.ratio(p50, peers.get("keras-hub")), 2),
                     common.fmt(harness.ratio(p50, peers.get("HF PyTorch")), 2)])
    header = ["side", "setting", "p50 ms", "p99 ms", "min ms", "calls",
              "p50 / keras-hub p50 (same setting)", "p50 / HF p50 (same setting)"]
    return common.markdown_table(header, rows)


def headline(entries, finals):
    best = harness.best_per_family(finals or entries, lambda e: -_p50(e))
    p50 = {f: _p50(e) for f, e in best.items()}
    rows = [[f, f"{best[f].side} [{best[f].setting}]", f"{1000 * p50[f]:.1f}",
             f"{1000 * common.percentile(best[f].samples, 99):.1f}",
             common.fmt(harness.ratio(p50[f], p50.get("keras-hub")), 2),
             common.fmt(harness.ratio(p50[f], p50.get("HF PyTorch")), 2)]
            for f in harness.FAMILIES if f in best]
    where = ("head to head: each side's best setting re-exported and interleaved" if finals
             else "best p50 of the setting groups")
    return [f"Best per side ({where}):", ""] + common.markdown_table(
        ["side", "best setting", "p50 ms", "p99 ms", "p50 / keras-hub best", "p50 / HF best"],
        rows)


def run(args, report, ceilings):
    size = args.serve_size
    s = SIZES[size]
    folder = _scratch("bench-vocab-")
    vocab_file = os.path.join(folder, "vocab.txt")
    words = write_vocab(vocab_file)
    try:
        for batch in args.serve_batches:
            calls = args.calls or (40 if batch == 1 else 5)
            groups = _groups(args, size, batch, calls, vocab_file, words)
            title = f"BERT-{size} encoder serving, batch {batch}"
            entries, finals = harness.compare(groups, args.repeats, title,
                                              final=not args.no_final)
            flops = common.forward_flops(s["layers"], s["hidden"], s["intermediate"], SEQ,
                                         batch * SEQ)
            lines = [f"seq {SEQ}, batch {batch}, {calls} calls per side per round, "
                     f"{args.repeats} rounds, interleaved; forward {flops / 1e9:.1f} GFLOP per "
                     f"call (at the bf16 ceiling {ceilings['bfloat16']:.0f} GFLOP/s: "
                     f"{1000 * flops / ceilings['bfloat16'] / 1e9:.1f} ms).", ""]
            lines += headline(entries, finals)
            lines += ["", "Every setting (ratios within its interleaved group; the raw-text row "
                      "includes in-graph tokenization of texts longer than 128 tokens):", ""]
            lines += latency_table(entries + finals)
            report.block(f"serving:{size}:b{batch}", f"BERT-{size} encoder serving, batch {batch}",
                         lines)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
