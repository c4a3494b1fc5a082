"""Load and save BERT weights: Google TF1, Hugging Face and our own folders.

The name tables below are data: each row maps one of our weights to its
Google TF1 variable name and its Hugging Face key, with whether the stored
array is the transpose of ours. Loading is strict (`tfcore.pretrained.
assign_strictly`): every checkpoint entry is used or explicitly ignored
(optimizer slots, `global_step`, tied-decoder copies, `position_ids`
buffers), every model weight is filled, and otherwise the error lists
missing, unexpected and mis-shaped names. The exception is a head the
checkpoint lacks (classifier, span, MLM/NSP heads, pooler): it keeps its fresh
initialisation and is named in a warning. Hugging Face files are read by
`tfcore.io.read_hf_weights`; the mixin's skeleton is `tfcore.pretrained`.

A trainer checkpoint (`ckpt-N` of `tfcore.training.Trainer`: an
object-based `tf.train.Checkpoint` of the model, its optimizer and RNG
states) is read through its object graph: every variable reachable from the
`model` node is named by its Keras path (`bert/layer_0/attention/query/kernel`,
`bert_pretrainer/masked_lm/output_bias`), which maps onto our names; optimizer
slots, the step and RNG states are not model weights and are ignored.

`save_pretrained` writes Google's layout (`bert_config.json`,
`bert_model.ckpt.*` with Google's variable names, `vocab.txt`), so a saved
folder also loads in Google's TF1 code.
"""

import glob
import os
import re
import shutil

import numpy as np
import tensorflow as tf

from tfbert.config import BertConfig
from tfcore import pretrained
from tfcore.io import HF_WEIGHT_FILES, files_into_folder, has_hf_weights, read_hf_weights

GOOGLE_CONFIG, HF_CONFIG = "bert_config.json", "config.json"
GOOGLE_CHECKPOINT = "bert_model.ckpt"
# The entry that makes a TF checkpoint object-based (tf.train.Checkpoint, not TF1's Saver).
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
VOCAB_FILE = "vocab.txt"

# Weights a checkpoint may lack: they keep their initialisation (with a warning).
OPTIONAL_PREFIXES = ("masked_lm/", "next_sentence/", "classifier/", "qa_outputs/",
                     "bert/pooler/")

# Checkpoint entries that are never model weights.
IGNORED = [re.compile(p) for p in (
    r"(^|/)adam_[mv]$", r"(^|/)(global_step|good_steps|loss_scale)$",
    r"position_ids$", r"^cls\.predictions\.decoder\.(weight|bias)$",
    # Keras dropout RNG state inside a trainer checkpoint's model (not a weight).
    r"(^|/)seed_generator(_\d+)?(/|$)",
)]


def _dense(ours, google, hf):
    """Rows of a dense layer: Google keeps [in, out] kernels, HF [out, in]."""
    return [(f"{ours}/kernel", f"{google}/kernel", f"{hf}.weight", False, True),
            (f"{ours}/bias", f"{google}/bias", f"{hf}.bias", False, False)]


def _norm(ours, google, hf):
    return [(f"{ours}/gamma", f"{google}/gamma", f"{hf}.weight", False, False),
            (f"{ours}/beta", f"{google}/beta", f"{hf}.bias", False, False)]


