"""ELECTRA weights: Google's TF1 names, Hugging Face keys and ours, loaded strictly.

One table, built from tfbert's BERT rows, maps each of our weights to its
name in Google's ELECTRA checkpoints and its Hugging Face key. Our names
follow Google's scopes:

- `electra/embeddings/...`: the embedding tables and their LayerNorm, which
  the generator and the discriminator share (`electra/embeddings/...` in
  Google's joint checkpoint, `electra.embeddings.*` in each HF folder);
- `electra/embeddings_project`, `electra/layer_N/...`: the discriminator's
  encoder (Google `electra/encoder/layer_N/...`, HF `ElectraForPreTraining`'s
  `electra.encoder.layer.N.*`);
- `generator/embeddings_project`, `generator/layer_N/...`: the generator's
  encoder (Google `generator/encoder/layer_N/...`, HF `ElectraForMaskedLM`'s
  `electra.encoder.layer.N.*`);
- `generator_predictions/{transform,layer_norm,output_bias}` (Google
  `generator_predictions/{dense,LayerNorm,output_bias}`, HF
  `generator_predictions.{dense,LayerNorm}` and `generator_lm_head.bias`; the
  decoder matrix is the word embeddings: HF's `generator_lm_head.weight`, when
  stored, must equal them);
- `discriminator_predictions/{dense,dense_prediction}` (Google `dense`,
  `dense_1`).

Loading is strict (`tfcore.pretrained.assign_strictly`): every model weight
filled, every stored entry used, else a ValueError names the keys. A Google
joint checkpoint holds both models: loading one of them skips the other's
entries (logged). A Hugging Face folder holds one model, its encoder under
`electra.`: the class loading it says which.

Example:

    disc = ElectraDiscriminator.from_pretrained("electra_small")      # Google's joint ckpt
    gen = ElectraGenerator.from_pretrained("hf/electra-small-generator",
                                           config="hf/electra-small-generator/config.json")
"""

import os
import re
import shutil

import numpy as np
import tensorflow as tf
from absl import logging

from tfbert import checkpoints as bert_checkpoints
from tfcore.io import files_into_folder
from tfcore.modeling import named_weights

GENERATOR_CONFIG = "generator_config.json"
# Parts of an ELECTRA checkpoint; each model holds some of them.
EMBEDDINGS, DISCRIMINATOR, DISCRIMINATOR_HEAD = "embeddings", "discriminator", "discriminator_head"
GENERATOR, GENERATOR_HEAD = "generator", "generator_head"
ALL_PARTS = (EMBEDDINGS, DISCRIMINATOR, DISCRIMINATOR_HEAD, GENERATOR, GENERATOR_HEAD)
HF_DECODER, HF_WORD_EMBEDDINGS = "generator_lm_head.weight", "electra.embeddings.word_embeddings.weight"


def _rename(row, ours, google, hf):
    """A BERT row with its `bert/` (ours, Google) and `bert.` (HF) prefixes replaced."""
    return (ours + row[0][len("bert/"):], google + row[1][len("bert/"):],
            hf + row[2][len("bert."):], row[3], row[4])


def _encoder_rows(num_layers, scope):
    """The encoder below the embeddings: `embeddings_project` and the blocks, under `scope`."""
    rows = []
    for row in bert_checkpoints._table(num_layers):
        if row[0].startswith(("bert/layer_", "bert/embeddings_project/")):
            rows.append(_rename(row, f"{scope}/", f"{scope}/", "electra."))
    return rows


def _dense(ours, google, hf):
    return [(f"{ours}/kernel", f"{google}/kernel", f"{hf}.weight", False, True),
            (f"{ours}/bias", f"{google}/bias", f"{hf}.bias", False, False)]


def part_rows(part, num_layers):
    """Rows `(ours, google, hugging_face, google_transposed, hf_transposed)` of one part."""
    if part == EMBEDDINGS:
        return [_rename(row, "electra/", "electra/", "electra.")
                for row in bert_checkpoints._table(0) if row[0].startswith("bert/embeddings/")]
    if part in (DISCRIMINATOR, GENERATOR):
        return _encoder_rows(num_layers, "electra" if part == DISCRIMINATOR else "generator")
    if part == DISCRIMINATOR_HEAD:
        return (_dense("discriminator_predictions/dense", "discriminator_predictions/dense",
                       "discriminator_predictions.dense")
                + _dense("discriminator_predictions/dense_prediction",
                         "discriminator_predictions/dense_1",
                         "discriminator_predictions.dense_prediction"))
    return (_dense("generator_predictions/transform", "generator_predictions/dense",
                   "generator_predictions.dense")
            + [("generator_predictions/layer_norm/gamma", "generator_predictions/LayerNorm/gamma",
                "generator_predictions.LayerNorm.weight", False, False),
               ("generator_predictions/layer_norm/beta", "generator_predictions/LayerNorm/beta",
                "generator_predictions.LayerNorm.bias", False, False),
               ("generator_predictions/output_bias", "generator_predictions/output_bias",
                "generator_lm_head.bias", False, False)])


def _layers_stored(names, scope_pattern):
    """1 + the largest layer index of `names` matching `scope_pattern` (0 if none)."""
    found = [int(m.group(1)) for m in map(re.compile(scope_pattern).search, names) if m]
    return max(found) + 1 if found else 0


