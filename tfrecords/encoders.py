"""The writer's encoders: text -> token ids in batches, from `tfcore.text`.

The record writer tokenizes with the TensorFlow-free encoders of
`tfcore.text` (so neither it nor its worker processes import TensorFlow or a
model package); they give the ids of the in-graph tokenizers:

* `WordPieceEncoder`: BERT WordPiece (`tfbert.BertTokenizer`'s ids).
* `CharEncoder`: one id per Unicode character, for character-level GPT;
  `count_code_points` is a step of learning its vocabulary.
* `BytePairEncoder`: GPT-2 byte-level BPE (`tfgpt.tokenization.BytePairTokenizer`'s ids).

Each has `encode(list of str) -> (flat int64 ids, int64 [n] counts)` and a
`dropped_chars` count (characters a vocabulary could not hold).

Example:

    encoder = WordPieceEncoder("vocab.txt", do_lower_case=True)
    flat, lengths = encoder.encode(["Hello world.", "Second sentence."])
"""

from tfcore.text.bpe import BytePairEncoder
from tfcore.text.chars import CharEncoder, count_code_points
from tfcore.text.vocab import END_OF_TEXT
from tfcore.text.wordpiece import WordPieceEncoder

__all__ = ["BytePairEncoder", "CharEncoder", "END_OF_TEXT", "WordPieceEncoder",
           "count_code_points"]
