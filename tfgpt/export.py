"""Export a GPT language model as a SavedModel that writes text from text.

    python -m tfgpt.export --checkpoint_dir=FOLDER --output_dir=OUT [--sampler=top_k --top_k=50]

Signatures (tokenizer, decode loop and detokenizer are all in the graph; it
loads with only `tensorflow` and `tensorflow_text` imported):

- `serving_default(prompt: tf.string [batch], max_new_tokens: int32 [],
  temperature: float32 [], seed: int32 [])` ->
  `{"text": prompt + completion, "completion": the new text}` (tf.string
  `[batch]`; the end token is not written) and `"new_tokens"` (int32
  `[batch]`: tokens generated, an end token included). The sampler is fixed at export
  (default top-k, k=50); `temperature <= 0` (or NaN) decodes greedily.
- `logits(token_ids: int32 [batch, seq])` -> `{"logits": float32 [batch, seq, vocab]}`.

The decode loop runs as a plain graph by default (any request shape, no
compilation); `--jit_compile` exports the XLA loop, faster per token but
compiled at serving time for each new (batch, prompt width, max_new_tokens).

Hostile input, by design (tests/tfgpt/test_export.py):
- `max_new_tokens` is clamped to `[0, window - 1]` (window = max_position_embeddings);
- a prompt longer than `window - max_new_tokens` tokens keeps its LAST
  tokens (left truncation); `text` still starts with the whole prompt;
- an empty prompt is continued from the end-of-text token;
- bytes that are not UTF-8 become U+FFFD in `text` and in what the model sees;
- in `logits`, ids outside the vocabulary or more than `window` positions
  are an InvalidArgumentError naming the problem.

    import tensorflow as tf, tensorflow_text
    model = tf.saved_model.load("OUT")
    out = model.signatures["serving_default"](prompt=tf.constant(["ROMEO:"]),
        max_new_tokens=tf.constant(50), temperature=tf.constant(0.8), seed=tf.constant(1))
"""

import os

import tensorflow as tf
from absl import app, flags, logging

from tfcore.export import ServingModule, ids_spec, save_atomically, text_spec
from tfgpt.decoding import decode_loop
from tfcore.samplers import get_sampler

DEFAULT_SAMPLER, DEFAULT_TOP_K = "top_k", 50


def keep_last(ids, keep):
    """RaggedTensor `[b, (n)]` -> the last `min(n, keep)` ids of each row."""
    lengths = ids.row_lengths()
    starts = ids.row_starts() + tf.maximum(lengths - tf.cast(keep, lengths.dtype), 0)
    positions = tf.ragged.range(starts, ids.row_limits())
    return positions.with_flat_values(tf.gather(ids.flat_values, positions.flat_values))


def new_tokens(tokens, lengths, counts, end_token_id):
    """Each row's generated ids `tokens[i, lengths[i]: lengths[i] + counts[i]]`, minus an end token."""
    last = tf.gather(tokens, tf.maximum(lengths + counts - 1, 0), batch_dims=1)
    counts -= tf.cast(tf.logical_and(counts > 0, tf.equal(last, end_token_id)), counts.dtype)
    columns = tf.ragged.range(lengths, lengths + counts)
    return columns.with_flat_values(tf.gather(
        tf.reshape(tokens, [-1]),
        columns.flat_values + tf.cast(columns.value_rowids(), tf.int32) * tf.shape(tokens)[1]))


