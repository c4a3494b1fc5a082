"""The writer's Python WordPiece against the in-graph tokenizer (tfbert.tokenization)."""

import random

import numpy as np
import pytest

from tfbert import tokenization
from tfrecords import encoders
from tests.tfrecords import helpers

# Code points that exercise every step: controls, spaces of every kind, ASCII and
# Unicode punctuation, accents (precomposed and combining), Greek sigma, Turkish
# dotted I, CJK (unified and compatibility), Hangul, Thai, private use,
# unassigned, the replacement character, emoji.
_CODE_POINTS = (list(range(0, 0x250)) + list(range(0x370, 0x400)) + list(range(0x2000, 0x2070))
                + list(range(0x3000, 0x3040)) + list(range(0x4E00, 0x4E10))
                + [0xF900, 0xF901, 0xAC00, 0x1100, 0x1161, 0x11A8, 0x0E3F, 0x0E31, 0x130,
                   0x3A3, 0x1E9E, 0xFFFD, 0x85, 0x2028, 0x2029, 0x200B, 0xFEFF, 0xE000, 0x378,
                   0x10FFFF, 0x1F600, 0x20000, 0x2F800, 0x300, 0x301, 0x308, 0x327])
_WORDS = ["hello", "ΟΔΟΣ", "Σ", "İstanbul", "e\u0301", "naïve", "[MASK]", "walking",
          "the" * 33, "the" * 34, "##", "x" * 120]


def _texts(seed=0, n=400):
    rng = random.Random(seed)
    pool = [chr(c) for c in _CODE_POINTS]
    texts = [helpers.sentence(rng) for _ in range(50)]
    for _ in range(n):
        parts = [rng.choice(pool) if rng.random() < 0.6 else rng.choice(_WORDS)
                 + rng.choice(" .,") for _ in range(rng.randint(0, 25))]
        texts.append("".join(parts))
    return texts + ["", " ", "\t\x0b\x0c\x1c", "a\x0bb", "Ab\u00c9 ÉCOLE", "ΣΑΣ ΟΔΟΣ."]


@pytest.mark.parametrize("lower", [True, False])
def test_ids_equal_the_in_graph_tokenizer(tmp_path, lower):
    vocab_file = helpers.write_vocab(tmp_path)
    with open(vocab_file, "a", encoding="utf-8") as f:  # Pieces of the test's words.
        f.write("\n".join(["hello", "h", "##e", "##l", "##o", "e", "é", "É", "σ", "ς", "ο",
                           "δ", "Ο", "Δ", "Σ", "i", "##stanbul", "na", "##ive", "##ï",
                           "##ve", "mask", "MASK", "thethe", "##the", "x", "##x", "一",
                           "丁", "ab", "Ab", "ecole", "école", "ÉCOLE"]) + "\n")
    ours = encoders.WordPieceEncoder(vocab_file, do_lower_case=lower)
    reference = tokenization.BertTokenizer(vocab_file, do_lower_case=lower)
    texts = _texts()
    flat, lengths = ours.encode(texts)
    expected = reference.tokenize(texts)
    np.testing.assert_array_equal(lengths, expected.row_lengths().numpy())
    np.testing.assert_array_equal(flat, expected.flat_values.numpy())
    again, _ = ours.encode(texts)  # From the memo.
    np.testing.assert_array_equal(again, flat)


def test_constants_and_vocab_facts_agree(tmp_path):
    assert encoders.SPECIAL_TOKENS == tokenization.SPECIAL_TOKENS
    assert encoders.CJK_RANGES == tokenization.CJK_RANGES
    assert encoders.SUFFIX_INDICATOR == tokenization.SUFFIX_INDICATOR
    assert encoders.MAX_INPUT_CHARS_PER_WORD == tokenization.MAX_INPUT_CHARS_PER_WORD
    vocab_file = helpers.write_vocab(tmp_path)
    ours = encoders.WordPieceEncoder(vocab_file)
    reference = tokenization.BertTokenizer(vocab_file)
    assert ours.vocab == reference.vocab
    for name in ("cls_id", "sep_id", "pad_id", "mask_id", "unk_id", "vocab_size"):
        assert getattr(ours, name) == getattr(reference, name), name


def test_bad_vocab_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        encoders.WordPieceEncoder(str(tmp_path / "missing.txt"))
    repeated = tmp_path / "repeated.txt"
    repeated.write_text("\n".join(helpers.SPECIALS + ["a", "a"]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeats"):
        encoders.WordPieceEncoder(str(repeated))
    lacking = tmp_path / "lacking.txt"
    lacking.write_text("[PAD]\n[UNK]\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lacks.*\[CLS\]"):
        encoders.WordPieceEncoder(str(lacking))


def test_memo_stays_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(encoders, "MAX_MEMO_TOKENS", 10)
    ours = encoders.WordPieceEncoder(helpers.write_vocab(tmp_path))
    flat, _ = ours.encode([f"the{i} city" for i in range(50)])
    assert len(ours._memo) <= 10
    assert flat.size == 50 * 2 and (flat == ours.unk_id).sum() == 50
