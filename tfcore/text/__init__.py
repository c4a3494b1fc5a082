"""Text processing without TensorFlow: vocab files, special tokens, Unicode classes, encoders.

The layer below `tfrecords` and the model packages. Importing it (or any of
its modules) never imports TensorFlow or Keras, so the record writer starts
fast; the in-graph tokenizers (`tfbert.BertTokenizer`, `tfgpt.tokenization`)
build their tables from the same pieces, so both sides give the same ids.

* `vocab`: `vocab.txt` / `vocab.json` readers, `[PAD] [UNK] [CLS] [SEP] [MASK]`,
  `<|endoftext|>`.
* `unicode`: BERT's and GPT-2's character classes from `unicodedata`.
* `wordpiece`: `WordPieceEncoder` (BERT ids in Python), `basic_tokenize`.
* `chars`: `CharEncoder` (one id per character), `count_code_points`.
* `bpe`: `bytes_to_unicode`, `read_merges`, `BytePairEncoder` (GPT-2 ids in Python).

Example:

    from tfcore import text
    encoder = text.WordPieceEncoder("vocab.txt")
    flat, lengths = encoder.encode(["Hello world."])
"""

from tfcore.text.bpe import BytePairEncoder, bytes_to_unicode, read_merges
from tfcore.text.chars import CharEncoder, count_code_points
from tfcore.text.vocab import (CLS_TOKEN, END_OF_TEXT, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN,
                               SPECIAL_TOKENS, UNK_TOKEN, read_vocab, read_vocab_json)
from tfcore.text.wordpiece import (MAX_INPUT_CHARS_PER_WORD, SUFFIX_INDICATOR,
                                   WordPieceEncoder, basic_tokenize)

__all__ = ["BytePairEncoder", "CLS_TOKEN", "CharEncoder", "END_OF_TEXT", "MASK_TOKEN",
           "MAX_INPUT_CHARS_PER_WORD", "PAD_TOKEN", "SEP_TOKEN", "SPECIAL_TOKENS",
           "SUFFIX_INDICATOR", "UNK_TOKEN", "WordPieceEncoder", "basic_tokenize",
           "bytes_to_unicode", "count_code_points", "read_merges", "read_vocab",
           "read_vocab_json"]
