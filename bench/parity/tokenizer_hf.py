"""Compares `tfbert.tokenization.BertTokenizer` ids with Hugging Face's.

A development check, not a test: it needs `transformers` (not a project
dependency) and real text. For each source it prints how many texts give ids
different from Hugging Face's slow (Python) `BertTokenizer`, and from the fast
(Rust) one for information. Sources: the lines of `--input` (a TSV with a
header and a `--column`, or a text file, one text a line), a built-in list of
hard cases, `--fuzz N` random strings, and with `--sweep` every Unicode code
point in a short context. Texts holding a special-token string ("[MASK]", ...)
are counted apart: there the difference is intended (see the module's doc).
Exits with status 1 if any other text differs from the slow tokenizer.
The tests assert the same algorithm against a Python transcription
(tests/tfbert/test_tokenization.py) and transformers' ids on a fixture
(tests/journeys/test_hf_folders.py); this runs transformers itself on real
corpora and every code point, and times the tokenizer (`--speed`).

    python -m bench tokenizer_hf --speed          # --input: --data_dir/sst2/dev.tsv
    python -m bench tokenizer_hf --input=../shared/data/wikitext2/test.txt \
        --fuzz=30000 --nodo_lower_case
"""

import csv
import os
import random
import sys
import time

from absl import app
from absl import flags
import tensorflow as tf

from bench import paths
from tfbert import tokenization

paths.define_data_dir()
_VOCAB = flags.DEFINE_string("vocab_file", None, "Default: all-MiniLM-L6-v2's vocab.txt.")
_INPUT = flags.DEFINE_string("input", None, "A TSV with a header, or a text file "
                             "(default: --data_dir/sst2/dev.tsv).")
_COLUMN = flags.DEFINE_string("column", "sentence", "The TSV column holding the text.")
_LOWER = flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents.")
_FUZZ = flags.DEFINE_integer("fuzz", 0, "Number of random strings to compare too.")
_SWEEP = flags.DEFINE_bool("sweep", False, "Compare every code point (about a minute).")
_SPEED = flags.DEFINE_bool("speed", False, "Time the tokenizer in tf.data on --input.")
_BATCH = flags.DEFINE_integer("batch_size", 256, "Batch size for --speed.")
_SHOW = flags.DEFINE_integer("show", 3, "Mismatches to print per source.")

HARD_CASES = [
    "Héllo naïve café, RÉSUMÉ façade Ångström Øresund", "ÀÉÎÕÜ àéîõü ñÑ çÇ",
    "中文字符 mixed with English 日本語 한국어 テキスト", "「引用」と、句読点。",
    "zero\u200bwidth\u200cjoin\u200dand\ufeffbom soft\u00adhyphen",
    "ctrl\x00\x01\x07\x1b\x7f\x85chars \ufffd replacement",
    "emoji 😀👍🏽 👨‍👩‍👧 🇫🇷 ❤️ ✨🎉", "x" * 100, "y" * 101, "é" * 101,
    "e\u0301" * 60, "İ" * 60, "", " ", "   multiple   spaces   ",
    "tabs\tand\nnew\r\nlines\x0b\x0c",
    "nbsp\u00a0thin\u2009ideographic\u3000space line\u2028para\u2029sep",
    "Mixed: English, Русский, Ελληνικά, العربية, עברית, हिन्दी, ไทย.",
    "İstanbul ΟΔΟΣ ΣΊΣΥΦΟΣ ΑΣ.Β ẞtraße Straße ǅemal ﬁne ＦＵＬＬ ⅰⅱ",
    "punct!?.,;:'\"()[]{}<>@#$%^&*_-+=~`|\\/ ¿¡ «» „“ — … · • ‰ § ¶",
    "decomposed: e\u0301 a\u0308 n\u0303 A\u030a \u212b \u2126",
    "numbers 3.14 1,000,000 ½ ² ³ ① ٣ १२", "URL https://ex.com/a?b=c&d=e#f",
    "unaffable unbelievably antidisestablishmentarianism", "don't won't y'all",
    "math ∑∫√∞≠≤ ≥ ±×÷ arrows →⇒↔", "private\ue000use \U000f0000 unassigned\u0378",
    "combining at start \u0301a and alone \u0301", "Ａｂｃ full-width ＡＢＣ１２３",
]
SPECIAL_CASES = ["[MASK] token", "a [CLS] b [SEP] c", "[PAD][UNK]", "x[MASK]y"]
# Code point ranges for --fuzz: letters of several scripts, combining marks,
# general punctuation, CJK, compatibility forms, emoji, controls, tags.
_FUZZ_RANGES = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
    (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1E00, 0x1FFF),
    (0x2000, 0x206F), (0x2100, 0x22FF), (0x3000, 0x30FF), (0x4E00, 0x4E80),
    (0xAC00, 0xAC80), (0xF900, 0xF920), (0xFB00, 0xFB4F), (0xFE00, 0xFFFF),
    (0x1F300, 0x1FAFF), (0x0, 0x1F), (0x80, 0x9F), (0x20000, 0x20010),
    (0xE0000, 0xE007F),
]


