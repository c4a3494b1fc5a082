"""Export a BERT encoder as a SavedModel that embeds raw text.

    python -m tfbert.export_encoder --model_dir=PATH --output_dir=OUT [--max_seq_length=256]
        [--weights_dtype=float32|bfloat16]

`--weights_dtype` is the dtype of the exported weights, which the SavedModel
also computes in (`--dtype`, accepted as an alias, names it as older
commands did; in the run scripts `--dtype` is a mixed-precision policy).

`--model_dir` is any folder `BertModel.from_pretrained` reads (Google TF1,
Hugging Face, ours) with its `vocab.txt`. The SavedModel has two signatures:

- `serving_default(text: tf.string [batch])` ->
  `{"embedding": [batch, hidden]}` (mean of the token vectors over the
  attention mask, L2-normalised: sentence-transformers' pooling for models
  such as all-MiniLM-L6-v2), plus `pooled_output` and `sequence_output`.
  The tokenizer runs in the graph; longer texts are truncated to
  `max_seq_length` tokens.
- `encode(input_ids, segment_ids, input_mask)` (int32 `[batch, seq]`) ->
  `{"sequence_output", "pooled_output"}`. Hostile ids are an
  `InvalidArgumentError` naming the input, on every device (a GPU gather would
  read zeros for an id out of range): the three must have one shape with at
  least one position; `input_ids` in `[0, vocab_size)`, `segment_ids` in
  `[0, type_vocab_size)`, `input_mask` 0 or 1, `seq <= max_position_embeddings`.

The object itself is a TF Hub reusable SavedModel, as TF Hub's BERT encoders
are: `__call__(inputs, training=False)` takes TF Hub's input names
(`input_word_ids`, `input_mask`, `input_type_ids`, int32 `[batch, seq]`) and
returns `sequence_output`, `pooled_output` and `default` (= pooled); it has
`variables`, `trainable_variables` and `regularization_losses`. So
`hub.KerasLayer(OUT, trainable=True)` fine-tunes it in tf_keras code and
`keras.layers.TFSMLayer(OUT, call_endpoint="serving_default")` serves it in
Keras 3 code. `PreprocessorExport` (`--preprocessor_dir`) writes the matching
text -> inputs model, as TF Hub pairs each BERT encoder with a preprocessor.

It loads with only `tensorflow` and `tensorflow_text` imported:

    import tensorflow as tf, tensorflow_text
    model = tf.saved_model.load("OUT")
    model.signatures["serving_default"](text=tf.constant(["hello world"]))["embedding"]
"""

import os

import tensorflow as tf
from absl import app, flags, logging

from tfbert.model import BertModel
from tfbert.tokenization import BertTokenizer
from tfcore.export import (ServingModule, check_max_seq_length, ids_spec,
                           save_atomically, text_spec)

# sentence-transformers' max_seq_length for all-MiniLM-L6-v2.
DEFAULT_MAX_SEQ_LENGTH = 256
# TF Hub's BERT encoder input names -> ours (Google's feature names).
HUB_INPUT_NAMES = {"input_word_ids": "input_ids", "input_type_ids": "segment_ids",
                   "input_mask": "input_mask"}


def mean_pool(sequence_output, input_mask, normalize=True):
    """Mean over real tokens: `[b, s, h], [b, s] -> [b, h]`, optionally L2-normalised."""
    mask = tf.cast(input_mask, sequence_output.dtype)[..., None]
    summed = tf.reduce_sum(sequence_output * mask, axis=1)
    pooled = summed / tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)
    return tf.math.l2_normalize(pooled, axis=-1, epsilon=1e-12) if normalize else pooled


