"""tf.data input, training task and prediction loop of `run_classifier.py`.

Text is tokenized in the graph by `BertTokenizer` inside `tf.data`, a batch
at a time, then trimmed to the longest row of the batch (rounded up to a
multiple of `PAD_MULTIPLE`): padding positions are masked, so trimming does
not change the outputs, only the time (SST-2 phrases average 13 tokens, a
batch of 32 about 40, against `--max_seq_length=64`).

Example:

    dataset = make_dataset(tokenizer, examples.text_a, examples.text_b,
                           labels.encode(examples), max_seq_length=128, batch_size=32)
    logits = predict_logits(model, dataset)            # float32 [n, num_labels]
"""

import weakref

import numpy as np
import tensorflow as tf

from tfbert.model import BERT_INPUT_NAMES

# Trimmed lengths are multiples of this: few distinct shapes (one XLA
# compilation each with --jit_compile) and vector-friendly sizes.
PAD_MULTIPLE = 8


def trim_padding(features, multiple=PAD_MULTIPLE):
    """Cuts `[b, s]` features to `[b, s']`, s' = longest row rounded up to `multiple`."""
    full = tf.shape(features["input_ids"])[1]
    longest = tf.reduce_max(tf.reduce_sum(features["input_mask"], axis=1))
    length = tf.minimum(full, tf.maximum((longest + multiple - 1) // multiple * multiple, 1))
    return {k: v[:, :length] for k, v in features.items()}


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


def model_inputs(batch):
    """The model's three token features from a batch dict."""
    return {k: batch[k] for k in BERT_INPUT_NAMES}


class ClassifierTask:
    """Loss and metrics of `BertClassifier` as sums over a batch (`tfcore.training`).

    classification: cross-entropy of `label_ids` (int32 `[b]`) and accuracy;
    multilabel: binary cross-entropy averaged over labels (float32 `[b, k]`)
    and per-label accuracy; regression: squared error of the score (float32 `[b]`).
    Each is divided by the number of examples of the global batch.

    Example:

        trainer = Trainer(classifier, optimizer, ClassifierTask("classification"))
    """

    def __init__(self, task_type):
        self.task_type = task_type
        self.loss_names = {"classification": ("cross_entropy",),
                           "multilabel": ("binary_cross_entropy",),
                           "regression": ("mean_squared_error",)}[task_type]

    def denominators(self, batch):
        examples = tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)
        names = self.loss_names + (() if self.task_type == "regression" else ("accuracy",))
        return {name: examples for name in names}

    def numerators(self, model, batch, training):
        logits = tf.cast(model(model_inputs(batch), training=training), tf.float32)
        labels = batch["label_ids"]
        if self.task_type == "regression":
            error = logits[:, 0] - tf.cast(labels, tf.float32)
            return {"mean_squared_error": tf.reduce_sum(tf.square(error))}
        if self.task_type == "multilabel":
            labels = tf.cast(labels, tf.float32)
            bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
            hits = tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), labels), tf.float32)
            return {"binary_cross_entropy": tf.reduce_sum(tf.reduce_mean(bce, axis=1)),
                    "accuracy": tf.reduce_sum(tf.reduce_mean(hits, axis=1))}
        labels = tf.cast(labels, tf.int32)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels)
        return {"cross_entropy": tf.reduce_sum(ce),
                "accuracy": tf.reduce_sum(tf.cast(hits, tf.float32))}


# One traced inference function per model (weakly held), reused by every evaluation.
_FORWARD = weakref.WeakKeyDictionary()


def _forward_function(model):
    if model not in _FORWARD:
        spec = {k: tf.TensorSpec([None, None], tf.int32) for k in BERT_INPUT_NAMES}
        _FORWARD[model] = tf.function(
            lambda features: tf.cast(model(features, training=False), tf.float32),
            input_signature=[spec])
    return _FORWARD[model]


def predict_logits(model, dataset):
    """Runs `model` (inference mode) over a finite dataset: float32 `[n, num_labels]`."""
    forward = _forward_function(model)
    outputs = [forward(model_inputs(batch)).numpy() for batch in dataset]
    if not outputs:
        return np.zeros([0, model.num_labels], np.float32)
    return np.concatenate(outputs, axis=0)