def _table(num_layers):
    """Rows (ours, google, hugging_face, google_transposed, hf_transposed)."""
    e, ge, he = "bert/embeddings", "bert/embeddings", "bert.embeddings"
    rows = [(f"{e}/{n}", f"{ge}/{n}", f"{he}.{n}.weight", False, False)
            for n in ("word_embeddings", "position_embeddings", "token_type_embeddings")]
    rows += _norm(f"{e}/layer_norm", f"{ge}/LayerNorm", f"{he}.LayerNorm")
    # With embedding_size (ELECTRA-style): no Google BERT or HF BERT name exists; ours.
    rows += _dense("bert/embeddings_project", "bert/embeddings_project", "bert.embeddings_project")
    for i in range(num_layers):
        o, g, h = f"bert/layer_{i}", f"bert/encoder/layer_{i}", f"bert.encoder.layer.{i}"
        for p in ("query", "key", "value"):
            rows += _dense(f"{o}/attention/{p}", f"{g}/attention/self/{p}",
                           f"{h}.attention.self.{p}")
        rows += _dense(f"{o}/attention/output_dense", f"{g}/attention/output/dense",
                       f"{h}.attention.output.dense")
        rows += _norm(f"{o}/attention_layer_norm", f"{g}/attention/output/LayerNorm",
                      f"{h}.attention.output.LayerNorm")
        rows += _dense(f"{o}/feed_forward/intermediate", f"{g}/intermediate/dense",
                       f"{h}.intermediate.dense")
        rows += _dense(f"{o}/feed_forward/output_dense", f"{g}/output/dense",
                       f"{h}.output.dense")
        rows += _norm(f"{o}/output_layer_norm", f"{g}/output/LayerNorm", f"{h}.output.LayerNorm")
    rows += _dense("bert/pooler", "bert/pooler/dense", "bert.pooler.dense")
    rows += _dense("masked_lm/transform", "cls/predictions/transform/dense",
                   "cls.predictions.transform.dense")
    rows += _norm("masked_lm/layer_norm", "cls/predictions/transform/LayerNorm",
                  "cls.predictions.transform.LayerNorm")
    rows += [("masked_lm/output_bias", "cls/predictions/output_bias", "cls.predictions.bias",
              False, False),
             # Google stores these two heads as [labels, hidden] "output_weights".
             ("next_sentence/dense/kernel", "cls/seq_relationship/output_weights",
              "cls.seq_relationship.weight", True, True),
             ("next_sentence/dense/bias", "cls/seq_relationship/output_bias",
              "cls.seq_relationship.bias", False, False),
             ("classifier/kernel", "output_weights", "classifier.weight", True, True),
             ("classifier/bias", "output_bias", "classifier.bias", False, False),
             # run_squad.py's span head: start and end logits, [2, hidden] in both formats.
             ("qa_outputs/kernel", "cls/squad/output_weights", "qa_outputs.weight", True, True),
             ("qa_outputs/bias", "cls/squad/output_bias", "qa_outputs.bias", False, False)]
    return rows


def _normalise_hf_key(key):
    """HF keys come with or without the `bert.` prefix, LayerNorm as gamma/beta or weight/bias."""
    key = key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
    if key.startswith(("embeddings.", "encoder.", "pooler.", "embeddings_project.")):
        key = "bert." + key
    return key


# ---------------------------------------------------------------- reading


def _find_tf_checkpoint(path):
    """Returns a TF checkpoint prefix for a folder or prefix, or None.

    In a folder, Google's `bert_model.ckpt` comes first: a pretraining output
    folder holds it (the exported weights) beside the trainer's `ckpt-N`.
    """
    if os.path.exists(path + ".index"):
        return path
    if os.path.isdir(path):
        google = os.path.join(path, GOOGLE_CHECKPOINT)
        if os.path.exists(google + ".index"):
            return google
        latest = tf.train.latest_checkpoint(path)
        if latest:
            return latest
        indexes = sorted(glob.glob(os.path.join(path, "*.index")))
        if indexes:
            return indexes[0][: -len(".index")]
    return None


def _read_tf_checkpoint(prefix):
    """`(format, arrays)`: "google" (name-based, TF1) or "trainer" (object-based, ours)."""
    reader = tf.train.load_checkpoint(prefix)
    names = reader.get_variable_to_shape_map()
    if OBJECT_GRAPH_KEY in names:
        return "trainer", _read_trainer_checkpoint(reader, prefix)
    return "google", {name: reader.get_tensor(name) for name in names}


def _model_variables(graph, prefix):
    """`{checkpoint key: Keras path}` of the variables under the object graph's `model` node.

    The trainer saves `tf.train.Checkpoint(model=..., optimizer=..., rng_states=...)`;
    a variable is stored once, under whichever path reached it first (often the
    optimizer's list), so the keys say nothing about the model. The attribute's
    `full_name` is the variable's Keras path, wherever it is stored.
    """
    root = graph.nodes[0]
    model = [child.node_id for child in root.children if child.local_name == "model"]
    if not model:
        raise ValueError(f"{prefix} is an object-based checkpoint without a 'model' entry: "
                         "expected a trainer checkpoint (ckpt-N) of run_pretraining.py or "
                         "run_classifier.py.")
    found, seen, stack = {}, set(model), list(model)
    while stack:
        node = graph.nodes[stack.pop()]
        for attribute in node.attributes:
            if attribute.name == "VARIABLE_VALUE":
                found[attribute.checkpoint_key] = attribute.full_name
        for child in node.children:
            if child.node_id not in seen:
                seen.add(child.node_id)
                stack.append(child.node_id)
    return found