class EncoderExport(ServingModule):
    """A BertModel and its tokenizer with raw-text and token-id entry points."""

    def __init__(self, model, tokenizer, max_seq_length=DEFAULT_MAX_SEQ_LENGTH,
                 normalize=True):
        super().__init__()
        check_max_seq_length(max_seq_length, model.config)
        self.model, self.tokenizer = model, tokenizer
        self.max_seq_length, self.normalize = max_seq_length, normalize

    def _encode(self, features):
        outputs = self.model(features, training=False)
        return {k: tf.cast(v, tf.float32) for k, v in outputs.items()}

    @tf.function(input_signature=[text_spec()])
    def serve_text(self, text):
        features = self.tokenizer(text, max_seq_length=self.max_seq_length)
        outputs = self._encode(features)
        outputs["embedding"] = mean_pool(outputs["sequence_output"], features["input_mask"],
                                         self.normalize)
        return outputs

    def _checked(self, input_ids, segment_ids, input_mask):
        """The three inputs, behind assertions that name what is wrong."""
        config = self.model.config
        shape = tf.shape(input_ids)
        in_range = lambda ids, name, key: [
            tf.debugging.assert_non_negative(ids, message=f"{name}: negative id"),
            tf.debugging.assert_less(ids, getattr(config, key), message=(
                f"{name}: id >= {key} {getattr(config, key)}"))]
        mask_ok = tf.logical_or(tf.equal(input_mask, 0), tf.equal(input_mask, 1))
        checks = [
            tf.debugging.assert_equal(tf.shape(segment_ids), shape, message=(
                "segment_ids must have the shape of input_ids")),
            tf.debugging.assert_equal(tf.shape(input_mask), shape, message=(
                "input_mask must have the shape of input_ids")),
            tf.debugging.assert_positive(shape[1], message=(
                "input_ids need at least one position (the [CLS] token)")),
            tf.debugging.assert_equal(tf.reduce_all(mask_ok), True, message=(
                "input_mask values must be 0 (padding) or 1 (token)")),
            *in_range(input_ids, "input_ids", "vocab_size"),
            *in_range(segment_ids, "segment_ids", "type_vocab_size")]
        with tf.control_dependencies(checks):
            return {"input_ids": tf.identity(input_ids),
                    "segment_ids": tf.identity(segment_ids),
                    "input_mask": tf.identity(input_mask)}

    @tf.function(input_signature=[ids_spec("input_ids"), ids_spec("segment_ids"),
                                  ids_spec("input_mask")])
    def encode(self, input_ids, segment_ids, input_mask):
        return self._encode(self._checked(input_ids, segment_ids, input_mask))

    @tf.function
    def __call__(self, inputs, training=False):
        """TF Hub's reusable encoder call: a dict of TF Hub input names -> outputs.

        `inputs`: int32 `[batch, seq]` "input_word_ids", "input_mask",
        "input_type_ids". Returns float32 "sequence_output" `[batch, seq,
        hidden]`, "pooled_output" and "default" `[batch, hidden]`. `training`
        turns dropout on (fine-tuning through `hub.KerasLayer(trainable=True)`).
        """
        features = {ours: inputs[hub] for hub, ours in HUB_INPUT_NAMES.items()}
        outputs = self.model(features, training=training)
        outputs = {k: tf.cast(v, tf.float32) for k, v in outputs.items()}
        outputs["default"] = outputs["pooled_output"]
        return outputs

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path."""
        hub_inputs = {name: ids_spec(name) for name in HUB_INPUT_NAMES}
        for training in (False, True):
            self.__call__.get_concrete_function(hub_inputs, training=training)
        return save_atomically(self, export_dir, signatures={
            "serving_default": self.serve_text, "encode": self.encode})


class PreprocessorExport(ServingModule):
    """Raw text -> TF Hub's encoder inputs: the preprocessing half of a TF Hub BERT pair.

    `__call__(text: tf.string [batch])` (also the `serving_default` signature)
    returns int32 `[batch, max_seq_length]` "input_word_ids", "input_mask" and
    "input_type_ids" (`[CLS] text [SEP]`, padded), ready for the encoder's
    `__call__` or `hub.KerasLayer`:

        preprocess = hub.KerasLayer("preprocessor")
        encoder = hub.KerasLayer("encoder", trainable=True)
        pooled = encoder(preprocess(text))["pooled_output"]
    """

    def __init__(self, tokenizer, max_seq_length=128):
        super().__init__()
        self.tokenizer, self.max_seq_length = tokenizer, max_seq_length

    @tf.function(input_signature=[text_spec()])
    def __call__(self, text):
        features = self.tokenizer(text, max_seq_length=self.max_seq_length)
        return {hub: tf.cast(features[ours], tf.int32) for hub, ours in HUB_INPUT_NAMES.items()}

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path."""
        return save_atomically(self, export_dir, signatures={"serving_default": self.__call__})


