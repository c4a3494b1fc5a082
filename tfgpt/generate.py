r"""Generate text from a prompt, streaming tokens to stdout as they come.

    python -m tfgpt.generate --checkpoint_dir=FOLDER --prompt "ROMEO:" \
        --max_new_tokens=100 --sampler=top_k --top_k=50 --temperature=0.8 --seed=1
    python -m tfgpt.generate --saved_model=EXPORT --prompt "ROMEO:" --max_new_tokens=100

`--checkpoint_dir` is a folder `GPTLanguageModel.from_pretrained` reads: a Hugging
Face GPT-2 folder, one written by `save_pretrained`, or the output folder of
`run_pretraining.py --model=gpt` (default `gpt_output`); it needs config.json,
model.safetensors (or pytorch_model.bin) and the tokenizer files (vocab.json +
merges.txt, or a character vocab.json). A SavedModel folder goes to `--saved_model`. Each token is written the
moment it is chosen (a character split over two tokens appears with its last byte;
invalid UTF-8 becomes U+FFFD, as in the SavedModel). With `--saved_model` (an export of `tfgpt.export`) the
whole continuation comes from one call of its `serving_default` signature, with
the sampler chosen at export, and is printed when that call returns.

With a checkpoint, a prompt too long for the window keeps its last
`max_position_embeddings - max_new_tokens` tokens (as the SavedModel does); an
empty prompt starts from the end-of-text token.
"""

import codecs
import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags():
    """Defines this script's flags (only when run as a script: no clash with others)."""
    flags.DEFINE_string("checkpoint_dir", None, "GPT folder: config.json, model.safetensors, "
                        "vocab.json (+ merges.txt), e.g. run_pretraining.py's gpt_output.")
    flags.DEFINE_string("saved_model", None, "A SavedModel written by tfgpt.export or "
                        "run_pretraining.py (its saved_model/).")
    flags.DEFINE_string("prompt", "", "Text to continue.")
    flags.DEFINE_integer("max_new_tokens", 100, "Tokens to generate.")
    flags.DEFINE_enum("sampler", "top_k", ["greedy", "random", "top_k", "top_p"],
                      "Sampler (checkpoint only; a SavedModel has its own).")
    flags.DEFINE_integer("top_k", 50, "k of --sampler=top_k.")
    flags.DEFINE_float("top_p", 0.9, "p of --sampler=top_p.")
    flags.DEFINE_float("temperature", 1.0, "Softmax temperature (<= 0: greedy).")
    flags.DEFINE_integer("seed", None, "Seed for reproducible sampling.")


def sampler_kwargs(sampler, top_k=50, top_p=0.9):
    return {"top_k": {"k": top_k}, "top_p": {"p": top_p}}.get(sampler, {})


def run_checkpoint(out, checkpoint_dir, prompt, max_new_tokens=100, sampler="top_k",
                   temperature=1.0, seed=None, **kwargs):
    """Streams `prompt` and its continuation to the binary stream `out`, token by token."""
    from tfgpt.model import GPTLanguageModel
    from tfgpt.streaming import stream
    from tfgpt.tokenization import load_tokenizer
    lm = GPTLanguageModel.from_pretrained(checkpoint_dir)
    tokenizer = load_tokenizer(checkpoint_dir)
    end = tokenizer.end_token_id
    end = lm.config.eos_token_id if end is None else end
    window = lm.config.max_position_embeddings
    new = min(max(max_new_tokens, 0), window - 1)
    # An end id outside the vocabulary (HF's default 50256 in a small model) cannot
    # start a prompt: the (always valid) pad id does.
    start = end if end is not None and lm.config.in_vocab(end) else lm.config.pad_token_id
    ids = tokenizer.tokenize([prompt]).to_list()[0] or [start]
    ids = ids[-(window - new):]
    token_bytes = tokenizer.token_bytes.numpy()
    # Bytes of a character split over tokens wait for the rest; invalid UTF-8 becomes
    # U+FFFD exactly as in the SavedModel's detokenizer.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    out.write(prompt.encode("utf-8"))
    out.flush()
    for token in stream(lm, ids, new, sampler, temperature, seed, end_token_id=end, **kwargs):
        if token == end:
            break
        out.write(decoder.decode(token_bytes[token]).encode("utf-8"))
        out.flush()
    out.write(decoder.decode(b"", final=True).encode("utf-8") + b"\n")


def run_saved_model(out, saved_model, prompt, max_new_tokens=100, temperature=1.0, seed=None):
    """Writes the SavedModel's `text` for `prompt` to the binary stream `out`."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer's ops)
    serve = tf.saved_model.load(saved_model).signatures["serving_default"]
    result = serve(prompt=tf.constant([prompt]),
                   max_new_tokens=tf.constant(max_new_tokens, tf.int32),
                   temperature=tf.constant(temperature, tf.float32),
                   seed=tf.constant(0 if seed is None else seed, tf.int32))
    out.write(result["text"].numpy()[0] + b"\n")


def check_checkpoint_dir(path):
    """Usage errors for a --checkpoint_dir that is not a GPT folder (names what is expected)."""
    config = "config.json"  # tfgpt.checkpoints.CONFIG_FILE (not imported: it loads TensorFlow)
    if not os.path.isdir(path):
        raise app.UsageError(f"--checkpoint_dir={path}: no such folder.")
    if os.path.exists(os.path.join(path, config)):
        return
    hint = ("it holds a SavedModel: pass it as --saved_model"
            if os.path.exists(os.path.join(path, "saved_model.pb")) else
            "for a SavedModel written by tfgpt.export, use --saved_model instead")
    raise app.UsageError(
        f"--checkpoint_dir={path} has no {config}: expected a GPT folder with {config}, "
        f"model.safetensors and vocab.json (+ merges.txt), such as the gpt_output of "
        f"run_pretraining.py --model=gpt; {hint}.")


def main(argv):
    """Checks the flags, then streams (checkpoint) or prints (SavedModel) the text."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]} (quote a prompt with spaces)")
    if bool(FLAGS.checkpoint_dir) == bool(FLAGS.saved_model):
        raise app.UsageError("Give exactly one of --checkpoint_dir and --saved_model.")
    if FLAGS.checkpoint_dir:
        check_checkpoint_dir(FLAGS.checkpoint_dir)
    elif not os.path.isdir(FLAGS.saved_model):
        raise app.UsageError(f"--saved_model={FLAGS.saved_model}: no such folder.")
    out = sys.stdout.buffer
    if FLAGS.checkpoint_dir:
        run_checkpoint(out, FLAGS.checkpoint_dir, FLAGS.prompt, FLAGS.max_new_tokens,
                       FLAGS.sampler, FLAGS.temperature, FLAGS.seed,
                       **sampler_kwargs(FLAGS.sampler, FLAGS.top_k, FLAGS.top_p))
    else:
        run_saved_model(out, FLAGS.saved_model, FLAGS.prompt, FLAGS.max_new_tokens,
                        FLAGS.temperature, FLAGS.seed)
    out.flush()


if __name__ == "__main__":
    from tfcore.cli import run_main
    define_flags()
    run_main(main)