def _read_trainer_checkpoint(reader, prefix):
    """`{Keras path: array}` of the model's variables in a trainer checkpoint."""
    from tensorflow.core.protobuf import trackable_object_graph_pb2
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(OBJECT_GRAPH_KEY))
    return {path: reader.get_tensor(key)
            for key, path in _model_variables(graph, prefix).items()}


def read_weights(path):
    """Reads the weights of a Google, Hugging Face, trainer or our own checkpoint.

    Args:
      path: a folder, or a TF checkpoint prefix such as `.../bert_model.ckpt`
        or a trainer's `.../ckpt-600`.
    Returns:
      `(format, arrays, folder)`: format is "google", "hf" or "trainer"; arrays
      maps stored names (for "trainer": Keras paths) to NumPy arrays.
    """
    path = os.fspath(path)
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    prefix = _find_tf_checkpoint(path)
    if prefix is not None:
        fmt, arrays = _read_tf_checkpoint(prefix)
    elif has_hf_weights(folder):
        fmt, arrays = "hf", read_hf_weights(folder, "BERT")
    else:
        raise FileNotFoundError(
            f"No BERT checkpoint found at {path}: looked for a TF checkpoint "
            f"({GOOGLE_CHECKPOINT}.index or any *.index, or a 'checkpoint' file) and for "
            f"Hugging Face weights ({', '.join(HF_WEIGHT_FILES)}).")
    return fmt, arrays, folder


def find_config(folder):
    """The `bert_config.json` (else `config.json`) in `folder`; FileNotFoundError if none."""
    for name in (GOOGLE_CONFIG, HF_CONFIG):
        config_path = os.path.join(folder, name)
        if os.path.exists(config_path):
            return config_path
    raise FileNotFoundError(
        f"No config next to the checkpoint in {folder}: looked for {GOOGLE_CONFIG} and "
        f"{HF_CONFIG}. Pass the config (--bert_config_file, or config= in Python).")


def read_checkpoint(path):
    """`read_weights(path)` and the config beside it.

    Returns:
      `(format, arrays, config_path, folder)`; see `read_weights`.
    """
    fmt, arrays, folder = read_weights(path)
    return fmt, arrays, find_config(folder), folder


# ---------------------------------------------------------------- mapping


def _ignored(name):
    return any(p.search(name) for p in IGNORED)


def _trainer_name(path, ours):
    """Our name of a trainer checkpoint's Keras path, or None.

    Keras paths start with the model that built the weight: the encoder is
    `bert` inside our pretrainer and classifier, its heads sit under the
    outer model (`bert_pretrainer/masked_lm/...`), and a bare encoder has its
    own name (`bert_model/embeddings/...`). The longest tail that is one of
    our names wins; failing that, the path is read as a bare encoder's.
    """
    pieces = path.split("/")
    for start in range(len(pieces)):
        tail = "/".join(pieces[start:])
        if tail in ours:
            return tail
    encoder = "/".join(["bert"] + pieces[1:])
    return encoder if encoder in ours else None


def _trainer_to_canonical(arrays, num_layers):
    """Trainer checkpoint `{Keras path: array}` -> `(canonical, unexpected)`; no transposes."""
    ours = {row[0] for row in _table(num_layers)}
    canonical, unexpected, sources = {}, [], {}
    for path, value in arrays.items():
        if _ignored(path):
            continue
        name = _trainer_name(path, ours)
        if name is None:
            unexpected.append(path)
        elif name in canonical:
            # Two stored variables for one weight: refuse rather than pick one.
            unexpected.append(f"{path} (also {sources[name]}, both read as {name})")
        else:
            canonical[name], sources[name] = np.asarray(value), path
    return canonical, unexpected


