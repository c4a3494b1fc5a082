"""JsonConfig: frozen dataclasses that read and write JSON files.

Configs follow the conventions of `bert_config.json`: field names are the
JSON keys. Reading is strict about what matters and lenient about the rest:

- an unknown key is logged as a warning and ignored (Google's and Hugging
  Face's files carry extra keys such as `pooler_type` or `architectures`);
- a missing required key or a value of the wrong type raises `ConfigError`
  naming the key and the file;
- the same type check runs when a config is built in Python
  (`TinyConfig(vocab_size="5")` is a `ConfigError`, not a `TypeError`), and a
  float must be finite (NaN and infinities are refused);
- `reject_unsupported` refuses keys of other formats whose value would change
  the model's numbers in a way the model does not implement;
- a subclass's `__post_init__` may warn instead of failing (a value the model
  never reads): `warn_config` names the file being read (`config_source()`);
- `TransformerConfig` holds the fields and range checks every transformer
  config shares (sizes, heads dividing the width, activation, dropouts, epsilon).

Example:

    @dataclasses.dataclass(frozen=True)
    class TinyConfig(JsonConfig):
        vocab_size: int
        hidden_size: int = 16

    cfg = TinyConfig.from_json_file("tiny.json")
    cfg.to_json_file("copy.json")
"""

import contextlib
import contextvars
import dataclasses
import json
import math
import numbers
import typing
from typing import Any, ClassVar, Dict, Mapping

from absl import logging

from tfcore.io import write_text_atomically


class ConfigError(ValueError):
    """A config file or dict is malformed; the message names the key and source."""


# The file (or "<dict>") whose values are being turned into a config: dataclass
# __post_init__ has no argument for it, and its warnings must name the file.
_SOURCE = contextvars.ContextVar("config_source", default=None)


def config_source(default: str = "<config>") -> str:
    """The source `from_dict` is reading now (a file name, "<dict>"), else `default`.

    Example: inside `__post_init__`, `warn_config("key 'x' ...")` names the file.
    """
    source = _SOURCE.get()
    return default if source is None else source


@contextlib.contextmanager
def _reading(source):
    """Makes `config_source()` return `source` while the config is built."""
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def warn_config(message: str, *args) -> None:
    """Logs a warning about a config value, prefixed with the file being read.

    `message` should name the key and the value, and say what is done with it.
    """
    logging.warning("%s: " + message, config_source(), *args)


def reject_unsupported(values: Mapping[str, Any], supported: Mapping[str, Any], source: str):
    """Raises ConfigError if a key of `supported` is in `values` with another value.

    For keys of other formats (Hugging Face's) that would change the model's
    numbers: only the value the model implements is accepted.

    Example: `reject_unsupported(values, {"is_decoder": False}, "config.json")`.
    """
    if not hasattr(values, "get"):
        return  # from_dict reports a non-object itself
    for key, only in supported.items():
        if key in values and values[key] != only:
            raise ConfigError(f"{source}: key '{key}' = {values[key]!r} is not "
                              f"supported (only {only!r}).")


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _check_value(key: str, value: Any, tp, source) -> Any:
    """Returns `value` converted to field type `tp`, or raises ConfigError.

    NumPy scalars count as Python numbers; bools are not numbers. `source`
    (a file name, "<dict>") prefixes the message unless None.
    """
    origin = typing.get_origin(tp)
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _check_value(key, value, args[0], source)
    ok = True
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        value = int(value) if ok else value
    elif tp is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        ok = isinstance(value, str)
    prefix = f"{source}: " if source is not None else ""
    if not ok:
        raise ConfigError(
            f"{prefix}key '{key}' must be of type {_type_name(tp)}, "
            f"got {value!r} ({type(value).__name__})."
        )
    if tp is float and not math.isfinite(value):
        raise ConfigError(f"{prefix}key '{key}' must be a finite number, got {value!r}.")
    return value


@dataclasses.dataclass(frozen=True)
class JsonConfig:
    """Base class for frozen dataclass configs with JSON round trips.

    Subclasses may set `_ALIASES` (a class-level dict) mapping keys of other
    formats to field names, e.g. `{"n_layer": "num_hidden_layers"}`.
    """

    _ALIASES: ClassVar[Dict[str, str]] = {}
    # The file whose keys `_ALIASES` are (named beside our key in errors).
    _ALIAS_FILE: ClassVar[str] = "config.json"
    # Keys other tools write that carry nothing for us: logged at info, not warned.
    _BOOKKEEPING_KEYS: ClassVar[frozenset] = frozenset()
    # Keys of other formats that would change the numbers: the only value accepted.
    _UNSUPPORTED_UNLESS: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self):
        """Checks every field's type (as `from_dict` does); subclasses call it first."""
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            checked = _check_value(field.name, value, hints[field.name], None)
            if checked is not value:
                object.__setattr__(self, field.name, checked)

    @classmethod
    def key_name(cls, field: str) -> str:
        """`'hidden_size'`, or `'hidden_size' (config.json: 'n_embd')` where aliased."""
        aliases = [key for key, name in cls._ALIASES.items() if name == field]
        return f"'{field}'" + (f" ({cls._ALIAS_FILE}: '{aliases[0]}')" if aliases else "")

    @classmethod
    def check_foreign_keys(cls, values: Mapping[str, Any], source: str) -> None:
        """Refuses `_UNSUPPORTED_UNLESS` keys with another value; subclasses may warn too."""
        reject_unsupported(values, cls._UNSUPPORTED_UNLESS, source)

    @classmethod
    def coerce(cls, config):
        """Accepts a config of this class, a dict (e.g. from `get_config`) or a JSON path.

        Example: `BertConfig.coerce("bert_config.json")`.
        """
        if isinstance(config, cls):
            return config
        if isinstance(config, dict):
            return cls.from_dict(config)
        if isinstance(config, str):
            return cls.from_json_file(config)
        raise TypeError(f"Expected a {cls.__name__}, dict or path, got {type(config).__name__}.")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "<dict>"):
        """Builds a config from a dict; `source` names it in errors."""
        cls.check_foreign_keys(values, source)
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: expected a JSON object, got {type(values).__name__}.")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs, unknown = {}, []
        for key, value in values.items():
            name = cls._ALIASES.get(key, key)
            if name not in fields:
                unknown.append(key)
                continue
            kwargs[name] = _check_value(key, value, hints[name], source)
        quiet = sorted(k for k in unknown if k in cls._BOOKKEEPING_KEYS)
        loud = sorted(k for k in unknown if k not in cls._BOOKKEEPING_KEYS)
        if quiet:
            logging.info("%s: ignoring %s", source, quiet)
        if loud:
            logging.warning("%s: ignoring unknown keys %s", source, loud)
        missing = [
            name for name, f in fields.items()
            if name not in kwargs
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise ConfigError(f"{source}: missing required key(s) {missing}.")
        try:
            with _reading(source):
                return cls(**kwargs)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None

    @classmethod
    def from_json_file(cls, path: str):
        """Reads a JSON file; errors name the file."""
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"Config file not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid JSON ({e}).") from None
        return cls.from_dict(values, source=path)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str) -> None:
        """Writes atomically: a temporary file in the same folder, then rename."""
        write_text_atomically(path, self.to_json_string())

    def replace(self, **changes):
        """Returns a copy with `changes` applied (validated like the original)."""
        return dataclasses.replace(self, **changes)



