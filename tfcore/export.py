"""SavedModel export: the root object of every export, atomic writes, input specs.

Every SavedModel the project writes has a `ServingModule` as its root and is
written by `save_atomically`. Such exports load in `tf.saved_model.load` and
in session-based loaders (TF Serving's C++ `LoadSavedModel`, `saved_model_cli
run`, `tf.compat.v1.saved_model.loader.load`) alike.

Example:

    class Doubler(ServingModule):
        def __init__(self, model):
            super().__init__()
            self.model = model          # a Keras model: held, its variables tracked

        @tf.function(input_signature=[ids_spec("input_ids")])
        def serve(self, input_ids):
            return {"out": self.model(input_ids)}

    save_atomically(Doubler(model), "out/saved_model", signatures={"serving_default": ...})
"""

import os

import keras
import tensorflow as tf

from tfcore.io import atomic_folder


class ServingModule(tf.__internal__.tracking.AutoTrackable):
    """Root object of our SavedModels: Keras layers held, their tf.Variables tracked.

    Why: a Keras 3 variable tracked as such is exported twice. Its wrapper's
    `_export_to_saved_model_graph` adds a second `tf.Variable` ("Variable_N")
    initialised from the first; the checkpoint restores that copy while the
    serving functions read the first one. `tf.saved_model.load` initialises
    both, but a session loader runs only the restore op, so the functions fail
    with "Could not find variable ..." (keras-team/keras#20095). Here Keras
    layers assigned as attributes are not tracked; their underlying
    `tf.Variable`s are, once each, as `variables` and `trainable_variables`
    (the attribute names of TF Hub's reusable SavedModels), so the checkpoint
    holds every weight once, under the name the functions read.
    """

    def __setattr__(self, name, value):
        if isinstance(value, keras.Layer):
            # Bypasses AutoTrackable's dependency tracking for this attribute.
            object.__setattr__(self, name, value)
            held = self.__dict__.setdefault("_held_layers", {})
            held[name] = value
            return
        super().__setattr__(name, value)

    def track_layer_variables(self):
        """Tracks the tf.Variables of every held Keras layer as `variables`.

        Called by `save_atomically` after the signatures are traced (tracing
        may create variables). Also sets `trainable_variables` and an empty
        `regularization_losses` list (TF Hub's reusable SavedModel API).
        """
        variables, trainable, seen = [], [], set()
        for layer in self.__dict__.get("_held_layers", {}).values():
            for variable in layer.variables:
                raw = getattr(variable, "value", variable)
                if id(raw) in seen:
                    continue
                seen.add(id(raw))
                variables.append(raw)
                if variable.trainable:
                    trainable.append(raw)
        self.variables = variables
        self.trainable_variables = trainable
        self.regularization_losses = []


def save_atomically(module, export_dir, signatures):
    """`tf.saved_model.save` into a temporary folder, then rename into place.

    `module` is a `ServingModule` (or a plain trackable holding no Keras
    layers). A crash or full disk during the save leaves any earlier export at
    `export_dir` untouched; the old export is removed only after the new one
    is complete. A failed write raises the error of the same type, its message
    naming `export_dir` and saying that nothing was written under that name.
    """
    if isinstance(module, ServingModule):
        for function in (signatures or {}).values():
            if isinstance(function, tf.types.experimental.PolymorphicFunction):
                function.get_concrete_function()
        module.track_layer_variables()
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


def check_max_seq_length(max_seq_length, config):
    """ValueError when an export's `max_seq_length` exceeds `config.max_position_embeddings`.

    Run before anything is traced: the model's position table has only
    `max_position_embeddings` rows, so longer inputs could never be served.

    Example: `check_max_seq_length(FLAGS.max_seq_length, model.config)`.
    """
    limit = config.max_position_embeddings
    if max_seq_length > limit:
        raise ValueError(f"max_seq_length {max_seq_length} exceeds the model's "
                         f"max_position_embeddings {limit}.")
