"""The embedded default's data, built in-process, and the pretraining input pipelines.

`prepare_embedded_data` runs corpus -> vocab -> train/held-out shards through
the same library functions as `python -m tfrecords.build_vocab` and
`python -m tfrecords.create_pretraining_data` (byte-identical shards). Each
model has its own shard folders and its own marker (`DONE-<model>`, written
last, holding the settings the data was built with), so BERT's and GPT's
data never stand in for each other; a marker with other settings means
rebuild.

Example:

    data = prepare_embedded_data("out/data", config, embedded_preset("bert"))
    train_fn, eval_fn = bert_datasets(config.replace(input_file=data["input_file"]))
"""

import dataclasses
import json
import os
from typing import Callable

from absl import logging

from tfcore.io import write_json_atomically

# Passes over each corpus part (Google's dupe_factor) of the BERT shards.
_BERT_DUPE_FACTORS = (("train", 5), ("heldout", 1))


@dataclasses.dataclass(frozen=True)
class _Layout:
    """How a model's embedded data lies under `output_dir/data`.

    vocab_name: the vocab file; in the train shard folder when
      `vocab_in_train_folder` (GPT: the writer learns it), else beside the
      shard folders (BERT: built first). pattern: the record files of a shard
      folder. masked_lm: the shards depend on max_predictions_per_seq and the
      vocab size. build: `(corpus paths, vocab, shard folders, config, preset)`.
    """

    vocab_name: str
    vocab_in_train_folder: bool
    pattern: str
    masked_lm: bool
    build: Callable


def data_settings(config, preset):
    """What shapes the embedded data (the marker's content, in this key order)."""
    settings = {"model": config.model, "max_seq_length": config.max_seq_length,
                "seed": config.seed}
    if _LAYOUTS[config.model].masked_lm:
        settings.update(max_predictions_per_seq=config.max_predictions_per_seq,
                        vocab_size=preset.vocab_size)
    return settings


def is_data_ready(marker, settings):
    """True when `marker` exists and records exactly `settings`."""
    try:
        with open(marker, encoding="utf-8") as f:
            return json.load(f) == settings
    except (OSError, ValueError):
        return False


def prepare_embedded_data(folder, config, preset, notify=logging.info):
    """Corpus -> vocab -> train/held-out shards under `folder`; reused when complete.

    `notify(line)` tells the user the data is being built. Returns
    `{"vocab_file", "input_file", "eval_input_file"}` (file patterns).
    """
    from tfrecords import stdlib_corpus
    layout = _LAYOUTS[config.model]
    train, heldout = (os.path.join(folder, name) for name in preset.shard_folders)
    vocab = os.path.join(train if layout.vocab_in_train_folder else folder, layout.vocab_name)
    marker, settings = os.path.join(folder, f"DONE-{config.model}"), data_settings(config, preset)
    if not is_data_ready(marker, settings):
        notify(f"Embedded default: building a corpus, vocab and {config.model.upper()} shards "
               f"under {folder}")
        corpus = stdlib_corpus.write_corpus(os.path.join(folder, "corpus"))
        shards = {"train": train, "heldout": heldout}
        layout.build(corpus["paths"], vocab, shards, config, preset)
        write_json_atomically(marker, settings)
    return {"vocab_file": vocab, "input_file": os.path.join(train, layout.pattern),
            "eval_input_file": os.path.join(heldout, layout.pattern)}


def _build_bert_data(paths, vocab, shards, config, preset):
    """WordPiece vocab of the train corpus, then masked-LM + NSP shards (train: 5 passes)."""
    from tfrecords.build_vocab import build_vocab
    from tfrecords.writer import WriterConfig, write_pretraining_data
    build_vocab(paths["train"], vocab, vocab_size=preset.vocab_size)
    for name, dupe in _BERT_DUPE_FACTORS:
        write_pretraining_data(WriterConfig(
            input_file=paths[name], vocab_file=vocab, output_dir=shards[name],
            dupe_factor=dupe, max_predictions_per_seq=config.max_predictions_per_seq,
            num_shards=2, max_seq_length=config.max_seq_length, random_seed=config.seed))


def _build_gpt_data(paths, vocab, shards, config, preset):
    """Character-level GPT shards: the train pass learns the vocab, held-out reads it."""
    from tfrecords.writer import WriterConfig, write_pretraining_data
    del preset
    common = dict(num_shards=2, max_seq_length=config.max_seq_length, random_seed=config.seed,
                  model="gpt", tokenizer="char")
    write_pretraining_data(WriterConfig(input_file=paths["train"], output_dir=shards["train"],
                                        **common))
    write_pretraining_data(WriterConfig(input_file=paths["heldout"], vocab_file=vocab,
                                        output_dir=shards["heldout"], **common))


_LAYOUTS = {"bert": _Layout("vocab.txt", False, "*", True, _build_bert_data),
            "gpt": _Layout("vocab.json", True, "*.tfrecord", False, _build_gpt_data)}


def bert_datasets(config):
    """`(train_fn, eval_fn)`: `input_context -> tf.data.Dataset` of BERT feature dicts.

    Features (Google's): input_ids, input_mask, segment_ids `[batch, max_seq_length]`,
    masked_lm_positions/ids/weights `[batch, max_predictions_per_seq]`,
    next_sentence_labels `[batch, 1]`.
    """
    from tfrecords.reader import bert_pretraining_dataset, list_files
    eval_pattern = config.eval_input_file or config.input_file

    def train_fn(context):
        mine = list_files(config.input_file)[context.input_pipeline_id::
                                             context.num_input_pipelines]
        logging.info("Input pipeline %d of %d reads training files: %s",
                     context.input_pipeline_id, context.num_input_pipelines, " ".join(mine))
        # The reader divides the global batch among replicas (and their files
        # among workers); a replica's batch holds grad_accum_steps micro-batches.
        return bert_pretraining_dataset(
            config.input_file, config.train_batch_size * config.grad_accum_steps,
            config.max_seq_length, config.max_predictions_per_seq, is_training=True,
            input_context=context, deterministic=config.deterministic, seed=config.seed,
            skip_corrupt=config.skip_corrupt_records)

    def eval_fn(context):
        # Every worker reads the whole held-out set: workers then run the same
        # number of steps (collectives need that), and the all-reduced sums
        # count each example once per worker, which leaves the ratios exact.
        batch = max(1, config.eval_batch_size // context.num_replicas_in_sync)
        return bert_pretraining_dataset(
            eval_pattern, batch, config.max_seq_length, config.max_predictions_per_seq,
            is_training=False, deterministic=True, skip_corrupt=config.skip_corrupt_records)

    return train_fn, eval_fn


def gpt_datasets(config):
    """`(train_fn, eval_fn)` of `{"token_ids": [batch, max_seq_length + 1]}`."""
    from tfrecords.reader import gpt_dataset
    eval_pattern = config.eval_input_file or config.input_file

    def train_fn(context):
        return gpt_dataset(config.input_file, config.train_batch_size * config.grad_accum_steps,
                           config.max_seq_length, is_training=True, input_context=context,
                           deterministic=config.deterministic, seed=config.seed,
                           skip_corrupt=config.skip_corrupt_records, split_targets=False)

    def eval_fn(context):
        batch = max(1, config.eval_batch_size // context.num_replicas_in_sync)
        return gpt_dataset(eval_pattern, batch, config.max_seq_length, is_training=False,
                           deterministic=True, skip_corrupt=config.skip_corrupt_records,
                           split_targets=False)

    return train_fn, eval_fn
