"""ConfigModel: the base of models that are built from a JsonConfig and take token ids.

It gives every such model the same Keras citizenship:

- `get_config`/`from_config` carry the config as a dict, so `.keras` files
  reload without `custom_objects`;
- inputs are a dict of int32 `[batch, seq]` tensors named `INPUT_NAMES`, and
  `export()` writes a signature with those names, any batch size and length
  (Keras alone would name them `args_0...` and declare them float32);
- a config whose weights alone cannot fit in this machine's memory is refused
  with a `ConfigError` stating the bytes needed, before any weight is
  allocated (`check_fits_in_memory`).

Example:

    class MyModel(ConfigModel):
        config_class = MyConfig
        INPUT_NAMES = ("token_ids",)
"""

import os

import keras
import tensorflow as tf

from tfcore.config import ConfigError, JsonConfig

# cgroup v2 and v1 files holding a container's memory limit.
_CGROUP_LIMIT_FILES = ("/sys/fs/cgroup/memory.max",
                       "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def weight_count(config):
    """A lower bound on the weights of a transformer built from `config`.

    Embeddings `(vocab_size + max_position_embeddings + type_vocab_size) *
    hidden_size` plus, per layer, the attention (`4 h^2 + 4 h`), the
    feed-forward (`2 h * intermediate_size + intermediate_size + h`) and two
    LayerNorms (`4 h`). Python integers: no overflow, whatever the config.
    """
    h = config.hidden_size
    inner = getattr(config, "intermediate_size", None) or 4 * h
    rows = (config.vocab_size + getattr(config, "max_position_embeddings", 0)
            + getattr(config, "type_vocab_size", 0))
    per_layer = 4 * h * h + 4 * h + 2 * h * inner + inner + h + 4 * h
    return rows * h + config.num_hidden_layers * per_layer


def memory_limit_bytes():
    """Physical memory, or the container's limit where that is lower."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _CGROUP_LIMIT_FILES:
        try:
            with open(path) as f:
                value = f.read().strip()
        except OSError:
            continue
        if value.isdigit():
            limit = min(limit, int(value))
    return limit


def _human(num_bytes):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if num_bytes < 1000 or unit == "PB":
            return f"{num_bytes:,.1f} {unit}" if unit != "bytes" else f"{num_bytes} bytes"
        num_bytes /= 1000


def check_fits_in_memory(config, dtype=None, limit=None):
    """Raises ConfigError if the weights of `config` alone exceed `limit` bytes.

    `limit` defaults to `memory_limit_bytes()`; the bytes per weight follow
    the variable dtype of `dtype` (a Keras dtype policy or name; default: the
    global policy; mixed policies keep float32 variables).

    Example: `check_fits_in_memory(BertConfig(vocab_size=10**9, hidden_size=10**5,
    num_attention_heads=1))` -> ConfigError "BertConfig is too large for this
    machine: its weights alone need at least 401.9 TB (401,949,745,747,456 bytes
    = ... weights x 4 bytes; ...), more than the 25.3 GB of memory here. ...".
    """
    policy = keras.dtype_policies.get(dtype) if dtype is not None else (
        keras.config.dtype_policy())
    per_weight = tf.as_dtype(policy.variable_dtype).size
    count = weight_count(config)
    needed = count * per_weight
    limit = memory_limit_bytes() if limit is None else limit
    if needed > limit:
        raise ConfigError(
            f"{type(config).__name__} is too large for this machine: its weights alone need "
            f"at least {_human(needed)} ({needed:,} bytes = {count:,} weights x {per_weight} "
            f"bytes; vocab_size={config.vocab_size}, hidden_size={config.hidden_size}, "
            f"num_hidden_layers={config.num_hidden_layers}), more than the "
            f"{_human(limit)} of memory here. Nothing was allocated.")
    return needed


class ConfigModel(keras.Model):
    """A keras.Model with a `config` attribute of type `config_class`."""

    config_class = None
    INPUT_NAMES = ()

    def __new__(cls, *args, **kwargs):
        # Before __init__ creates any weight: a config too large for memory is
        # refused with the size it needs (instead of an OOM kill or an
        # allocator error after minutes of initialisation).
        config = args[0] if args else kwargs.get("config")
        if isinstance(config, dict) and cls.config_class is not None:
            config = cls.config_class.from_dict(config)
        if isinstance(config, JsonConfig):
            check_fits_in_memory(config, kwargs.get("dtype"))
        return super().__new__(cls, *args, **kwargs)

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
