"""tf.data input of classification: texts (and labels) -> batches of BERT features.

Text is tokenized in the graph by `BertTokenizer` inside `tf.data`, a batch
at a time, then trimmed to the longest row of the batch
(`tftasks.common.batches.trim_padding`).

Example:

    dataset = make_dataset(tokenizer, examples.text_a, examples.text_b,
                           labels.encode(examples), max_seq_length=128, batch_size=32)
"""

import tensorflow as tf

from tftasks.common.batches import trim_padding


def make_dataset(tokenizer, text_a, text_b, labels, max_seq_length, batch_size,
                 is_training=False, input_context=None, seed=None):
    """Texts (and labels) -> batches of model features.

    Args:
      tokenizer: a `BertTokenizer`.
      text_a, text_b: lists of str (`text_b` may be None).
      labels: None, int32 `[n]`, float32 `[n]` or float32 `[n, k]`.
      batch_size: examples per batch (per replica under a strategy).
      is_training: shuffle (seeded), repeat, drop the last partial batch.
      input_context: a `tf.distribute.InputContext`: shard by input pipeline.

    Returns:
      `tf.data.Dataset` of dicts: "input_ids", "segment_ids", "input_mask"
      int32 `[batch, s <= max_seq_length]` and "label_ids" when labelled.
    """
    columns = {"text_a": tf.constant(text_a, tf.string)}
    if text_b is not None:
        columns["text_b"] = tf.constant(text_b, tf.string)
    if labels is not None:
        columns["label_ids"] = tf.constant(labels)
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines,
                                input_context.input_pipeline_id)
    if is_training:
        dataset = dataset.shuffle(len(text_a), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=is_training)

    def featurize(batch):
        features = tokenizer(batch["text_a"], batch.get("text_b"), max_seq_length)
        features = trim_padding(features)
        if "label_ids" in batch:
            features["label_ids"] = batch["label_ids"]
        return features

    dataset = dataset.map(featurize, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
