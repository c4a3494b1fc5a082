"""Beam-search translation speed: Seq2SeqModel vs Hugging Face MarianMTModel, the same weights.

    python -m bench translate_beam --run=RUN_FOLDER            # sizes and spm.model of a run
    python -m bench translate_beam                             # the default size, random ids
    python -m bench translate_beam --run=/tmp/mtD/out --sentences=16 --repeats=1   # smoke

bench/speed/translate_beam_hf.py (run by `--torch_python`, a long-lived
subprocess) makes a random `MarianMTModel` of the run's size (by default
d_model 256, 3+3 layers, 4 heads, FFN 1024, vocab 8000; `--activation`
relu or swish; scaled embeddings; pad 0 = decoder start, eos 1), with noise
on its weights and a bias on eos's logit (`--eos_bias=auto`: hypotheses
that end, about 28 tokens at the default size, so the finished-beam
bookkeeping is exercised), and saves it; ours loads that folder with
`Seq2SeqModel.from_pretrained`. Both translate the same `--sentences`
sources: the first lines of multi30k/test_2016_flickr.de (`--data_dir`)
tokenized with the run's spm.model (eos appended), or without `--run`
random ids of a plausible length per line (1.4 x its words + eos).
Rows are sorted by length and cut into batches of `--batch_size` on both
sides; beam `--num_beams`, `--max_new_tokens`, length penalty
`--length_penalty`, early_stopping False, the pad id never generated
(ours: `suppress_token_ids=(0,)`, HF: `bad_words_ids=[[0]]`), no forced eos.

Checks that the outputs are token-identical (rows that match, printed with
the first differing rows), then times `--repeats` rounds; each round runs
both sides over all sentences, the first side alternating. Reported:
generated tokens/s per side (tokens up to and including each row's eos) as
the median over rounds, and the median of the per-round ratios ours / HF,
beside the matmul ceiling and the CPU pressure before and after. HF's time
is measured inside its process (no pipe time).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import flags
import numpy as np

from bench import paths
from bench.speed import ceiling, common

FLAGS = flags.FLAGS
SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translate_beam_hf.py")
PAD, EOS = 0, 1


def define_flags():
    """This benchmark's flags (python -m bench calls it before parsing)."""
    if "sentences" in FLAGS:
        return
    paths.define_data_dir()
    paths.define_torch_python()
    flags.DEFINE_string("run", None, "A run_translation.py folder: its spm.model tokenizes the "
                        "sources and its seq2seq_config.json gives the size (default: 256 wide).")
    flags.DEFINE_integer("sentences", 1000, "Sources (first lines of test_2016_flickr.de).")
    flags.DEFINE_integer("repeats", 3, "Timed rounds (each: both sides over every sentence).")
    flags.DEFINE_integer("batch_size", 64, "Sources per generate call.")
    flags.DEFINE_integer("num_beams", 4, "Beams.")
    flags.DEFINE_integer("max_new_tokens", 64, "Most generated tokens per source.")
    flags.DEFINE_float("length_penalty", 1.0, "Beam score / length ** length_penalty.")
    flags.DEFINE_enum("activation", "relu", ["relu", "swish"], "Feed-forward activation.")
    flags.DEFINE_float("noise", 0.02, "Std of the noise added to every weight of the model.")
    flags.DEFINE_string("eos_bias", "auto", "final_logits_bias of eos: a number, 'auto' (the "
                        "smallest that ends beam translations by max_new_tokens / 2 on "
                        "average) or 'none' (random like the others: rows run to the limit).")
    flags.DEFINE_integer("threads", 2, "Threads per side.")
    flags.DEFINE_integer("seed", 1, "Model and random-source seed.")


DEFAULT_SIZE = {"vocab_size": 8000, "d_model": 256, "encoder_layers": 3, "decoder_layers": 3,
                "heads": 4, "ffn": 1024}