FLAGS = flags.FLAGS


def define_flags():
    """CLI flags, defined only when run as a script (the module is also a library)."""
    flags.DEFINE_string("model_dir", None, "Checkpoint folder (Google TF1, Hugging Face or ours).")
    flags.DEFINE_string("output_dir", None, "Where to write the SavedModel.")
    flags.DEFINE_string("vocab_file", None, "Defaults to model_dir/vocab.txt.")
    flags.DEFINE_bool("do_lower_case", True, "Lower-case and strip accents (uncased models).")
    flags.DEFINE_integer("max_seq_length", DEFAULT_MAX_SEQ_LENGTH,
                         "Tokens per text, [CLS]/[SEP] included.")
    flags.DEFINE_bool("normalize", True, "L2-normalise the mean-pooled embedding.")
    flags.DEFINE_enum("weights_dtype", "float32", ["float32", "bfloat16"],
                      "dtype of the exported weights (and so of its compute; not a mixed "
                      "policy). bfloat16 halves the weights and served BERT-base ~1.4x "
                      "faster on this CPU (avx512_bf16; bench/RESULTS.md), at bf16 rounding "
                      "of the embeddings.")
    # The run scripts' --dtype is a compute policy; here it was the weights' dtype.
    flags.DEFINE_alias("dtype", "weights_dtype")
    flags.DEFINE_string("preprocessor_dir", None, "Also write the matching TF Hub "
                        "preprocessor (text -> input_word_ids, input_mask, input_type_ids).")


def check_flags(argv):
    """Usage errors before any model is read."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    for name in ("model_dir", "output_dir"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required.")
    if not os.path.exists(FLAGS.model_dir):
        raise app.UsageError(f"--model_dir={FLAGS.model_dir}: no such folder or checkpoint.")
    if FLAGS.max_seq_length < 3:
        raise app.UsageError(f"--max_seq_length must be >= 3 ([CLS] text [SEP]), got "
                             f"{FLAGS.max_seq_length}.")
    if FLAGS.vocab_file and not os.path.isfile(FLAGS.vocab_file):
        raise app.UsageError(f"--vocab_file={FLAGS.vocab_file}: no such file.")


def main(argv):
    """Checks the flags, then writes the encoder (and the preprocessor) SavedModels."""
    check_flags(argv)
    try:
        model = BertModel.from_pretrained(FLAGS.model_dir, dtype=FLAGS.weights_dtype)
    except FileNotFoundError as e:
        raise app.UsageError(f"--model_dir={FLAGS.model_dir}: {e}") from None
    vocab_file = FLAGS.vocab_file or model.vocab_file
    if not vocab_file:
        raise app.UsageError(f"No vocab.txt in {FLAGS.model_dir}: pass --vocab_file.")
    tokenizer = BertTokenizer(vocab_file, do_lower_case=FLAGS.do_lower_case)
    path = EncoderExport(model, tokenizer, FLAGS.max_seq_length, FLAGS.normalize).save(
        FLAGS.output_dir)
    logging.info("Wrote %s", path)
    print(f"SavedModel with signatures serving_default(text) and encode(ids): {path}")
    if FLAGS.preprocessor_dir:
        path = PreprocessorExport(tokenizer, FLAGS.max_seq_length).save(FLAGS.preprocessor_dir)
        print(f"TF Hub preprocessor (text -> input_word_ids, input_mask, input_type_ids): "
              f"{path}")


if __name__ == "__main__":
    from tfcore.cli import run_main
    define_flags()
    run_main(main)
