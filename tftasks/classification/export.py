"""Export a fine-tuned `BertClassifier` as a SavedModel that classifies raw text.

`serving_default` takes `text_a` (and `text_b` for pair tasks), `tf.string
[batch]`, tokenizes in the graph (texts longer than `max_seq_length` tokens
are truncated as in training) and returns:

- classification: `probabilities` float32 `[batch, num_labels]` (softmax),
  `label` tf.string `[batch]` (the most probable label's name) and `logits`;
- multilabel: `probabilities` (sigmoid per label) and `label`: the names
  with probability >= 0.5 joined by the label separator ("" for none);
- regression: `score` float32 `[batch]`.

Hostile text is answered, not refused: "" is `[CLS] [SEP]`; invalid UTF-8
becomes U+FFFD, which the tokenizer drops; a very long string is tokenized
whole, then truncated. `text_a` and `text_b` of different lengths raise
`InvalidArgumentError` in the caller. The model loads with only
`tensorflow` and `tensorflow_text` imported:

    import tensorflow as tf, tensorflow_text
    model = tf.saved_model.load("out/saved_model")
    out = model.signatures["serving_default"](text_a=tf.constant(["a fine film"]))
    out["label"], out["probabilities"]
"""

import tensorflow as tf

from tfcore.export import ServingModule, save_atomically, text_spec
from tftasks.common.batches import trim_padding

# Multi-label outputs name every label whose sigmoid reaches this.
MULTILABEL_THRESHOLD = 0.5


class ClassifierExport(ServingModule):
    """A BertClassifier, its tokenizer and label names behind raw-text signatures.

    Example:

        ClassifierExport(model, tokenizer, ["neg", "pos"], 128, pair=False).save("out/sm")
    """

    def __init__(self, model, tokenizer, label_names, max_seq_length, pair,
                 label_separator=","):
        super().__init__()
        limit = model.config.max_position_embeddings
        if max_seq_length > limit:
            raise ValueError(f"max_seq_length {max_seq_length} exceeds the model's "
                             f"max_position_embeddings {limit}.")
        self.model, self.tokenizer = model, tokenizer
        self.task_type = model.task_type
        self.label_names = list(label_names) or ["score"]
        self.max_seq_length, self.pair = max_seq_length, pair
        self.label_separator = label_separator

    def classify(self, text_a, text_b=None):
        """Raw text `[batch]` -> the output dict described in the module doc."""
        if text_b is not None:
            tf.debugging.assert_equal(tf.shape(text_a), tf.shape(text_b), message=(
                "text_a and text_b must have the same number of strings"))
        features = trim_padding(self.tokenizer(text_a, text_b, self.max_seq_length))
        logits = tf.cast(self.model(features, training=False), tf.float32)
        if self.task_type == "regression":
            return {"score": logits[:, 0]}
        names = tf.constant(self.label_names)
        if self.task_type == "classification":
            return {"probabilities": tf.nn.softmax(logits, axis=-1), "logits": logits,
                    "label": tf.gather(names, tf.argmax(logits, axis=-1))}
        probabilities = tf.sigmoid(logits)
        chosen = tf.ragged.boolean_mask(tf.broadcast_to(names, tf.shape(logits)),
                                        probabilities >= MULTILABEL_THRESHOLD)
        return {"probabilities": probabilities,
                "label": tf.strings.reduce_join(chosen, axis=1,
                                                separator=self.label_separator)}

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path.

        Only the signature of this task (text_a, or text_a and text_b) is
        traced: the other would cost a second trace of the whole model.
        """
        if self.pair:
            self.serve = tf.function(self.classify, input_signature=[
                text_spec("text_a"), text_spec("text_b")])
        else:
            self.serve = tf.function(lambda text_a: self.classify(text_a),
                                     input_signature=[text_spec("text_a")])
        return save_atomically(self, export_dir, signatures={"serving_default": self.serve})