def model_size():
    """The run's size (seq2seq_config.json) or the default one."""
    if not FLAGS.run:
        return dict(DEFAULT_SIZE)
    with open(os.path.join(FLAGS.run, "seq2seq_config.json"), encoding="utf-8") as f:
        c = json.load(f)
    return {"vocab_size": c["vocab_size"], "d_model": c["hidden_size"],
            "encoder_layers": c["num_hidden_layers"],
            "decoder_layers": c.get("num_decoder_layers") or c["num_hidden_layers"],
            "heads": c["num_attention_heads"], "ffn": c["intermediate_size"]}


def source_rows(vocab_size):
    """Id rows of the first `--sentences` test sources (spm of --run, or random ids)."""
    path = paths.data_path("multi30k", "test_2016_flickr.de")
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f][:FLAGS.sentences]
    if FLAGS.run:
        from tfseq2seq.tokenization import SentencePieceTokenizer
        tokenizer = SentencePieceTokenizer(os.path.join(FLAGS.run, "spm.model"))
        encoded = [tokenizer.encode(line) for line in lines]
        return [ids if len(ids) <= 128 else ids[:127] + [EOS] for ids in encoded]
    rng = np.random.default_rng(FLAGS.seed)
    return [rng.integers(3, vocab_size, max(1, round(1.4 * len(line.split())))).tolist() + [EOS]
            for line in lines]


def batches(rows):
    """Sorted rows -> `[b, S]` int32 arrays of `--batch_size` rows, padded with 0."""
    out = []
    for at in range(0, len(rows), FLAGS.batch_size):
        chunk = rows[at:at + FLAGS.batch_size]
        ids = np.zeros((len(chunk), max(len(r) for r in chunk)), np.int32)
        for i, r in enumerate(chunk):
            ids[i, :len(r)] = r
        out.append(ids)
    return out


