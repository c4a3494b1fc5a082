"""A joint SentencePiece vocabulary of the source and target text.

One model for both languages (shared embeddings, copying of names and
numbers), trained with the `sentencepiece` package, with our models' id
convention: pad = 0 (also the decoder's start token, as in Marian and T5),
eos = 1, unk = 2, no bos. Unigram by default; `model_type="bpe"` works too.

The default normalization is SentencePiece's `nmt_nfkc` (NFKC, control
characters dropped, surrounding and repeated spaces removed): decoding gives
back any NFKC-normalized text with single spaces between words unchanged,
which is what detokenized sacreBLEU needs. On Multi30k train (vocab 8,000)
28,999 of 29,000 English and 28,871 of 29,000 German lines decode to
themselves; the others have a double or trailing space (no unk at all).
`normalization_rule_name="identity"` skips NFKC (spaces are still collapsed
unless `extra_options={"remove_extra_whitespaces": False}`).

Deterministic: the same text and options give a byte-identical `.model`
(SentencePiece's random generator is seeded; texts go in through an iterator,
so no temporary file name ends up in the model's trainer spec). The file is
written under a temporary name beside it and renamed.

Speed (2 shared vCPUs): all of Multi30k train, 58,000 lines, vocab 8,000,
unigram, one thread: 4.2 s (`python -m bench.data.translation_data`); two
threads 2.9 s, but a slightly different model (scores differ in the 5th
decimal, which reorders pieces): results are reproducible for a fixed
`num_threads` only.

Example:

    pairs = read_parallel("train.de.gz", "train.en.gz")
    model_file = train_sentencepiece(itertools.chain(*split_pairs(pairs)), "out/spm.model")
"""

import os
import tempfile
import time

from absl import logging

from tfcore.io import publish_permissions
from tftasks.common.errors import ConfigError
from tftasks.translation.corpus import read_lines

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
MODEL_TYPES = ("unigram", "bpe", "char", "word")
DEFAULT_SEED = 1234


def _write_bytes_atomically(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        publish_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def train_sentencepiece(texts, model_file, vocab_size=8000, model_type="unigram",
                        character_coverage=1.0, normalization_rule_name="nmt_nfkc", files=(),
                        seed=DEFAULT_SEED, num_threads=1, hard_vocab_limit=True,
                        extra_options=None):
    """Trains a SentencePiece model on `texts` (+ `files`) and writes `model_file`.

    Args:
      texts: iterable of str, one sentence each (source and target together for
        a joint vocabulary); empty strings are skipped.
      model_file: the `.model` file to write (its folder is created).
      vocab_size: pieces in the model, the 3 special ones included.
      model_type: "unigram" (default), "bpe", "char" or "word".
      character_coverage: fraction of characters covered by single-character
        pieces (1.0 for Latin scripts; rarer characters become unk).
      normalization_rule_name: "nmt_nfkc" (default), "nfkc", "identity", ...
      files: more text files, one sentence a line (`.gz` accepted).
      seed: SentencePiece's random seed (sampling, when a corpus is sampled).
      num_threads: trainer threads; the result is the same for a fixed count.
      hard_vocab_limit: False: `vocab_size` is an upper bound (tiny corpora).
      extra_options: more `SentencePieceTrainer` options (names as in `spm_train`).

    Returns:
      `model_file`.

    Raises:
      ConfigError: unknown model type, vocab_size too small, or no text.
    """
    import sentencepiece as spm

    if model_type not in MODEL_TYPES:
        raise ConfigError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
    if vocab_size < 4:
        raise ConfigError(f"vocab_size must be >= 4 (3 special pieces), got {vocab_size}")
    sentences = [t for t in texts if t]
    for path in files:
        sentences += [t for t in read_lines(path) if t]
    if not sentences:
        raise ConfigError(f"no text to train the SentencePiece model {model_file} on")
    options = dict(
        model_type=model_type, vocab_size=vocab_size, character_coverage=character_coverage,
        normalization_rule_name=normalization_rule_name, pad_id=PAD_ID, eos_id=EOS_ID,
        unk_id=UNK_ID, bos_id=-1, num_threads=num_threads, hard_vocab_limit=hard_vocab_limit,
        minloglevel=2)
    options.update(extra_options or {})
    start = time.monotonic()
    spm.set_random_generator_seed(seed)
    writer = _BytesWriter()
    try:
        spm.SentencePieceTrainer.train(sentence_iterator=iter(sentences), model_writer=writer,
                                       **options)
    except RuntimeError as e:
        raise ConfigError(f"SentencePiece training for {model_file} failed: {e}") from None
    _write_bytes_atomically(model_file, writer.data)
    logging.info("SentencePiece %s model, %d pieces, from %d lines in %.1f s: %s",
                 model_type, spm.SentencePieceProcessor(model_proto=writer.data).get_piece_size(),
                 len(sentences), time.monotonic() - start, model_file)
    return model_file


class _BytesWriter:
    """The `model_writer` SentencePiece calls with the serialized model."""

    def __init__(self):
        self.data = b""

    def write(self, data):
        self.data += data
