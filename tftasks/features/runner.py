"""`run(config)`: the whole of extract_features.py after the flags.

Model files come from `tftasks.common.model_files.resolve_model_files`
(explicit flags, else the `--init_checkpoint` folder: Google TF1, Hugging
Face or ours); the encoder is `tfbert.BertModel.from_pretrained`. Batches are
padded to their longest example (padding changes no real token's vector) and
run through one `tf.function` that returns only the requested layers.
Google's layer index k is the output of transformer block k (-1 the last):
`BertModel.hidden_states(...)[1:][k]`, Hugging Face's `hidden_states[k]`
for k < 0.

Example:

    summary = run(FeaturesConfig(input_file="in.txt", output_file="out.jsonl",
                                 init_checkpoint="hf_folder"),
                  progress=lambda done, total: print(done, total))
"""

import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfbert import BertModel
from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.common.errors import ConfigError
from tftasks.common.model_files import resolve_model_files
from tftasks.features.examples import pack_examples, read_examples
from tftasks.features.output import atomic_lines, json_line

BERT_INPUTS = ("input_ids", "input_mask", "segment_ids")


def load_encoder(config):
    """`(BertModel, WordPieceEncoder, ModelFiles)` from the config's model options."""
    files = resolve_model_files(config.init_checkpoint, config.bert_config_file,
                                config.vocab_file, config.do_lower_case)
    model = BertModel.from_pretrained(config.init_checkpoint, config=files.config_file)
    encoder = WordPieceEncoder(files.vocab_file, do_lower_case=files.do_lower_case)
    return model, encoder, files


def check_lengths(features, config, model_config, config_file):
    """A packed example longer than the model's positions is a `ConfigError` (before any work).

    Only real lengths count: a --max_seq_length above max_position_embeddings
    is fine while every example fits, as batches are padded to their longest.
    """
    limit = model_config.max_position_embeddings
    for feature in features:
        if len(feature.input_ids) > limit:
            raise ConfigError(
                f"--max_seq_length={config.max_seq_length}: line {feature.unique_id + 1} of "
                f"{config.input_file} has {len(feature.input_ids)} tokens, more than the "
                f"model's max_position_embeddings={limit} ({config_file}); use "
                f"--max_seq_length={limit} or less.")


def layer_function(model, layer_indexes):
    """A `tf.function`: the BERT inputs -> float32 `[len(layer_indexes), b, s, hidden]`."""
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[{name: spec for name in BERT_INPUTS}])
    def layers(inputs):
        blocks = model.hidden_states(inputs, training=False)[1:]
        return tf.cast(tf.stack([blocks[i] for i in layer_indexes]), tf.float32)

    return layers


def padded_batch(features):
    """int32 arrays `[b, longest]` of a list of `Feature`s."""
    longest = max(len(f.input_ids) for f in features)
    arrays = {name: np.zeros((len(features), longest), np.int32) for name in BERT_INPUTS}
    for row, feature in enumerate(features):
        n = len(feature.input_ids)
        arrays["input_ids"][row, :n] = feature.input_ids
        arrays["segment_ids"][row, :n] = feature.segment_ids
        arrays["input_mask"][row, :n] = 1
    return arrays


def run(config, progress=None):
    """Writes `config.output_file`; returns a summary dict.

    Args:
      config: a `FeaturesConfig`.
      progress: optional callable `(examples done, examples in all)`: with 0
        before the first batch, then after each batch.
    Returns: `{"examples", "tokens", "truncated", "layers", "num_layers",
      "do_lower_case", "output_file", "seconds"}`.
    Raises: `ConfigError` naming the flag, `DataError` naming the input line.
    """
    config.validate()
    started = time.time()
    examples = read_examples(config.input_file)
    model, encoder, files = load_encoder(config)
    num_layers = model.config.num_hidden_layers
    config.check_layers(num_layers)
    if config.use_tpu:
        logging.warning("--use_tpu is accepted for compatibility; the vectors are computed "
                        "on this machine's devices.")
    features = pack_examples(examples, encoder, config.max_seq_length)
    check_lengths(features, config, model.config, files.config_file)
    layers = layer_function(model, config.layer_indexes)
    if progress:
        progress(0, len(features))
    with atomic_lines(config.output_file) as f:
        for start in range(0, len(features), config.batch_size):
            batch = features[start:start + config.batch_size]
            vectors = layers(padded_batch(batch)).numpy()
            for row, feature in enumerate(batch):
                f.write(json_line(feature, vectors[:, row, :len(feature.tokens)],
                                  config.layer_indexes))
            if progress:
                progress(start + len(batch), len(features))
    truncated = sum(f.truncated for f in features)
    if truncated:
        logging.warning("%d of %d examples were truncated to --max_seq_length=%d.",
                        truncated, len(features), config.max_seq_length)
    return {"examples": len(features), "tokens": sum(len(f.tokens) for f in features),
            "truncated": truncated, "layers": list(config.layer_indexes),
            "num_layers": num_layers, "do_lower_case": files.do_lower_case,
            "output_file": config.output_file, "seconds": time.time() - started}
