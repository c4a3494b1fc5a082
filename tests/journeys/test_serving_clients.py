"""Every kind of SavedModel we write, in the clients users point at it.

Each export (encoder, TF Hub preprocessor, classifier, GPT generator) is
loaded in a fresh process that imports only tensorflow and tensorflow_text,
through `tf.saved_model.load` and through a session-based loader as TF
Serving loads it: the outputs must agree (<= 1e-6, strings identical).
`saved_model_cli run` must answer. The encoder is also a TF Hub reusable
SavedModel: `hub.KerasLayer(trainable=True)` fine-tunes it in tf_keras, and
Keras 3's `TFSMLayer` serves it. The scripts' own exports are checked in the
same loaders by the journey tests (test_journeys.py).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.reliability import tiny_exports
from tests.serving_clients import assert_agree, compare_loaders_of, saved_model_cli_runs
from tests.testing import REPO_ROOT

TEXTS = ["hello world", "the cat sat on the mat", "", "un\u00e9 caf\u00e9 !"]
IDS = [[2, 24, 25, 3, 0], [2, 11, 13, 14, 3]]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from tfbert import BertTokenizer
    from tfbert.export_encoder import PreprocessorExport
    paths = {kind: tiny_exports.shared_export(kind, tmp_path_factory)
             for kind in ("encoder", "classifier", "generator")}
    folder = os.path.dirname(paths["encoder"])
    tokenizer = BertTokenizer(os.path.join(folder, "vocab.txt"))
    paths["preprocessor"] = PreprocessorExport(tokenizer, tiny_exports.SEQ).save(
        str(tmp_path_factory.mktemp("preprocessor") / "preprocessor"))
    return paths


REQUESTS = {
    "encoder": {"serving_default": {"text": TEXTS},
                "encode": {"input_ids": IDS, "segment_ids": np.zeros_like(IDS).tolist(),
                           "input_mask": (np.array(IDS) > 0).astype(int).tolist()}},
    "classifier": {"serving_default": {"text_a": TEXTS}},
    "preprocessor": {"serving_default": {"text": TEXTS}},
    # temperature 0: greedy, so both loaders must write the same text.
    "generator": {"serving_default": {"prompt": ["ROMEO:", ""], "max_new_tokens": 4,
                                      "temperature": 0.0, "seed": 1},
                  "logits": {"token_ids": [[1, 2, 3], [4, 5, 6]]}},
}


CLI_REQUESTS = {"encoder": ("serving_default", "text=['hello world']"),
                "classifier": ("serving_default", "text_a=['a good movie']"),
                "generator": ("logits", "token_ids=[[1,2,3]]")}


@pytest.fixture(scope="module")
def loader_reports(exports):
    """`{kind: compare_loaders report}`: every export in one fresh process."""
    reports = compare_loaders_of({exports[kind]: REQUESTS[kind] for kind in REQUESTS})
    return {kind: reports[str(exports[kind])] for kind in REQUESTS}


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_session_loader_equals_tf_saved_model_load(loader_reports, kind):
    report = loader_reports[kind]
    assert sorted(report) == sorted(REQUESTS[kind])
    assert_agree(report)
    if kind == "generator":
        assert "text" in report["serving_default"]["outputs"]


@pytest.fixture(scope="module")
def cli_outputs(exports):
    """`{kind: stdout of saved_model_cli run}`: the commands one after the other in one process."""
    kinds = sorted(CLI_REQUESTS)
    outputs = saved_model_cli_runs([(exports[kind], *CLI_REQUESTS[kind]) for kind in kinds])
    return dict(zip(kinds, outputs))


@pytest.mark.parametrize("kind", sorted(CLI_REQUESTS))
def test_saved_model_cli_runs(cli_outputs, kind):
    out = cli_outputs[kind]
    assert "Result for output key" in out, out[-2000:]


_HUB_FINE_TUNE = textwrap.dedent(r'''
    import sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401
    import tf_keras

    preprocessor, encoder = sys.argv[1:3]
    tf_keras.utils.set_random_seed(0)
    text = tf_keras.Input(shape=(), dtype=tf.string)
    inputs = hub.KerasLayer(preprocessor)(text)
    encoder_layer = hub.KerasLayer(encoder, trainable=True)
    pooled = encoder_layer(inputs)["pooled_output"]
    model = tf_keras.Model(text, tf_keras.layers.Dense(2)(pooled))
    model.compile(tf_keras.optimizers.Adam(1e-2),
                  tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = tf.constant(["a good movie", "a bad movie", "very good", "very bad"] * 4)
    y = tf.constant([1, 0, 1, 0] * 4)
    before = [v.numpy().copy() for v in encoder_layer.trainable_weights]
    assert len(before) > 0, "no trainable encoder weights"
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    last = model.evaluate(x, y, verbose=0)
    changed = sum(not np.array_equal(b, v.numpy())
                  for b, v in zip(before, encoder_layer.trainable_weights))
    print(f"HUB loss {first:.4f} -> {last:.4f}; {changed} of {len(before)} encoder weights changed")
    assert last < first and changed == len(before), (first, last, changed)
''')


def test_hub_keras_layer_fine_tunes_the_encoder(exports):
    pytest.importorskip("tensorflow_hub")
    pytest.importorskip("tf_keras")
    result = subprocess.run([sys.executable, "-c", _HUB_FINE_TUNE, exports["preprocessor"],
                             exports["encoder"]], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "HUB loss" in result.stdout


def test_keras3_tfsm_layer_serves_the_encoder(exports):
    import keras
    import tensorflow as tf
    import tensorflow_text  # noqa: F401
    layer = keras.layers.TFSMLayer(exports["encoder"], call_endpoint="serving_default")
    out = layer(tf.constant(TEXTS))
    reference = tf.saved_model.load(exports["encoder"]).signatures["serving_default"](
        text=tf.constant(TEXTS))
    np.testing.assert_allclose(out["embedding"], reference["embedding"], atol=1e-6)
    assert out["embedding"].shape == (len(TEXTS), tiny_exports.BERT_CONFIG["hidden_size"])