class GeneratorExport(ServingModule):
    """A GPTLanguageModel with its tokenizer: text in, text out (see module doc).

    Example:

        GeneratorExport(lm, load_tokenizer(folder)).save("out/saved_model")
    """

    def __init__(self, lm, tokenizer, sampler=DEFAULT_SAMPLER, jit_compile=False,
                 **sampler_kwargs):
        super().__init__()
        if sampler == DEFAULT_SAMPLER and not sampler_kwargs:
            sampler_kwargs = {"k": DEFAULT_TOP_K}
        self.lm, self.tokenizer = lm, tokenizer
        self.sampler = get_sampler(sampler, **sampler_kwargs)
        config = lm.config
        self.window = config.max_position_embeddings
        end = tokenizer.end_token_id
        self.end_token_id = config.eos_token_id if end is None else end
        self.pad_token_id = config.pad_token_id
        # An empty prompt starts from the end token, or from the pad id where the
        # end id lies outside the vocabulary (HF's default 50256 in a small model).
        end_in_vocab = self.end_token_id is not None and config.in_vocab(self.end_token_id)
        self.start_token_id = self.end_token_id if end_in_vocab else config.pad_token_id
        # XLA: faster decoding, but compiled at serving time for each new (batch,
        # prompt width, max_new_tokens); the plain graph runs any shape at once.
        self.jit_compile = bool(jit_compile)
        self.xla_decode = tf.function(self._decode, jit_compile=True)

    def _decode(self, ids, lengths, max_new_tokens, temperature, seed):
        return decode_loop(
            self.lm, ids, lengths, max_new_tokens, self.sampler, temperature, seed,
            tf.constant(self.end_token_id, tf.int32), tf.constant(self.pad_token_id, tf.int32))

    def _prompts(self, prompt, max_new_tokens):
        """Tokenize, give empty prompts the end token, keep what fits the window."""
        ids = self.tokenizer.tokenize(prompt)
        empty = tf.equal(ids.row_lengths(), 0)
        start = tf.ragged.boolean_mask(
            tf.fill([tf.shape(empty)[0], 1], tf.constant(self.start_token_id, tf.int32)),
            empty[:, None])
        ids = keep_last(tf.concat([start, ids], axis=1), self.window - max_new_tokens)
        return ids.to_tensor(default_value=self.pad_token_id), tf.cast(ids.row_lengths(), tf.int32)

    @tf.function(input_signature=[
        text_spec("prompt"), tf.TensorSpec([], tf.int32, name="max_new_tokens"),
        tf.TensorSpec([], tf.float32, name="temperature"), tf.TensorSpec([], tf.int32, name="seed")])
    def serve(self, prompt, max_new_tokens, temperature, seed):
        max_new_tokens = tf.clip_by_value(max_new_tokens, 0, self.window - 1)
        clean = tf.strings.unicode_transcode(prompt, "UTF-8", "UTF-8", errors="replace",
                                             replacement_char=0xFFFD)
        ids, lengths = self._prompts(clean, max_new_tokens)
        decode = self.xla_decode if self.jit_compile else self._decode
        tokens, counts = decode(ids, lengths, max_new_tokens, temperature, seed)
        completion = self.tokenizer.detokenize(
            new_tokens(tokens, lengths, counts, self.end_token_id))
        return {"text": tf.strings.join([clean, completion]), "completion": completion,
                "new_tokens": counts}

    @tf.function(input_signature=[ids_spec("token_ids")])
    def logits(self, token_ids):
        # The length is checked here too: the model's own check does not hold
        # back the position-table add, which may fail first ("Incompatible shapes").
        checks = [tf.debugging.assert_less(token_ids, self.lm.config.vocab_size,
                                           message="token id >= vocab_size"),
                  tf.debugging.assert_non_negative(token_ids, message="negative token id"),
                  tf.debugging.assert_less_equal(
                      tf.shape(token_ids)[1], self.window,
                      message=f"input length exceeds max_position_embeddings {self.window}")]
        with tf.control_dependencies(checks):
            token_ids = tf.identity(token_ids)
        logits = self.lm({"token_ids": token_ids}, training=False)
        # Spelled out: for an empty batch or sequence the model's reshape infers
        # a wrong vocabulary axis (its -1 has no elements to divide).
        shape = tf.concat([tf.shape(token_ids), [self.lm.config.vocab_size]], 0)
        return {"logits": tf.reshape(tf.cast(logits, tf.float32), shape)}

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path."""
        return save_atomically(self, export_dir, signatures={
            "serving_default": self.serve, "logits": self.logits})


FLAGS = flags.FLAGS


def define_flags():
    """Defines this script's flags (only when run as a script: no clash with others)."""
    flags.DEFINE_string("checkpoint_dir", None, "GPT folder: config.json, model.safetensors, "
                        "vocab.json (+ merges.txt for BPE).")
    flags.DEFINE_string("output_dir", None, "Where to write the SavedModel.")
    flags.DEFINE_string("sampler", DEFAULT_SAMPLER, "greedy, random, top_k or top_p.")
    flags.DEFINE_integer("top_k", DEFAULT_TOP_K, "k of --sampler=top_k.")
    flags.DEFINE_float("top_p", 0.9, "p of --sampler=top_p.")
    flags.DEFINE_bool("jit_compile", False, "XLA decode loop (compiled per request shape).")


def export_checkpoint(checkpoint_dir, output_dir, sampler=DEFAULT_SAMPLER, jit_compile=False,
                      **sampler_kwargs):
    """`from_pretrained(checkpoint_dir)` + its tokenizer -> SavedModel at `output_dir`."""
    from tfgpt.model import GPTLanguageModel
    from tfgpt.tokenization import load_tokenizer
    lm = GPTLanguageModel.from_pretrained(checkpoint_dir)
    return GeneratorExport(lm, load_tokenizer(checkpoint_dir), sampler, jit_compile,
                           **sampler_kwargs).save(output_dir)


def main(argv):
    """Checks the flags, then writes the SavedModel."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    for name in ("checkpoint_dir", "output_dir"):
        if not FLAGS[name].value:
            raise app.UsageError(f"--{name} is required.")
    if not os.path.exists(os.path.join(FLAGS.checkpoint_dir, "config.json")):
        raise app.UsageError(
            f"--checkpoint_dir={FLAGS.checkpoint_dir} has no config.json: expected a GPT "
            "folder with config.json, model.safetensors and vocab.json (+ merges.txt), such "
            "as the gpt_output of run_pretraining.py --model=gpt.")
    kwargs = {"top_k": {"k": FLAGS.top_k}, "top_p": {"p": FLAGS.top_p}}.get(FLAGS.sampler, {})
    path = export_checkpoint(FLAGS.checkpoint_dir, FLAGS.output_dir, FLAGS.sampler,
                             FLAGS.jit_compile, **kwargs)
    logging.info("Wrote %s", path)
    print(f"SavedModel with signatures serving_default(prompt, max_new_tokens, temperature, "
          f"seed) and logits(token_ids): {path}")


if __name__ == "__main__":
    from tfcore.cli import run_main
    define_flags()
    run_main(main)
