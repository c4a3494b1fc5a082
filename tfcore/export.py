"""SavedModel export helpers: atomic writes and string-input signatures.

Example:

    save_atomically(module, "out/saved_model",
                    signatures={"serving_default": module.serve_text})
"""

import os
import shutil
import tempfile

import tensorflow as tf


def save_atomically(module, export_dir, signatures):
    """`tf.saved_model.save` into a temporary folder, then rename into place.

    A crash or full disk during the save leaves any earlier export at
    `export_dir` untouched; the old export is removed only after the new one
    is complete.
    """
    export_dir = os.path.abspath(export_dir)
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-export-", dir=parent)
    try:
        tf.saved_model.save(module, tmp, signatures=signatures)
        if os.path.exists(export_dir):
            old = tempfile.mkdtemp(prefix=".old-export-", dir=parent)
            os.replace(export_dir, os.path.join(old, "saved_model"))
            os.replace(tmp, export_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, export_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return export_dir


def text_spec(name="text"):
    """`tf.TensorSpec([None], tf.string)`: a batch of raw UTF-8 strings."""
    return tf.TensorSpec([None], tf.string, name=name)


def ids_spec(name):
    """`tf.TensorSpec([None, None], tf.int32)`: token ids of any batch and length."""
    return tf.TensorSpec([None, None], tf.int32, name=name)
