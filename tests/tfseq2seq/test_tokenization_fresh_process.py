"""A SavedModel holding SentencePieceTokenizers runs in a fresh process that imports only
tensorflow and tensorflow_text, through `tf.saved_model.load` and through a session loader
(restore + init ops, then the signature tensors, as TF Serving loads). Slow: a second
TensorFlow import (~10 s)."""

import json
import os
import subprocess
import sys

import pytest

from tests.tfseq2seq.test_tokenization import SAVED_TEXTS, check_loaded_outputs, export_tokenizers
from tests.tftasks.translation.tiny_parallel import tiny_sentencepiece

_LOADER = """
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)
path, texts, pads = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])


def with_text(ids, text):
    return ({k: v.tolist() for k, v in ids.items()}
            | {"text_" + k: [t.decode() for t in v.tolist()] for k, v in text.items()})


def unpadded(ids):
    return tf.where(ids["plain"] < 0, pads[0], ids["plain"]), tf.where(
        ids["table"] < 0, pads[1], ids["table"])


model = tf.saved_model.load(path)
ids = model.tokenize(tf.constant(texts))
plain, table = unpadded(ids)
text = model.detokenize(plain, table)
eager = with_text({k: v.numpy() for k, v in ids.items()}, {k: v.numpy() for k, v in text.items()})

with tf.compat.v1.Session(graph=tf.Graph()) as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
    def run(name, feeds):
        sig = meta.signature_def[name]
        return sess.run({k: t.name for k, t in sig.outputs.items()},
                        {sig.inputs[k].name: v for k, v in feeds.items()})
    ids = run("tokenize", {"texts": texts})
    plain = np.where(ids["plain"] < 0, pads[0], ids["plain"])
    table = np.where(ids["table"] < 0, pads[1], ids["table"])
    session = with_text(ids, run("detokenize", {"plain_ids": plain, "table_ids": table}))
print(json.dumps({"eager": eager, "session": session}))
"""


@pytest.mark.slow
def test_saved_model_runs_in_fresh_process(tmp_path):
    model_file = tiny_sentencepiece(str(tmp_path))
    path, tokenizers = export_tokenizers(model_file, str(tmp_path))
    pads = [tokenizers["spm"].pad_id, tokenizers["table"].pad_id]
    run = subprocess.run([sys.executable, "-c", _LOADER, path, json.dumps(SAVED_TEXTS),
                          json.dumps(pads)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-2000:]
    outputs = json.loads(run.stdout.strip().splitlines()[-1])
    check_loaded_outputs(outputs["eager"], tokenizers, SAVED_TEXTS)
    check_loaded_outputs(outputs["session"], tokenizers, SAVED_TEXTS)