@dataclasses.dataclass(frozen=True)
class TransformerConfig(JsonConfig):
    """The hyper-parameters every transformer config shares, under BERT's names, and their checks.

    Subclasses (BertConfig, GPTConfig) add their own fields after these,
    `max_position_embeddings`, `initializer_range` and `layer_norm_eps`
    among them (where they stand differs, and field order is the order of
    positional arguments), and may redefine a default (a redefined field
    keeps its place). After the type checks,
    `__post_init__` calls `_resolve_defaults` (fill `None`s), then checks, in
    this order: `_POSITIVE` keys > 0; `hidden_size` divisible by
    `num_attention_heads`; `hidden_act` in `_ACTIVATIONS`; `_PROBABILITIES`
    (dropouts) in [0, 1); `layer_norm_eps` > 0; `initializer_range` >= 0.
    Errors name the key with `key_name` (and its alias, where one exists).

    Example:

        @dataclasses.dataclass(frozen=True)
        class TinyConfig(TransformerConfig):
            _ACTIVATIONS = ("gelu",)
            max_position_embeddings: int = 64
            initializer_range: float = 0.02
            layer_norm_eps: float = 1e-12
    """

    _POSITIVE: ClassVar[tuple] = ("vocab_size", "hidden_size", "num_hidden_layers",
                                  "num_attention_heads", "intermediate_size",
                                  "max_position_embeddings")
    _PROBABILITIES: ClassVar[tuple] = ("hidden_dropout_prob", "attention_probs_dropout_prob")
    # Names `hidden_act` may take: tfcore.layers.activations.ACTIVATIONS (set by the
    # subclass: this module stays free of Keras, which the CLIs import late).
    _ACTIVATIONS: ClassVar[Any] = ()

    vocab_size: int
    """Rows of the token embedding table."""
    hidden_size: int = 768
    """Width of every hidden state."""
    num_hidden_layers: int = 12
    """Transformer blocks."""
    num_attention_heads: int = 12
    """Heads per attention layer; they split `hidden_size`."""
    intermediate_size: int = 3072
    """Width of the feed-forward layer."""
    hidden_act: str = "gelu"
    """Activation of the feed-forward layer (a name of `_ACTIVATIONS`)."""
    hidden_dropout_prob: float = 0.1
    """Dropout on the residual branches."""
    attention_probs_dropout_prob: float = 0.1
    """Dropout on the attention probabilities."""

    def __post_init__(self):
        super().__post_init__()  # types (and finite floats) first
        self._resolve_defaults()
        self._check_ranges()

    def _resolve_defaults(self):
        """Replaces `None` defaults by values derived from other fields (none here)."""

    def _check_heads(self):
        """ConfigError unless the heads split `hidden_size` evenly."""
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"key {self.key_name('hidden_size')} ({self.hidden_size}) must be divisible by "
                f"{self.key_name('num_attention_heads')} ({self.num_attention_heads}).")

    def _check_ranges(self):
        """ConfigError, naming the key, for a value out of range (see the class doc)."""
        name = self.key_name
        for key in self._POSITIVE:
            if getattr(self, key) <= 0:
                raise ConfigError(f"key {name(key)} must be positive, got {getattr(self, key)}.")
        self._check_heads()
        if self.hidden_act not in self._ACTIVATIONS:
            raise ConfigError(f"key {name('hidden_act')} must be one of "
                              f"{sorted(self._ACTIVATIONS)}, got {self.hidden_act!r}.")
        for key in self._PROBABILITIES:
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ConfigError(f"key {name(key)} must be in [0, 1), got {getattr(self, key)}.")
        if self.layer_norm_eps <= 0:
            raise ConfigError(f"key {name('layer_norm_eps')} must be positive, "
                              f"got {self.layer_norm_eps}.")
        if self.initializer_range < 0:
            raise ConfigError(f"key {name('initializer_range')} must be >= 0, "
                              f"got {self.initializer_range}.")