def _normalise_hf_key(key):
    return key.replace("LayerNorm.gamma", "LayerNorm.weight").replace(
        "LayerNorm.beta", "LayerNorm.bias")


def to_canonical(arrays, fmt, parts):
    """Stored names -> ours for a model holding `parts`.

    Returns `(canonical, unexpected, mismatched)` as `assign_strictly` takes
    them. Google: entries of the other parts are skipped (logged at info);
    Hugging Face: the encoder is the generator's if `parts` holds GENERATOR.
    """
    if fmt == "trainer":
        raise ValueError("ELECTRA models do not read trainer checkpoints (ckpt-N) yet: write "
                         "the weights with save_pretrained and load that folder.")
    names = list(arrays)
    if fmt == "google":
        layers = {DISCRIMINATOR: _layers_stored(names, r"^electra/encoder/layer_(\d+)/"),
                  GENERATOR: _layers_stored(names, r"^generator/encoder/layer_(\d+)/")}
        rows = {part: part_rows(part, layers.get(part, 0)) for part in ALL_PARTS}
    else:
        encoder = GENERATOR if GENERATOR in parts else DISCRIMINATOR
        count = _layers_stored(names, r"^electra\.encoder\.layer\.(\d+)\.")
        rows = {part: part_rows(part, count if part == encoder else 0) for part in parts}
    column, flag = (1, 3) if fmt == "google" else (2, 4)
    table = {row[column]: (row[0], row[flag], part)
             for part, part_table in rows.items() for row in part_table}
    canonical, unexpected, mismatched, skipped = {}, [], [], []
    for name, value in arrays.items():
        key = name if fmt == "google" else _normalise_hf_key(name)
        if bert_checkpoints._ignored(key):
            continue
        if fmt == "hf" and key == HF_DECODER:
            words = arrays.get(HF_WORD_EMBEDDINGS)
            if words is None or not np.array_equal(np.asarray(value), np.asarray(words)):
                mismatched.append(f"{name}: differs from {HF_WORD_EMBEDDINGS} (an untied "
                                  "decoder); the generator here always decodes with the word "
                                  "embeddings")
            continue
        if key not in table:
            unexpected.append(name)
            continue
        ours, transposed, part = table[key]
        if part not in parts:
            skipped.append(name)
            continue
        canonical[ours] = np.asarray(value).T if transposed else np.asarray(value)
    if skipped:
        logging.info("Skipped %d checkpoint entries of the other ELECTRA model (e.g. %s).",
                     len(skipped), skipped[0])
    return canonical, unexpected, mismatched


def encoder_weights(bert_model, scope):
    """`{our name: variable}` of a BertModel's embeddings and encoder (no pooler: ELECTRA has none).

    The embedding tables are `electra/embeddings/...` whatever `scope` (they
    are shared); the rest `{scope}/embeddings_project/...`, `{scope}/layer_N/...`.
    """
    parts = [("electra/embeddings/", bert_model.embedding)]
    if bert_model.config.embedding_width != bert_model.config.hidden_size:
        parts.append((f"{scope}/embeddings_project/", bert_model.embeddings_project))
    parts += [(f"{scope}/{block.name}/", block) for block in bert_model.blocks]
    return named_weights(parts)


def save_google_names(model_weights, config, folder, files=None, generator=None):
    """Writes `bert_config.json` (+ `generator_config.json`), `bert_model.ckpt.*`, `vocab.txt`.

    The variables get Google's ELECTRA names, so the folder reads like a
    checkpoint of Google's run_pretraining.py (and reloads here).
    """
    google = {row[0]: (row[1], row[3])
              for part in ALL_PARTS
              for row in part_rows(part, max(config.num_hidden_layers,
                                             generator.num_hidden_layers if generator else 0))}
    with files_into_folder(folder, last=(".index",)) as tmp:
        names, tensors = [], []
        for name, weight in sorted(model_weights.items()):
            stored, transposed = google[name]
            value = tf.convert_to_tensor(weight)
            names.append(stored)
            tensors.append(tf.transpose(value) if transposed else value)
        tf.raw_ops.SaveV2(prefix=os.path.join(tmp, bert_checkpoints.GOOGLE_CHECKPOINT),
                          tensor_names=names, shape_and_slices=[""] * len(names),
                          tensors=tensors)
        config.to_json_file(os.path.join(tmp, bert_checkpoints.GOOGLE_CONFIG))
        if generator is not None:
            generator.to_json_file(os.path.join(tmp, GENERATOR_CONFIG))
        if files:
            shutil.copyfile(files, os.path.join(tmp, bert_checkpoints.VOCAB_FILE))


class ElectraPretrainedMixin(bert_checkpoints.PretrainedMixin):
    """tfbert's mixin with ELECTRA's name table; a model lists the `PARTS` it holds."""

    PARTS = ()
    OPTIONAL_PREFIXES = ()  # every ELECTRA weight is in every ELECTRA checkpoint

    @classmethod
    def _to_canonical(cls, stored, config):
        fmt, arrays = stored
        return to_canonical(arrays, fmt, cls.PARTS)

    @staticmethod
    def _write_pretrained(model_weights, config, folder, files):
        save_google_names(model_weights, config, folder, files)

    def save_pretrained(self, folder, vocab_file=None):
        """Writes `bert_config.json`, `bert_model.ckpt.*` (Google's ELECTRA names), `vocab.txt`."""
        self._save_pretrained(folder, vocab_file or getattr(self, "vocab_file", None))
