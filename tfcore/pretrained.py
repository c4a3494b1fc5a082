"""Pretrained folders for every model family: strict weight assignment and the mixin.

A model family (tfbert, tfgpt) supplies the format-specific parts: how a
folder or checkpoint prefix is read, and how stored names map onto ours
(its name table). This module supplies what they share:

- `assign_strictly`: every model weight filled (or, for an optional head,
  named in a warning), every stored entry used, shapes equal; otherwise one
  ValueError lists the missing, unexpected and mis-shaped names and nothing
  is assigned;
- `PretrainedMixin`: `from_pretrained` / `load_pretrained_weights` /
  `save_pretrained` built on the family's hooks.

Our names are `{prefix}{Keras path below the part}` (`tfcore.modeling.named_weights`
of `checkpoint_parts()`), e.g. `bert/layer_0/attention/query/kernel`.

Example (a family's mixin):

    class PretrainedMixin(tfcore.pretrained.PretrainedMixin):
        @classmethod
        def _read_pretrained(cls, path, config):
            ...   # -> (config, stored, folder)
"""

import tensorflow as tf
from absl import logging

from tfcore.modeling import named_weights


def _strict_problems(model_weights, canonical, optional_prefixes):
    """`(missing, optional_missing, mismatched)` names, sorted."""
    missing, optional_missing, mismatched = [], [], []
    for name, weight in sorted(model_weights.items()):
        if name not in canonical:
            optional = optional_prefixes and name.startswith(tuple(optional_prefixes))
            (optional_missing if optional else missing).append(name)
        elif tuple(canonical[name].shape) != tuple(weight.shape):
            mismatched.append(f"{name}: checkpoint {tuple(canonical[name].shape)} "
                              f"vs model {tuple(weight.shape)}")
    return missing, optional_missing, mismatched


def assign_strictly(model_weights, canonical, unexpected=(), mismatched=(), source="",
                    optional_prefixes=()):
    """Fills `model_weights` from `canonical` arrays, or raises before assigning anything.

    Args:
      model_weights: `{our name: variable}`.
      canonical: `{our name: array}`, already transposed / split into our layout.
      unexpected: stored names the family's table did not know (not ignored ones).
      mismatched: problems the family found while mapping (e.g. a packed qkv
        of the wrong width), as messages.
      source: the path named in the error and the logs.
      optional_prefixes: weights that may be missing (heads): they keep their
        initialisation, named in a warning.
    Returns:
      The sorted names of the optional weights the checkpoint did not have.
    Raises:
      ValueError: listing `missing in checkpoint`, `unexpected in checkpoint`
        and `shape mismatches`, each with its count.
    """
    missing, optional_missing, shape_problems = _strict_problems(
        model_weights, canonical, optional_prefixes)
    mismatched = list(mismatched) + shape_problems
    # A head the model does not have (MLM weights when loading an encoder) is
    # skipped with a note; anything else the model lacks is unexpected.
    model_heads = {name.split("/")[0] for name in model_weights}
    unused_heads = sorted(n for n in canonical if n not in model_weights
                          and n.split("/")[0] not in model_heads)
    unexpected = sorted(list(unexpected) + [n for n in canonical if n not in model_weights
                                            and n not in unused_heads])
    if missing or mismatched or unexpected:
        raise ValueError(
            f"Checkpoint {source} does not match the model.\n"
            f"  missing in checkpoint ({len(missing)}): {missing}\n"
            f"  unexpected in checkpoint ({len(unexpected)}): {unexpected}\n"
            f"  shape mismatches ({len(mismatched)}): {mismatched}")
    for name, weight in model_weights.items():
        if name in canonical:
            weight.assign(tf.cast(canonical[name], weight.dtype))  # also bfloat16 weights
    # A frozen part (a pooler the head never reads) missing is no news: info, not warning.
    frozen = [n for n in optional_missing if not getattr(model_weights[n], "trainable", True)]
    trained = [n for n in optional_missing if n not in frozen]
    if trained:
        logging.warning("%s has no weights for %s: they keep their fresh initialisation.",
                        source, trained)
    if frozen:
        logging.info("%s has no weights for %s (frozen, unused by this model).", source, frozen)
    if unused_heads:
        logging.info("%s: not used by this model: %s", source, unused_heads)
    return optional_missing


class PretrainedMixin:
    """`from_pretrained` / `load_pretrained_weights` / `save_pretrained` skeleton.

    A family subclass implements the hooks: `_read_pretrained` (config and
    stored arrays of a path), `_read_pretrained_weights` (stored arrays
    only), `_to_canonical` (stored -> our names), `_remember_files` (tokenizer
    files beside the weights) and `_write_pretrained`. A model lists its
    weights as `checkpoint_parts()`: `[(prefix, layer)]`.
    """

    # Weights a checkpoint may lack (heads): they keep their initialisation.
    OPTIONAL_PREFIXES = ()

    def checkpoint_parts(self):
        """`[(name prefix, layer)]` whose weights the checkpoint holds."""
        raise NotImplementedError

    def named_checkpoint_weights(self):
        """`{our name: variable}` of every weight a checkpoint of this model holds."""
        return named_weights(self.checkpoint_parts())

    @classmethod
    def from_pretrained(cls, path, config=None, **kwargs):
        """Builds the model from `path` and fills its weights strictly.

        `config`: a config object or the path of its JSON file; default: the
        family's config file beside the weights. `kwargs` go to the constructor.
        """
        config, stored, folder = cls._read_pretrained(path, config)
        canonical, unexpected, mismatched = cls._to_canonical(stored, config)
        model = cls(config, **cls._kwargs_from_checkpoint(canonical, kwargs))
        model._assign_pretrained(canonical, unexpected, mismatched, path, folder)
        return model

    def load_pretrained_weights(self, path):
        """Fills this model's weights from `path`, strictly (optional heads may be missing).

        Returns the names of the optional weights the checkpoint did not have.
        """
        stored, folder = self._read_pretrained_weights(path)  # the model has its config
        canonical, unexpected, mismatched = self._to_canonical(stored, self.config)
        return self._assign_pretrained(canonical, unexpected, mismatched, path, folder)

    def _assign_pretrained(self, canonical, unexpected, mismatched, path, folder):
        fresh = assign_strictly(self.named_checkpoint_weights(), canonical, unexpected,
                                mismatched, source=path,
                                optional_prefixes=self.OPTIONAL_PREFIXES)
        self._remember_files(folder)
        return fresh

    def _save_pretrained(self, folder, files):
        """Writes this model's weights, config and `files` with the family's writer."""
        self._write_pretrained(self.named_checkpoint_weights(), self.config, folder, files)

    @classmethod
    def _kwargs_from_checkpoint(cls, canonical, kwargs):
        """Constructor arguments the checkpoint implies (e.g. the number of labels)."""
        return kwargs

    @classmethod
    def _read_pretrained(cls, path, config):
        """`(config object, stored, folder)` for `path`; `config` as given to from_pretrained."""
        raise NotImplementedError

    @classmethod
    def _read_pretrained_weights(cls, path):
        """`(stored, folder)` for `path`."""
        raise NotImplementedError

    @classmethod
    def _to_canonical(cls, stored, config):
        """`(canonical, unexpected, mismatched)`, as `assign_strictly` takes them."""
        raise NotImplementedError

    def _remember_files(self, folder):
        """Notes the tokenizer files in `folder`, for `save_pretrained` and exports."""

    @staticmethod
    def _write_pretrained(model_weights, config, folder, files):
        raise NotImplementedError
