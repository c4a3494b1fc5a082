"""train_sentencepiece: id convention, determinism (identical files), atomic write, errors."""

import os

import pytest
import sentencepiece as spm

from tests.tftasks.translation.tiny_parallel import tiny_pairs, tiny_sentencepiece
from tftasks.common.errors import ConfigError
from tftasks.translation.vocab import train_sentencepiece


def test_special_ids_and_joint_pieces(tmp_path):
    model_file = tiny_sentencepiece(str(tmp_path))
    processor = spm.SentencePieceProcessor(model_file=model_file)
    assert (processor.pad_id(), processor.eos_id(), processor.unk_id(), processor.bos_id()) == (
        0, 1, 2, -1)
    assert [processor.id_to_piece(i) for i in range(3)] == ["<pad>", "</s>", "<unk>"]
    # Both languages' words are in the one vocabulary.
    pieces = {processor.id_to_piece(i) for i in range(processor.get_piece_size())}
    assert {"▁Straße", "▁street"} <= pieces
    assert processor.get_piece_size() <= 120
    assert os.listdir(tmp_path) == ["spm.model"]  # no temporary file left


def test_two_runs_write_identical_files(tmp_path):
    first = tiny_sentencepiece(str(tmp_path / "a"))
    second = tiny_sentencepiece(str(tmp_path / "b"))
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()


def test_files_and_bpe(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("\n".join(t for pair in tiny_pairs() for t in pair) + "\n", encoding="utf-8")
    model_file = train_sentencepiece([], str(tmp_path / "bpe.model"), vocab_size=80,
                                     model_type="bpe", files=[str(path)])
    processor = spm.SentencePieceProcessor(model_file=model_file)
    assert processor.get_piece_size() == 80
    assert processor.decode(processor.encode("Ein Hund sitzt auf dem Wasser.")) == (
        "Ein Hund sitzt auf dem Wasser.")


@pytest.mark.parametrize("options,message", [
    ({"model_type": "wordpiece"}, "model_type must be one of"),
    ({"vocab_size": 3}, "vocab_size must be >= 4"),
    ({"texts": ["", ""]}, "no text to train"),
    ({"vocab_size": 5000}, "SentencePiece training for .*x.model failed: .*[Vv]ocab"),
])
def test_bad_options(tmp_path, options, message):
    arguments = {"texts": ["ein Satz"], "model_file": str(tmp_path / "x.model")} | options
    with pytest.raises(ConfigError, match=message):
        train_sentencepiece(**arguments)
    assert not os.path.exists(tmp_path / "x.model")