def read_texts(path, column):
    """A TSV with a header -> that column; any other file -> its lines."""
    with open(path, encoding="utf-8") as f:
        if path.endswith(".tsv"):
            rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            return [row[column] for row in rows]
        return f.read().split("\n")


def fuzz_texts(n, seed=0):
    """n random strings of 1-40 code points, a sixth of them spaces."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        chars = []
        for _ in range(rng.randint(1, 40)):
            lo, hi = rng.choice(_FUZZ_RANGES)
            chars.append(" " if rng.random() < 0.15 else chr(rng.randint(lo, hi)))
        texts.append("".join(chars))
    return texts


def sweep_texts():
    """Every code point but surrogates, between a cased letter pair."""
    return [f"Ab{chr(cp)}É" for cp in range(sys.maxunicode + 1)
            if not 0xD800 <= cp <= 0xDFFF]


def compare(name, texts, ours, hf_tokenizers, show):
    """Prints mismatch counts per HF tokenizer; returns {hf name: count}."""
    ids = ours.tokenize(tf.constant(texts)).to_list()
    counts = {}
    for hf_name, hf in hf_tokenizers.items():
        theirs = hf(texts, add_special_tokens=False)["input_ids"]
        bad = [(t, a, b) for t, a, b in zip(texts, ids, theirs) if a != b]
        counts[hf_name] = len(bad)
        print(f"{name}: {len(texts)} texts, {len(bad)} mismatches vs {hf_name}")
        for text, mine, other in bad[:show]:
            print(f"    {text[:60]!r}\n      ours {mine[:16]}\n      HF   {other[:16]}")
    return counts


def measure_speed(ours, texts, batch_size):
    """Prints sentences/s of tokenize and of tokenize + pack in tf.data."""
    for name, fn in (("tokenize", ours.tokenize), ("__call__ (pack 128)", ours)):
        ds = tf.data.Dataset.from_tensor_slices(texts).batch(batch_size)
        ds = ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
        times = []
        for _ in range(4):  # The first pass traces the map function.
            start = time.perf_counter()
            for _ in ds:
                pass
            times.append(time.perf_counter() - start)
        best = min(times[1:])
        print(f"speed {name}: {len(texts)} texts, batch {batch_size}, best of 3 "
              f"{best:.3f} s = {len(texts) / best:,.0f} sentences/s")


def hf_tokenizers(vocab_file, lower):
    """{"HF slow": Python BertTokenizer, "HF fast": Rust BertTokenizerFast}."""
    try:  # A development tool here, not a project dependency.
        import transformers
    except ImportError:
        raise SystemExit("tokenizer_hf needs transformers in this Python (not a project "
                         "dependency): pip install transformers") from None
    try:  # transformers >= 5 calls the Python one BertTokenizerLegacy.
        from transformers.models.bert.tokenization_bert_legacy import (
            BertTokenizerLegacy as slow)
        fast = transformers.BertTokenizer
    except ImportError:
        slow, fast = transformers.BertTokenizer, transformers.BertTokenizerFast
    return {"HF slow": slow(vocab_file, do_lower_case=lower),
            "HF fast": fast(vocab_file, do_lower_case=lower)}


def main(argv):
    del argv
    vocab_file = paths.minilm_vocab(_VOCAB.value)
    input_file = _INPUT.value or paths.data_path("sst2", "dev.tsv")
    ours = tokenization.BertTokenizer(vocab_file, do_lower_case=_LOWER.value)
    hf = hf_tokenizers(vocab_file, _LOWER.value)
    texts = read_texts(input_file, _COLUMN.value)
    special = [t for t in texts if any(s in t for s in tokenization.SPECIAL_TOKENS)]
    sources = {os.path.basename(input_file): [t for t in texts if t not in special],
               "hard cases": HARD_CASES}
    if _FUZZ.value:
        sources["fuzz"] = fuzz_texts(_FUZZ.value)
    if _SWEEP.value:
        sources["code point sweep"] = sweep_texts()
    print(f"do_lower_case={_LOWER.value}, vocab {vocab_file}")
    failed = sum(compare(name, source, ours, hf, _SHOW.value)["HF slow"]
                 for name, source in sources.items())
    print("-- special-token strings: a difference is expected --")
    compare("special-token texts", SPECIAL_CASES + special, ours, hf, _SHOW.value)
    if _SPEED.value:
        measure_speed(ours, texts, _BATCH.value)
    return 1 if failed else 0


if __name__ == "__main__":
    app.run(main)
