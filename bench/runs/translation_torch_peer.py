"""A PyTorch `nn.Transformer` translation run: the peer of `run_translation.py` (torch only).

Run by the reference Python (`--torch_python`), never importing TensorFlow,
sentencepiece or the project; `bench/runs/translation_vs_torch.py` writes its
inputs and reads its output:

    /work/refvenv/bin/python bench/runs/translation_torch_peer.py \
        --data=pairs.npz --recipe=recipe.json --output=peer.json

- `pairs.npz`: ids already tokenized by the driver (eos appended), each set
  as a flat int32 array and its lengths: `train_source`/`train_source_lengths`,
  `train_target`/..., `test_source`/...;
- `recipe.json`: vocab_size, hidden_size, num_heads, intermediate_size,
  encoder_layers, decoder_layers, dropout, attention_dropout, activation
  (relu/swish), norm_first, layer_norm_eps, label_smoothing, learning_rate,
  warmup_steps, steps, max_tokens, boundaries (the bucket length limits),
  clip_norm, num_beams, length_penalty, max_decode_length, decode_batch_size,
  seed, threads, dtype (float32 or bfloat16: CPU autocast), pad_id, eos_id.

The model, written here over torch's `nn.TransformerEncoderLayer` /
`nn.TransformerDecoderLayer` (the blocks of `nn.Transformer`), mirrors
tfseq2seq's: one embedding table for source, target and the output
projection, scaled by sqrt(d_model), plus [sin | cos] positions
(frequencies 10000^(-2i/d)); dropout on the embeddings, on each residual
branch and on each stack's output, attention dropout on the probabilities,
none inside the feed-forward (ours has none there); post-LN blocks without a
final norm, or pre-LN blocks with one. Training: label-smoothed cross-entropy
over non-pad targets (mean per token), Adam(0.9, 0.98, eps 1e-9), linear
warmup from 0 then `lr * sqrt(warmup / step)` (the learning rate of update t
is the schedule at t = 0, 1, ..., as Keras'), token-budget batches from our
own length bucketing (`max(source, target)` length -> the first boundary at
or above it; `max_tokens // round8(boundary)` pairs per batch; pairs
shuffled each epoch; rows padded to a multiple of 8).

Decoding: batched beam search of our own writing with tfseq2seq's rules: the
2k best continuations of all beams; the best k that did not end stay
running; those among the first k that ended with eos (or at the length
limit) compete for k finished slots with score / generated_length **
length_penalty (eos counted); a row stops when its best running beam, at the
current length, cannot beat its worst finished one. The pad id (the decoder
start) is never generated. Checked once against Hugging Face: with a random
MarianMTModel behind `encode`/`decode`, `beam_search` gave `generate`'s
tokens on 60 of 60 rows (length penalties 0.6, 1.0, 1.3; rows ending early
and at the limit). The decoder reruns the whole prefix at each step (no
key/value cache: `nn.TransformerDecoder` has none), so the peer's decode
time is an upper bound. Batches of `decode_batch_size` sources sorted by
length, as ours.

Output JSON (`--output`, and the last stdout line without the hypotheses):
hypotheses (ids per test source, in input order, up to and including eos),
steps, train_seconds, train_target_tokens, train_source_tokens,
train_padded_tokens, final_loss, decode_seconds, generated_tokens, torch.
"""

import argparse
import json
import math
import random
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

NEG_INF = -1e9


def unflatten(data, name):
    flat, lengths = data[name], data[name + "_lengths"]
    ends = np.cumsum(lengths)
    return [flat[end - n:end].tolist() for n, end in zip(lengths, ends)]


