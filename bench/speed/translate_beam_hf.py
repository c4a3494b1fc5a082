"""The Hugging Face side of `python -m bench translate_beam`: a random MarianMTModel, served.

Run by the reference Python only (torch + transformers; never TensorFlow or
the project) as a long-lived subprocess of bench/speed/translate_beam.py:

    /work/refvenv/bin/python bench/speed/translate_beam_hf.py --folder=/tmp/marian \
        --spec=spec.json --sources=sources.npz

At start it builds `MarianMTModel(MarianConfig(...))` from `spec.json`
(vocab_size, d_model, layers, heads, ffn, activation, seed, noise,
eos_bias), adds
normal noise of std `noise` to every parameter (layer norms included, so
they are not exactly 1 and 0) and N(0, 1) to `final_logits_bias` (token
preferences that are not all equal: beams that are not near-ties), sets
the eos entry to `eos_bias` (a number; "auto": the smallest of 2, 2.5, ...
for which beam translations of 8 rows of the middle batch stop at half of
max_new_tokens or earlier on average, so hypotheses end and the finished-beam
bookkeeping is exercised; "none": left random, rows then rarely end), saves
it with `save_pretrained(folder)` (config.json + model.safetensors, what
`Seq2SeqModel.from_pretrained` reads) and prints one JSON line
`{"ready": true, "torch", "transformers", "threads", "eos_bias"}`.

`sources.npz` holds `ids` (flat int32) and `lengths`: the source rows in the
order to translate (the driver sorts them by length); consecutive chunks of
`batch_size` rows form the batches, right-padded with the pad id 0 and an
attention mask.

Then one JSON command per stdin line, one JSON reply per stdout line:
  {"cmd": "run", "ids_file": optional path} -> translates every batch with
      `generate(num_beams, max_new_tokens, length_penalty,
      early_stopping=False, bad_words_ids=[[pad]], no forced eos)`;
      replies {"seconds", "generated_tokens"} (tokens up to and including
      each row's eos; the decoder start not counted); with `ids_file`,
      writes the rows (start token dropped, trailing pads dropped) as JSON
      after the clock stops;
  {"cmd": "quit"}.
"""

import argparse
import json
import sys
import time

import numpy as np
import torch
import transformers
from transformers import GenerationConfig, MarianConfig, MarianMTModel

PAD, EOS = 0, 1


def build(spec, folder):
    torch.manual_seed(spec["seed"])
    config = MarianConfig(
        vocab_size=spec["vocab_size"], d_model=spec["d_model"],
        encoder_layers=spec["encoder_layers"], decoder_layers=spec["decoder_layers"],
        encoder_attention_heads=spec["heads"], decoder_attention_heads=spec["heads"],
        encoder_ffn_dim=spec["ffn"], decoder_ffn_dim=spec["ffn"],
        activation_function=spec["activation"], scale_embedding=True,
        max_position_embeddings=spec["max_positions"], pad_token_id=PAD, eos_token_id=EOS,
        decoder_start_token_id=PAD, forced_eos_token_id=None, dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0)
    model = MarianMTModel(config).eval()
    generator = torch.Generator().manual_seed(spec["seed"] + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_positions" in name:  # the fixed sinusoidal tables stay exact
                continue
            p.add_(torch.randn(p.shape, generator=generator) * spec["noise"])
        bias = model.final_logits_bias
        bias.copy_(torch.randn(bias.shape, generator=generator))
    return model


def calibrate_eos(model, spec, ids, mask):
    """The smallest eos logit bias (2, 2.5, ..., 12) whose beam translations of the first
    8 rows of `ids` end at half of max_new_tokens or earlier on average; sets and returns it."""
    ids, mask = ids[:8], mask[:8]
    for value in np.arange(2.0, 12.01, 0.5):
        model.final_logits_bias[..., EOS] = float(value)
        _, rows = translate(model, [(ids, mask)], spec)
        if np.mean([len(r) for r in rows]) <= spec["max_new_tokens"] / 2:
            return float(value)
    return float(value)


def batches(path, batch_size):
    data = np.load(path)
    ends = np.cumsum(data["lengths"])
    rows = [data["ids"][end - n:end] for n, end in zip(data["lengths"], ends)]
    out = []
    for at in range(0, len(rows), batch_size):
        chunk = rows[at:at + batch_size]
        ids = torch.full((len(chunk), max(len(r) for r in chunk)), PAD, dtype=torch.long)
        for i, r in enumerate(chunk):
            ids[i, :len(r)] = torch.from_numpy(r.astype(np.int64))
        out.append((ids, ids.ne(PAD).long()))
    return out


def rows_of(output):
    """`[b, 1 + L]` generate output -> per row the ids after the start token, up to eos."""
    out = []
    for row in output[:, 1:].tolist():
        out.append(row[:row.index(EOS) + 1] if EOS in row else
                   [t for t in row if t != PAD] if PAD in row else row)
    return out


@torch.no_grad()
def translate(model, work, spec):
    generation = GenerationConfig(
        num_beams=spec["num_beams"], max_new_tokens=spec["max_new_tokens"],
        length_penalty=spec["length_penalty"], early_stopping=False, do_sample=False,
        bad_words_ids=[[PAD]], decoder_start_token_id=PAD, eos_token_id=EOS, pad_token_id=PAD,
        forced_eos_token_id=None, num_return_sequences=1)
    results = []
    started = time.perf_counter()
    for ids, mask in work:
        results.append(model.generate(input_ids=ids, attention_mask=mask,
                                      generation_config=generation))
    seconds = time.perf_counter() - started
    rows = [r for output in results for r in rows_of(output)]
    return seconds, rows


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--sources", required=True)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    try:
        model = build(spec, args.folder)
        work = batches(args.sources, spec["batch_size"])
        eos_bias = spec.get("eos_bias", "auto")
        if eos_bias == "auto":
            eos_bias = calibrate_eos(model, spec, *work[len(work) // 2])
        elif eos_bias != "none":
            model.final_logits_bias[..., EOS] = float(eos_bias)
        model.save_pretrained(args.folder)
    except Exception as e:  # noqa: BLE001  (the driver shows it)
        reply({"error": f"{type(e).__name__}: {e}"})
        return
    reply({"ready": True, "torch": torch.__version__, "transformers": transformers.__version__,
           "threads": torch.get_num_threads(), "eos_bias": eos_bias})
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            reply({"bye": True})
            return
        try:
            seconds, rows = translate(model, work, spec)
        except Exception as e:  # noqa: BLE001
            reply({"error": f"{type(e).__name__}: {e}"})
            continue
        if command.get("ids_file"):
            with open(command["ids_file"], "w", encoding="utf-8") as f:
                json.dump(rows, f)
        reply({"seconds": seconds, "generated_tokens": sum(len(r) for r in rows)})


if __name__ == "__main__":
    main()