class HFSide:
    """The Hugging Face server: builds and saves the model, then times `run` commands."""

    def __init__(self, folder, spec_path, sources_path):
        env = dict(os.environ, OMP_NUM_THREADS=str(FLAGS.threads),
                   MKL_NUM_THREADS=str(FLAGS.threads), OMP_WAIT_POLICY="PASSIVE")
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [paths.torch_python(), SERVER, f"--folder={folder}", f"--spec={spec_path}",
             f"--sources={sources_path}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=sys.stderr, text=True, env=env)
        self.versions = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the Hugging Face side exited (status {self.proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise SystemExit(f"the Hugging Face side failed: {reply['error']}")
        return reply

    def request(self, **command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        if self.proc.poll() is None:
            self.request(cmd="quit")
            self.proc.wait(timeout=60)


def ours_rows(output):
    """`[b, L]` ours -> per row the ids up to and including eos (pads dropped)."""
    out = []
    for row in output.tolist():
        out.append(row[:row.index(EOS) + 1] if EOS in row else [t for t in row if t != PAD])
    return out


def main(argv):
    del argv
    common.setup_threads(FLAGS.threads)
    from tfseq2seq.model import Seq2SeqModel
    common.check_pressure("before")
    ceilings = ceiling.measure(with_bandwidth=False, repeats=5)
    size = model_size()
    rows = sorted(source_rows(size["vocab_size"]), key=len)
    work = batches(rows)
    folder = tempfile.mkdtemp(prefix="translate_beam_")
    spec = dict(size, activation=FLAGS.activation, seed=FLAGS.seed, noise=FLAGS.noise,
                eos_bias=FLAGS.eos_bias,
                max_positions=max(512, max(map(len, rows)) + 1, FLAGS.max_new_tokens + 1),
                threads=FLAGS.threads, batch_size=FLAGS.batch_size, num_beams=FLAGS.num_beams,
                max_new_tokens=FLAGS.max_new_tokens, length_penalty=FLAGS.length_penalty)
    spec_path, sources_path = os.path.join(folder, "spec.json"), os.path.join(folder, "src.npz")
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump(spec, f)
    np.savez(sources_path, ids=np.array([t for r in rows for t in r], np.int32),
             lengths=np.array([len(r) for r in rows], np.int32))
    model_dir = os.path.join(folder, "marian")
    hf = HFSide(model_dir, spec_path, sources_path)
    print(f"Hugging Face side: torch {hf.versions['torch']}, transformers "
          f"{hf.versions['transformers']}, {hf.versions['threads']} thread(s), eos bias "
          f"{hf.versions['eos_bias']}", flush=True)
    model = Seq2SeqModel.from_pretrained(model_dir)

    def ours():
        started = time.perf_counter()
        outputs = [model.generate(ids, max_new_tokens=FLAGS.max_new_tokens,
                                  num_beams=FLAGS.num_beams, length_penalty=FLAGS.length_penalty,
                                  early_stopping=False, suppress_token_ids=(PAD,)).numpy()
                   for ids in work]
        seconds = time.perf_counter() - started
        return seconds, [r for output in outputs for r in ours_rows(output)]

    model.generate(work[0][:2], max_new_tokens=2, num_beams=FLAGS.num_beams,
                   length_penalty=FLAGS.length_penalty, suppress_token_ids=(PAD,))  # trace
    print(f"\n== beam {FLAGS.num_beams}, {len(rows)} sources in {len(work)} batches of <= "
          f"{FLAGS.batch_size}, {FLAGS.max_new_tokens} new tokens at most, "
          f"{FLAGS.threads} thread(s) ==", flush=True)
    samples = {"ours": [], "HF": []}
    ratios, ours_ids, hf_ids = [], None, None
    ids_file = os.path.join(folder, "hf_ids.json")
    for r in range(FLAGS.repeats):
        figures = {}
        for side in (("ours", "HF") if r % 2 == 0 else ("HF", "ours")):
            if side == "ours":
                seconds, produced = ours()
                ours_ids = ours_ids or produced
                figures["ours"] = sum(len(x) for x in produced) / seconds
            else:
                reply = hf.request(cmd="run", ids_file=ids_file if hf_ids is None else None)
                if hf_ids is None:
                    with open(ids_file, encoding="utf-8") as f:
                        hf_ids = json.load(f)
                figures["HF"] = reply["generated_tokens"] / reply["seconds"]
            samples[side].append(figures[side])
        ratios.append(figures["ours"] / figures["HF"])
        print(f"  round {r + 1}/{FLAGS.repeats}: ours {figures['ours']:.0f} tok/s, HF "
              f"{figures['HF']:.0f} tok/s, ratio {ratios[-1]:.2f}", flush=True)
    hf.close()
    common.check_pressure("after")
    same = sum(a == b for a, b in zip(ours_ids, hf_ids))
    print(f"\ntoken-identical rows: {same}/{len(rows)}", flush=True)
    differing = [i for i, (a, b) in enumerate(zip(ours_ids, hf_ids)) if a != b]
    for i in differing[:3]:
        print(f"  differs (sorted row {i}): ours {ours_ids[i][:16]}... HF {hf_ids[i][:16]}...")
    lengths = [len(x) for x in ours_ids]
    header = ["side", "generated tok/s median (min-max)", "x HF (median of per-round ratios)"]
    table = []
    for side in ("ours", "HF"):
        s = common.summarize(samples[side])
        table.append([side, f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})",
                      f"{float(np.median(ratios)):.2f}" if side == "ours" else "1.00"])
    lines = [ceiling.describe(ceilings), "",
             f"Model: {size} ({FLAGS.activation}, noise {FLAGS.noise}, eos bias "
             f"{hf.versions['eos_bias']}); sources: "
             f"{'spm of ' + FLAGS.run if FLAGS.run else 'random ids'}, {len(rows)} rows, mean "
             f"{np.mean([len(r) for r in rows]):.1f} ids; generated mean {np.mean(lengths):.1f} "
             f"tokens per row; token-identical rows {same}/{len(rows)}; "
             f"{FLAGS.repeats} alternating round(s).", ""] + common.markdown_table(header, table)
    print("\n### translate_beam: Seq2SeqModel vs MarianMTModel.generate, beam "
          f"{FLAGS.num_beams}\n\n" + "\n".join(lines), flush=True)
