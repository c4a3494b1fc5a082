"""ConfigModel: the base of models that are built from a JsonConfig and take token ids.

It gives every such model the same Keras citizenship:

- `get_config`/`from_config` carry the config as a dict, so `.keras` files
  reload without `custom_objects`;
- inputs are a dict of int32 `[batch, seq]` tensors named `INPUT_NAMES`, and
  `export()` writes a signature with those names, any batch size and length
  (Keras alone would name them `args_0...` and declare them float32).

Example:

    class MyModel(ConfigModel):
        config_class = MyConfig
        INPUT_NAMES = ("token_ids",)
"""

import keras
import tensorflow as tf


class ConfigModel(keras.Model):
    """A keras.Model with a `config` attribute of type `config_class`."""

    config_class = None
    INPUT_NAMES = ()

    def input_signature(self):
        """`[{name: tf.TensorSpec([None, None], tf.int32)}]` for `tf.function`/export."""
        return [{name: tf.TensorSpec([None, None], tf.int32, name=name)
                 for name in self.INPUT_NAMES}]

    def export(self, filepath, format="tf_saved_model", verbose=None,
               input_signature=None, **kwargs):
        if input_signature is None:
            input_signature = self.input_signature()
        return super().export(filepath, format=format, verbose=verbose,
                              input_signature=input_signature, **kwargs)

    @property
    def _default_save_signature(self):
        # Keras traces this when the model is saved inside a tf.Module; its own
        # default declares one float32 input of unknown shape.
        return tf.function(lambda inputs: self(inputs),
                           input_signature=self.input_signature())

    def get_config(self):
        config = super().get_config()
        config["config"] = self.config.to_dict()
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(cls.config_class.from_dict(config.pop("config")), **config)


def named_weights(parts):
    """`{prefix + path below the layer: variable}` from `[(prefix, layer)]` parts of a model.

    The names do not depend on where the layer sits in an enclosing model, so
    checkpoint name tables can address them.
    """
    named = {}
    for prefix, layer in parts:
        for weight in layer.weights:
            pieces = weight.path.split("/")
            named[prefix + "/".join(pieces[pieces.index(layer.name) + 1:])] = weight
    return named