def to_canonical(arrays, fmt, num_layers):
    """Maps stored names to ours (transposing where needed).

    Returns `(canonical_arrays, unexpected_names)`; ignored entries are dropped.
    """
    if fmt == "trainer":
        return _trainer_to_canonical(arrays, num_layers)
    column = 1 if fmt == "google" else 2
    table = {row[column]: (row[0], row[3] if fmt == "google" else row[4])
             for row in _table(num_layers)}
    canonical, unexpected = {}, []
    for name, value in arrays.items():
        key = name if fmt == "google" else _normalise_hf_key(name)
        if _ignored(key):
            continue
        if key not in table:
            unexpected.append(name)
            continue
        ours, transposed = table[key]
        canonical[ours] = np.asarray(value).T if transposed else np.asarray(value)
    return canonical, unexpected


# ---------------------------------------------------------------- saving


def save_checkpoint(model_weights, config, folder, vocab_file=None):
    """Writes Google's layout: bert_config.json, bert_model.ckpt.*, vocab.txt.

    Files are written in a temporary folder beside `folder` and moved in when
    complete, so an interrupted save never leaves a half-written checkpoint.
    """
    google_name = {row[0]: (row[1], row[3]) for row in _table(config.num_hidden_layers)}
    with files_into_folder(folder, last=(".index",)) as tmp:
        names, tensors = [], []
        for name, weight in sorted(model_weights.items()):
            stored, transposed = google_name[name]
            value = tf.convert_to_tensor(weight)
            names.append(stored)
            tensors.append(tf.transpose(value) if transposed else value)
        tf.raw_ops.SaveV2(prefix=os.path.join(tmp, GOOGLE_CHECKPOINT), tensor_names=names,
                          shape_and_slices=[""] * len(names), tensors=tensors)
        config.to_json_file(os.path.join(tmp, GOOGLE_CONFIG))
        if vocab_file:
            shutil.copyfile(vocab_file, os.path.join(tmp, VOCAB_FILE))


# ---------------------------------------------------------------- models


class PretrainedMixin(pretrained.PretrainedMixin):
    """`tfcore.pretrained.PretrainedMixin` reading Google, HF, trainer and our folders."""

    OPTIONAL_PREFIXES = OPTIONAL_PREFIXES

    @classmethod
    def from_pretrained(cls, path, config=None, **kwargs):
        """Builds the model from a Google TF1, Hugging Face, trainer or saved checkpoint.

        Args:
          path: a folder, or a checkpoint prefix (`.../bert_model.ckpt`, a
            trainer's `.../ckpt-600`).
          config: a `BertConfig` or the path of its JSON file; default: the
            `bert_config.json` (else `config.json`) beside the checkpoint.

        Example:
            model = BertModel.from_pretrained("uncased_L-12_H-768_A-12")
            model = BertModel.from_pretrained("pretraining_output/ckpt-600",
                                              config="pretraining_output/bert_config.json")
        """
        return super().from_pretrained(path, config, **kwargs)

    @classmethod
    def _read_pretrained(cls, path, config):
        stored, folder = cls._read_pretrained_weights(path)
        if config is None:
            config = find_config(folder)
        if not isinstance(config, BertConfig):
            config = BertConfig.from_json_file(config)
        return config, stored, folder

    @classmethod
    def _read_pretrained_weights(cls, path):
        fmt, arrays, folder = read_weights(path)
        return (fmt, arrays), folder

    @classmethod
    def _to_canonical(cls, stored, config):
        fmt, arrays = stored
        canonical, unexpected = to_canonical(arrays, fmt, config.num_hidden_layers)
        return canonical, unexpected, ()

    def _remember_files(self, folder):
        vocab = os.path.join(folder, VOCAB_FILE)
        self.vocab_file = vocab if os.path.exists(vocab) else None

    _write_pretrained = staticmethod(save_checkpoint)

    def save_pretrained(self, folder, vocab_file=None):
        """Writes `bert_config.json`, `bert_model.ckpt.*` (Google names) and `vocab.txt`."""
        self._save_pretrained(folder, vocab_file or getattr(self, "vocab_file", None))
