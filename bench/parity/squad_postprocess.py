"""Parity: our SQuAD post-processing vs a transcription of Google's write_predictions.

Featurizes every question of the shared dev slice (3,468 questions of
dev-v1.1-shared.json, all-MiniLM-L6-v2's uncased vocab, Google's 384 / 128 /
64 by default), draws random start/end logits for every feature (several
seeds), and checks that `tftasks.squad.postprocess` predicts the same
answer string as the independent transcription in
tests/tftasks/squad/google_postprocess.py on every question, for SQuAD 1.1
and with the 2.0 null-answer rule. Prints counts, mismatches (the first few)
and times.

    python -m bench squad_postprocess [--seeds=3 --max_seq_length=384 --doc_stride=128]
"""

import time

import numpy as np
from absl import flags

from bench import paths

paths.define_data_dir()
flags.DEFINE_string("vocab_file", None, "vocab.txt (default: all-MiniLM-L6-v2's).")
flags.DEFINE_integer("seeds", 3, "Random logit draws.")
flags.DEFINE_integer("max_seq_length", 384, "Window length.")
flags.DEFINE_integer("doc_stride", 128, "Window stride.")
flags.DEFINE_integer("max_query_length", 64, "Question pieces.")
flags.DEFINE_float("logit_scale", 3.0, "Standard deviation of the random logits.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from tests.tftasks.squad.google_postprocess import google_view, reference_predictions
    from tfcore.text.wordpiece import WordPieceEncoder
    from tftasks.squad.examples import read_squad_file
    from tftasks.squad.features import Featurizer
    from tftasks.squad.postprocess import postprocess

    encoder = WordPieceEncoder(paths.minilm_vocab(FLAGS.vocab_file), do_lower_case=True)
    path = paths.data_path("squad", "dev-v1.1-shared.json")
    data = read_squad_file(path, is_training=False)
    started = time.perf_counter()
    featurizer = Featurizer(encoder, FLAGS.max_seq_length, FLAGS.doc_stride,
                            FLAGS.max_query_length)
    features = list(featurizer.features(data, is_training=False))
    print(f"{len(data.questions)} questions -> {len(features)} features "
          f"in {time.perf_counter() - started:.1f} s")
    views = [google_view(f, encoder.vocab) for f in features]
    examples = [(q.qas_id, data.paragraphs[q.paragraph].doc_tokens) for q in data.questions]
    failures = 0
    for version_2 in (False, True):
        for seed in range(FLAGS.seeds):
            rng = np.random.default_rng(seed)
            logits = [(rng.normal(0, FLAGS.logit_scale, len(f.input_ids)).astype(np.float32),
                       rng.normal(0, FLAGS.logit_scale, len(f.input_ids)).astype(np.float32))
                      for f in features]
            t0 = time.perf_counter()
            ours = postprocess(data, features, logits, encoder.vocab, 20, 30, True, version_2)
            t1 = time.perf_counter()
            reference = reference_predictions(examples, views, logits, 20, 30, True, version_2)
            t2 = time.perf_counter()
            wrong = [k for k in reference if ours.predictions.get(k) != reference[k]]
            failures += len(wrong)
            empty = sum(1 for v in reference.values() if v == "")
            print(f"v{'2.0' if version_2 else '1.1'} seed {seed}: {len(reference) - len(wrong)} "
                  f"of {len(reference)} equal ({empty} null answers); ours {t1 - t0:.1f} s, "
                  f"transcription {t2 - t1:.1f} s")
            for k in wrong[:5]:
                print(f"  {k}: ours {ours.predictions.get(k)!r} vs reference {reference[k]!r}")
    print("PASS: every answer string equal" if not failures else f"FAIL: {failures} differ")
    return 1 if failures else 0
