"""Vocabulary files and special tokens, read without TensorFlow.

* `vocab.txt` (BERT WordPiece, Google's format): one token a line, id = line
  number; it must hold `[PAD] [UNK] [CLS] [SEP] [MASK]`.
* `vocab.json` (GPT-2 BPE, and the character vocabularies of
  `tfcore.text.chars`): a JSON object `{token: id}` with ids 0..n-1.

Local files are read with Python's `open`; paths with a scheme (`gs://...`)
go through `tf.io.gfile`, imported only then, so that the record writer and
everything else that reads local files never loads TensorFlow.

Example:

    tokens = read_vocab("vocab.txt")          # ["[PAD]", ..., "##s"]
    ids = read_vocab_json("vocab.json")       # {"<|endoftext|>": 0, ...}
"""

import json
import os

# Special tokens of Google's BERT vocab.txt files (google-research/bert
# run_classifier.py, create_pretraining_data.py).
PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
MASK_TOKEN = "[MASK]"
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)
# GPT-2's document separator (its vocab.json, id 50256); id 0 of a character vocab.
END_OF_TEXT = "<|endoftext|>"


def _remote(path):
    return "://" in path


def file_exists(path):
    """True if `path` is an existing file (local, or remote through `tf.io.gfile`)."""
    if _remote(path):
        import tensorflow as tf  # Only remote file systems need TensorFlow.
        return tf.io.gfile.exists(path)
    return os.path.isfile(path)


def open_text(path, mode="r"):
    """UTF-8 text file with newlines untranslated (as `tf.io.gfile.GFile` reads them)."""
    if _remote(path):
        import tensorflow as tf
        return tf.io.gfile.GFile(path, mode)
    return open(path, mode, encoding="utf-8", newline="")


def read_vocab(vocab_file):
    """Reads a `vocab.txt` (one token a line, id = line number) into a list.

    Raises FileNotFoundError when it is missing, ValueError when a token is
    repeated or a special token (`SPECIAL_TOKENS`) is absent.
    """
    if not file_exists(vocab_file):
        raise FileNotFoundError(f"BERT vocab file not found: {vocab_file!r}")
    with open_text(vocab_file) as f:
        text = f.read()
    # Line ends as Python's universal newlines (Hugging Face reads it so).
    vocab = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if vocab[-1] == "":
        vocab.pop()
    seen = set()
    duplicates = [t for t in vocab if t in seen or seen.add(t)]
    if duplicates:
        raise ValueError(f"vocab file {vocab_file!r} repeats the token(s) "
                         f"{duplicates[:5]}; tokens must be unique")
    missing = [t for t in SPECIAL_TOKENS if t not in vocab]
    if missing:
        raise ValueError(f"vocab file {vocab_file!r} lacks the special token(s) "
                         f"{', '.join(missing)}")
    return vocab


def read_vocab_json(path, kind="vocab"):
    """`{token: id}` from a vocab.json; ids must be 0..n-1, each once.

    `kind` names the file in the FileNotFoundError ("character vocab", ...).
    """
    if not file_exists(path):
        raise FileNotFoundError(f"{kind} file not found: {path!r}")
    with open_text(path) as f:
        vocab = json.load(f)
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise ValueError(f"{path!r}: ids must be 0..{len(vocab) - 1}, each once")
    return vocab


def tokens_by_id(vocab):
    """`{token: id}` with ids 0..n-1 -> the list of tokens in id order."""
    return sorted(vocab, key=vocab.get)
