"""The writer's encoders: tfcore.text's, with no TensorFlow or model package behind them.

Their ids are checked against the in-graph tokenizers in
tests/tfbert/test_tokenization.py and tests/tfgpt/test_tokenization.py.
"""

from tfcore import text
from tfrecords import encoders
from tests.tfcore.test_text import packages_loaded_by
from tests.tfrecords import helpers


def test_the_writer_loads_neither_tensorflow_nor_a_model_package():
    assert packages_loaded_by(["tfrecords.encoders", "tfrecords.bert_records",
                               "tfrecords.gpt_records", "tfrecords.writer",
                               "tfrecords.create_pretraining_data",
                               "tfrecords.build_vocab"]) == "[]"


def test_encoders_are_tfcore_texts():
    assert encoders.WordPieceEncoder is text.WordPieceEncoder
    assert encoders.CharEncoder is text.CharEncoder
    assert encoders.BytePairEncoder is text.BytePairEncoder
    assert encoders.END_OF_TEXT == text.END_OF_TEXT


def test_wordpiece_encodes_a_corpus(tmp_path):
    encoder = encoders.WordPieceEncoder(helpers.write_vocab(tmp_path))
    lines = helpers.corpus_text(5, seed=2).splitlines()
    flat, lengths = encoder.encode(lines)
    assert lengths.sum() == flat.size and len(lengths) == len(lines)
    # Greedy WordPiece leaves a rare word such as "oned" ("one" + "##d") unknown.
    assert flat.size > 50 and (flat == encoder.unk_id).mean() < 0.05
