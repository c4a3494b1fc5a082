"""SavedModel export helpers: atomic writes and string-input signatures.

Example:

    save_atomically(module, "out/saved_model",
                    signatures={"serving_default": module.serve_text})
"""

import os

import tensorflow as tf

from tfcore.io import atomic_folder


def save_atomically(module, export_dir, signatures):
    """`tf.saved_model.save` into a temporary folder, then rename into place.

    A crash or full disk during the save leaves any earlier export at
    `export_dir` untouched; the old export is removed only after the new one
    is complete. A failed write raises the error of the same type, its message
    naming `export_dir` and saying that nothing was written under that name.
    """
    export_dir = os.path.abspath(export_dir)
    with atomic_folder(export_dir, prefix=".tmp-export-") as tmp:
        try:
            tf.saved_model.save(module, tmp, signatures=signatures)
        except (tf.errors.OpError, OSError) as e:
            raise _write_error(e, export_dir) from None
    return export_dir


def _write_error(error, export_dir):
    """`error` (an OpError or OSError) again, its message naming the export."""
    if isinstance(error, tf.errors.OpError):
        reason = error.message
    else:
        reason = f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
    message = (f"Could not write the SavedModel to {export_dir} ({reason.strip()}). Nothing "
               f"was written under that name (an earlier export there is unchanged) and the "
               f"checkpoints are not affected: free space and run the same command again "
               f"to export.")
    if isinstance(error, tf.errors.OpError):
        return type(error)(error.node_def, error.op, message)
    return type(error)(error.errno, message)


def text_spec(name="text"):
    """`tf.TensorSpec([None], tf.string)`: a batch of raw UTF-8 strings."""
    return tf.TensorSpec([None], tf.string, name=name)


def ids_spec(name):
    """`tf.TensorSpec([None, None], tf.int32)`: token ids of any batch and length."""
    return tf.TensorSpec([None, None], tf.int32, name=name)