def sinusoid_table(rows, dim):
    """`[rows, dim]`: sin of p * 10000^(-2i/dim) in the first half, cos in the second."""
    frequencies = 10000.0 ** (-2.0 * np.arange(dim // 2) / dim)
    angles = np.arange(rows)[:, None] * frequencies[None]
    return torch.tensor(np.concatenate([np.sin(angles), np.cos(angles)], axis=1),
                        dtype=torch.float32)


class TiedTransformer(nn.Module):
    """Encoder-decoder with one scaled embedding table shared by both sides and the logits."""

    def __init__(self, r):
        super().__init__()
        d = r["hidden_size"]
        self.pad_id = r["pad_id"]
        self.scale = math.sqrt(d)
        self.embedding = nn.Embedding(r["vocab_size"], d)
        nn.init.normal_(self.embedding.weight, std=d ** -0.5)
        self.register_buffer("positions", sinusoid_table(r["max_positions"], d), persistent=False)
        activation = {"relu": F.relu, "swish": F.silu, "silu": F.silu, "gelu": F.gelu}[
            r["activation"]]
        options = dict(d_model=d, nhead=r["num_heads"], dim_feedforward=r["intermediate_size"],
                       dropout=r["dropout"], activation=activation, batch_first=True,
                       norm_first=r["norm_first"], layer_norm_eps=r["layer_norm_eps"])
        encoder_layers = [nn.TransformerEncoderLayer(**options)
                          for _ in range(r["encoder_layers"])]
        decoder_layers = [nn.TransformerDecoderLayer(**options)
                          for _ in range(r["decoder_layers"])]
        for layer in encoder_layers + decoder_layers:
            layer.dropout = nn.Identity()  # ours has no dropout inside the feed-forward
            for attention in (getattr(layer, "self_attn", None),
                              getattr(layer, "multihead_attn", None)):
                if attention is not None:
                    attention.dropout = r["attention_dropout"]
        self.encoder_layers = nn.ModuleList(encoder_layers)
        self.decoder_layers = nn.ModuleList(decoder_layers)
        for p in self.encoder_layers.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        for p in self.decoder_layers.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        norm = (lambda: nn.LayerNorm(d, eps=r["layer_norm_eps"])) if r["norm_first"] else nn.Identity
        self.encoder_norm, self.decoder_norm = norm(), norm()
        self.drop = nn.Dropout(r["dropout"])

    def embed(self, ids, start=0):
        x = self.embedding(ids) * self.scale
        return self.drop(x + self.positions[start:start + ids.shape[1]][None])

    def encode(self, source):
        pad = source.eq(self.pad_id)
        x = self.embed(source)
        for layer in self.encoder_layers:
            x = layer(x, src_key_padding_mask=pad)
        return self.drop(self.encoder_norm(x)), pad

    def decode(self, inputs, memory, memory_pad):
        length = inputs.shape[1]
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        x = self.embed(inputs)
        for layer in self.decoder_layers:
            x = layer(x, memory, tgt_mask=causal, memory_key_padding_mask=memory_pad)
        x = self.drop(self.decoder_norm(x))
        return x @ self.embedding.weight.t()

    def forward(self, source, target):
        start = torch.full_like(target[:, :1], self.pad_id)  # the decoder start is the pad id
        memory, pad = self.encode(source)
        return self.decode(torch.cat([start, target[:, :-1]], dim=1), memory, pad)


# ------------------------------------------------------------------ batches

def round_up(n, multiple=8):
    return -(-n // multiple) * multiple


def token_batches(pairs, boundaries, max_tokens, rng):
    """Endless shuffled, length-bucketed batches of `(sources, targets)` id lists."""
    sizes = [max(1, max_tokens // round_up(b)) for b in boundaries]
    while True:
        order = list(range(len(pairs)))
        rng.shuffle(order)
        buckets = [[] for _ in boundaries]
        for i in order:
            length = max(len(pairs[i][0]), len(pairs[i][1]))
            k = next((j for j, b in enumerate(boundaries) if length <= b), None)
            if k is None:
                continue
            buckets[k].append(pairs[i])
            if len(buckets[k]) == sizes[k]:
                yield buckets[k]
                buckets[k] = []
        for bucket in buckets:  # each bucket's remainder at the end of the epoch
            if bucket:
                yield bucket


def padded(rows, pad_id):
    width = round_up(max(len(r) for r in rows))
    out = torch.full((len(rows), width), pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def learning_rate(step, peak, warmup):
    """Linear warmup from 0, then peak * sqrt(warmup / step) (step counts from 0)."""
    warmup = max(warmup, 1)
    if step < warmup:
        return peak * step / warmup
    return peak * math.sqrt(warmup / step)


def autocast(dtype):
    if dtype == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def train(model, pairs, r):
    rng = random.Random(r["seed"])
    optimizer = torch.optim.Adam(model.parameters(), lr=r["learning_rate"], betas=(0.9, 0.98),
                                 eps=1e-9)
    batches = token_batches(pairs, r["boundaries"], r["max_tokens"], rng)
    counts = {"train_target_tokens": 0, "train_source_tokens": 0, "train_padded_tokens": 0}
    model.train()
    loss_value = float("nan")
    started = time.perf_counter()
    for step in range(r["steps"]):
        batch = next(batches)
        source = padded([s for s, _ in batch], r["pad_id"])
        target = padded([t for _, t in batch], r["pad_id"])
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, r["learning_rate"], r["warmup_steps"])
        with autocast(r["dtype"]):
            logits = model(source, target)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1),
                               ignore_index=r["pad_id"], label_smoothing=r["label_smoothing"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if r["clip_norm"]:
            torch.nn.utils.clip_grad_norm_(model.parameters(), r["clip_norm"])
        optimizer.step()
        loss_value = loss.item()
        counts["train_target_tokens"] += int(target.ne(r["pad_id"]).sum())
        counts["train_source_tokens"] += int(source.ne(r["pad_id"]).sum())
        counts["train_padded_tokens"] += len(batch) * max(source.shape[1], target.shape[1])
        if (step + 1) % 50 == 0 or step + 1 == r["steps"]:
            print(f"step {step + 1}/{r['steps']} loss {loss_value:.3f} "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return {"steps": r["steps"], "train_seconds": time.perf_counter() - started,
            "final_loss": loss_value, **counts}


# ------------------------------------------------------------------ beam search

@torch.no_grad()
def beam_search(model, sources, r):
    """Beam search over one batch of source id lists -> the best hypothesis per source."""
    k, limit, lp = r["num_beams"], r["max_decode_length"], r["length_penalty"]
    pad, eos = r["pad_id"], r["eos_id"]
    rows = len(sources)
    memory, memory_pad = model.encode(padded(sources, pad))
    memory = memory.repeat_interleave(k, 0)
    memory_pad = memory_pad.repeat_interleave(k, 0)
    tokens = torch.full((rows * k, 1), pad, dtype=torch.long)          # the start token
    scores = torch.full((rows, k), NEG_INF)
    scores[:, 0] = 0.0
    finished = [[] for _ in range(rows)]                                 # (normalised, ids)
    open_rows = [True] * rows
    for step in range(limit):
        logits = model.decode(tokens, memory, memory_pad)[:, -1].float()
        log_probs = F.log_softmax(logits, dim=-1)
        log_probs[:, pad] = float("-inf")
        vocab = log_probs.shape[-1]
        candidates = (scores[:, :, None] + log_probs.view(rows, k, vocab)).view(rows, -1)
        top_scores, top_index = candidates.topk(2 * k, dim=1)
        length = step + 1
        next_tokens = tokens.view(rows, k, -1)
        new_rows, new_scores = [], torch.full((rows, k), NEG_INF)
        for b in range(rows):
            kept = []
            for rank in range(2 * k):
                beam, token = divmod(int(top_index[b, rank]), vocab)
                score = float(top_scores[b, rank])
                ended = token == eos or length >= limit
                if ended:
                    if rank < k and open_rows[b]:
                        ids = next_tokens[b, beam, 1:].tolist() + [token]
                        finished[b].append((score / length ** lp, ids))
                        finished[b].sort(key=lambda item: -item[0])
                        del finished[b][k:]
                    continue
                if len(kept) < k:
                    kept.append((beam, token, score))
            while len(kept) < k:  # only when every candidate ended (the last step)
                kept.append((0, pad, NEG_INF))
            for j, (beam, token, score) in enumerate(kept):
                new_rows.append(torch.cat([next_tokens[b, beam], torch.tensor([token])]))
                new_scores[b, j] = score
            if open_rows[b] and len(finished[b]) == k:
                best_running = float(new_scores[b, 0]) / length ** lp
                if best_running <= finished[b][-1][0]:
                    open_rows[b] = False
        tokens, scores = torch.stack(new_rows), new_scores
        if not any(open_rows):
            break
    return [max(f, key=lambda item: item[0])[1] if f else [] for f in finished]


def translate(model, sources, r):
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    out = [None] * len(sources)
    started = time.perf_counter()
    size = r["decode_batch_size"]
    for at in range(0, len(order), size):
        chosen = order[at:at + size]
        with autocast(r["dtype"]):
            best = beam_search(model, [sources[i] for i in chosen], r)
        for i, ids in zip(chosen, best):
            out[i] = ids
        print(f"\rtranslated {min(at + size, len(order))}/{len(order)}", end="",
              file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="The driver's .npz of ids.")
    parser.add_argument("--recipe", required=True, help="The recipe JSON (see the module doc).")
    parser.add_argument("--output", required=True, help="Where the result JSON goes.")
    args = parser.parse_args()
    with open(args.recipe, encoding="utf-8") as f:
        r = json.load(f)
    torch.set_num_threads(r["threads"])
    torch.manual_seed(r["seed"])
    data = np.load(args.data)
    pairs = list(zip(unflatten(data, "train_source"), unflatten(data, "train_target")))
    test = unflatten(data, "test_source")
    model = TiedTransformer(r)
    result = train(model, pairs, r)
    hypotheses, seconds = translate(model, test, r)
    result.update(decode_seconds=seconds, generated_tokens=sum(len(h) for h in hypotheses),
                  sentences=len(test), torch=torch.__version__, threads=torch.get_num_threads(),
                  parameters=sum(p.numel() for p in model.parameters()))
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(dict(result, hypotheses=hypotheses), f)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
