"""Helpers shared by the test suite.

- `run_layer_test`: eager call, graph call with unknown batch/sequence sizes,
  config round trip with equal outputs, and one training step in which every
  trainable weight gets a non-zero gradient.
- `check_keras_save_load`: `.keras` save and `keras.saving.load_model`
  without `custom_objects`, equal outputs.
- `check_saved_model_export`: `model.export(format="tf_saved_model")`, then a
  reload in a fresh Python process that imports only tensorflow, equal outputs;
  `export_for_serving` + `reload_many_in_fresh_process` + `check_reloaded_outputs`
  do the same for several exports with ONE fresh process.
- `assert_close`: max-abs-difference assertion with a readable message.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_STRATEGY = []


def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session.

    Several strategies in one process collide in their collective-op keys.
    """
    if not _STRATEGY:
        _STRATEGY.append(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    return _STRATEGY[0]


SMALL_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?", "the", "a",
               "cat", "dog", "sat", "on", "mat", "is", "good", "bad", "very", "movie",
               "un", "##like", "##ly", "hello", "world", "it", "was", "not", "fun"]


def write_vocab(folder, tokens=SMALL_VOCAB):
    """Writes a Google-format vocab.txt (one token per line); returns its path."""
    os.makedirs(str(folder), exist_ok=True)
    path = os.path.join(str(folder), "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in tokens))
    return path


def to_numpy(tree):
    return tf.nest.map_structure(lambda t: np.asarray(t), tree)


def assert_close(actual, expected, atol=1e-5, what="output"):
    """Asserts max |actual - expected| <= atol for arrays or dicts of arrays."""
    if isinstance(expected, dict):
        assert set(actual) >= set(expected), f"{what}: keys {set(actual)} vs {set(expected)}"
        for key in expected:
            assert_close(actual[key], expected[key], atol, f"{what}[{key}]")
        return
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} vs {expected.shape}"
    diff = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    assert diff <= atol, f"{what}: max abs difference {diff:.3g} > {atol:.3g}"


def _graph_signature(value):
    """TensorSpec with every dimension unknown except the last (weights stay fixed)."""
    value = tf.convert_to_tensor(value)
    if value.shape.rank in (None, 0):
        return tf.TensorSpec(value.shape, value.dtype)
    shape = [None] * (value.shape.rank - 1) + [value.shape[-1]]
    return tf.TensorSpec(shape, value.dtype)


def run_layer_test(make_layer, call_kwargs, expected_shape=None, static_kwargs=None,
                   trains=True):
    """Checks a layer eagerly, in a graph, after a config round trip and in training.

    Args:
      make_layer: zero-argument callable returning a fresh layer.
      call_kwargs: tensor keyword arguments of `call` (batch/sequence sizes
        are made unknown in the graph check).
      expected_shape: expected shape of the (first) output.
      static_kwargs: extra non-tensor call arguments.
      trains: also check that one training step reaches every trainable weight.
    Returns the layer.
    """
    static_kwargs = static_kwargs or {}
    layer = make_layer()
    eager = layer(**call_kwargs, **static_kwargs)
    first = tf.nest.flatten(eager)[0]
    if expected_shape is not None:
        assert tuple(first.shape) == tuple(expected_shape), (first.shape, expected_shape)
    assert np.all(np.isfinite(np.asarray(first, np.float32))), "non-finite output"

    keys = sorted(call_kwargs)
    graph_fn = tf.function(
        lambda *args: layer(**dict(zip(keys, args)), **static_kwargs),
        input_signature=[_graph_signature(call_kwargs[k]) for k in keys])
    assert_close(graph_fn(*[call_kwargs[k] for k in keys]), eager, 1e-5, "graph call")

    clone = layer.__class__.from_config(layer.get_config())
    clone(**call_kwargs, **static_kwargs)
    clone.set_weights(layer.get_weights())
    assert json.dumps(clone.get_config(), sort_keys=True, default=str) == \
        json.dumps(layer.get_config(), sort_keys=True, default=str)
    assert_close(clone(**call_kwargs, **static_kwargs), eager, 1e-6, "from_config clone")

    if trains and layer.trainable_weights:
        with tf.GradientTape() as tape:
            out = layer(**call_kwargs, **static_kwargs, training=True) \
                if "training" in layer.call.__code__.co_varnames \
                else layer(**call_kwargs, **static_kwargs)
            loss = tf.add_n([tf.reduce_mean(tf.square(tf.cast(t, tf.float32)))
                             for t in tf.nest.flatten(out)])
        grads = tape.gradient(loss, layer.trainable_weights)
        for weight, grad in zip(layer.trainable_weights, grads):
            assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0, \
                f"no gradient reaches {weight.path}"
    return layer


