"""Tiny SavedModels of every serving signature, for the reliability tests.

Random weights (seeded), 1-layer models: what is tested is the serving path
(tokenizer, packing, signatures, decode loop), not the numbers.

- `export_encoder(folder)`: `tfbert.export_encoder.EncoderExport`, text and ids.
- `export_classifier(folder, pair)`: `tftasks.classification.export.ClassifierExport`.
- `export_generator(folder)`: `tfgpt.export.GeneratorExport` with the tiny BPE.
Each returns the SavedModel's path. `shared_export(kind, tmp_path_factory)`
gives one export of each kind for the whole test session: the tests only read
them (load, serve), and the same seed gives the same weights anyway.

Example:

    path = shared_export("classifier", tmp_path_factory)  # in a fixture
"""

import os

import keras

from tests.testing import SMALL_VOCAB, write_vocab
from tests.tfgpt.gpt_testing import tiny_config, write_tiny_bpe

BERT_CONFIG = dict(vocab_size=len(SMALL_VOCAB), hidden_size=16, num_hidden_layers=1,
                   num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
                   type_vocab_size=2)
SEQ = 16  # max_seq_length of the BERT exports
LABELS = ["neg", "neutral", "pos"]
GPT_WINDOW = 24
GPT_VOCAB = 256 + 21 + 1  # the tiny BPE of gpt_testing: bytes, merges, <|endoftext|>
GPT_TOP_K = 5


def _bert(folder, seed):
    from tfbert import BertConfig, BertTokenizer
    keras.utils.set_random_seed(seed)
    return BertConfig(**BERT_CONFIG), BertTokenizer(write_vocab(folder))


def export_encoder(folder, seed=3):
    from tfbert import BertModel
    from tfbert.export_encoder import EncoderExport
    config, tokenizer = _bert(folder, seed)
    return EncoderExport(BertModel(config), tokenizer, max_seq_length=SEQ).save(
        os.path.join(str(folder), "encoder"))


def export_classifier(folder, pair, seed=3):
    from tfbert import BertClassifier
    from tftasks.classification.export import ClassifierExport
    config, tokenizer = _bert(folder, seed)
    model = BertClassifier(config, num_labels=len(LABELS))
    return ClassifierExport(model, tokenizer, LABELS, SEQ, pair=pair).save(
        os.path.join(str(folder), "classifier_pair" if pair else "classifier"))


def export_generator(folder, seed=3):
    from tfgpt import GPTLanguageModel
    from tfgpt.export import GeneratorExport
    from tfgpt.tokenization import BytePairTokenizer
    tokenizer = BytePairTokenizer(*write_tiny_bpe(str(folder)))
    assert tokenizer.vocab_size == GPT_VOCAB
    keras.utils.set_random_seed(seed)
    lm = GPTLanguageModel(tiny_config(vocab_size=GPT_VOCAB, num_hidden_layers=1,
                                      max_position_embeddings=GPT_WINDOW))
    return GeneratorExport(lm, tokenizer, "top_k", k=GPT_TOP_K).save(
        os.path.join(str(folder), "generator"))


_MAKERS = {"encoder": export_encoder,
           "classifier": lambda folder: export_classifier(folder, pair=False),
           "classifier_pair": lambda folder: export_classifier(folder, pair=True),
           "generator": export_generator}
_SHARED = {}


def shared_export(kind, tmp_path_factory):
    """The session's one export of `kind` (a key of `_MAKERS`), made on first use; its path.

    Its folder also holds the vocabulary it was made from (vocab.txt or the BPE files).
    """
    if kind not in _SHARED:
        _SHARED[kind] = _MAKERS[kind](tmp_path_factory.mktemp(f"shared_{kind}"))
    return _SHARED[kind]