def check_keras_save_load(model, inputs, tmp_path, atol=1e-6):
    """`.keras` round trip without custom_objects; returns the reloaded model."""
    path = os.path.join(str(tmp_path), "model.keras")
    expected = to_numpy(model(inputs, training=False))
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded) is type(model)
    assert_close(to_numpy(reloaded(inputs, training=False)), expected, atol, ".keras reload")
    return reloaded


_RELOAD_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    for export_dir, inputs_file, outputs_file in json.load(open(sys.argv[1])):
        loaded = tf.saved_model.load(export_dir)
        fn = loaded.signatures["serving_default"]
        inputs = dict(np.load(inputs_file, allow_pickle=False))
        outputs = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        np.savez(outputs_file, **{k: v.numpy() for k, v in outputs.items()})
    forbidden = [m for m in ("tfbert", "tfgpt", "tfcore", "keras_hub") if m in sys.modules]
    assert not forbidden, forbidden
""")


def reload_many_in_fresh_process(jobs, tmp_path):
    """`serving_default` of several SavedModels in ONE new process importing only TF.

    Args:
      jobs: `[(export_dir, inputs)]`, inputs a dict of arrays.
    Returns `[outputs]` (dicts of arrays), in the order of `jobs`.
    """
    folder = os.path.join(str(tmp_path), "reload")
    os.makedirs(folder, exist_ok=True)
    files = []
    for i, (export_dir, inputs) in enumerate(jobs):
        inputs_file = os.path.join(folder, f"inputs_{i}.npz")
        np.savez(inputs_file, **{k: np.asarray(v) for k, v in inputs.items()})
        files.append([str(export_dir), inputs_file, os.path.join(folder, f"outputs_{i}.npz")])
    jobs_file, script = os.path.join(folder, "jobs.json"), os.path.join(folder, "reload.py")
    with open(jobs_file, "w") as f:
        json.dump(files, f)
    with open(script, "w") as f:
        f.write(_RELOAD_SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH="")
    result = subprocess.run([sys.executable, script, jobs_file], capture_output=True, text=True,
                            env=env, cwd=folder, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return [dict(np.load(outputs_file)) for _, _, outputs_file in files]


def reload_in_fresh_process(export_dir, inputs, tmp_path):
    """Calls `serving_default` of a SavedModel in a new process importing only TF."""
    return reload_many_in_fresh_process([(export_dir, inputs)], tmp_path)[0]


def export_for_serving(model, inputs, folder):
    """`model.export(..., format="tf_saved_model")` into `folder`/exported.

    Returns `(export_dir, expected outputs)`; check them with `check_reloaded_outputs`
    after `reload_many_in_fresh_process` (several exports, one process).
    """
    export_dir = os.path.join(str(folder), "exported")
    expected = to_numpy(model(inputs, training=False))
    model.export(export_dir, format="tf_saved_model", verbose=False)
    return export_dir, expected


def check_reloaded_outputs(outputs, expected, atol=1e-5):
    """Asserts a fresh process's outputs of an export equal the model's; returns them."""
    if not isinstance(expected, dict):
        assert len(outputs) == 1, outputs.keys()
        outputs = next(iter(outputs.values()))
    assert_close(outputs, expected, atol, "exported SavedModel")
    return outputs


def check_saved_model_export(model, inputs, tmp_path, atol=1e-5):
    """`model.export(..., format="tf_saved_model")`, reloaded in a fresh process."""
    export_dir, expected = export_for_serving(model, inputs, tmp_path)
    outputs = reload_in_fresh_process(export_dir, inputs, tmp_path)
    return check_reloaded_outputs(outputs, expected, atol)
