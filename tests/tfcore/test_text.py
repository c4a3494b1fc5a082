"""tfcore.text: TensorFlow-free vocab files, Unicode classes and Python encoders.

Ids against the in-graph tokenizers are checked beside those tokenizers
(tests/tfbert/test_tokenization.py, tests/tfgpt/test_tokenization.py).
"""

import json
import subprocess
import sys
import unicodedata

import pytest

from tfcore import text
from tfcore.text import bpe, unicode as uni, vocab, wordpiece

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def packages_loaded_by(modules):
    """Which of TF, Keras, tfbert, tfgpt importing `modules` loads in a fresh interpreter.

    Returns the printed sorted list, "[]" when none.
    """
    code = (f"import sys, {', '.join(modules)}\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', "
            "'tensorflow_text', 'keras', 'tfbert', 'tfgpt'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_importing_loads_neither_tensorflow_nor_keras_nor_a_model_package():
    assert packages_loaded_by(["tfcore.text", "tfcore.text.bpe", "tfcore.text.chars",
                               "tfcore.text.unicode", "tfcore.text.vocab",
                               "tfcore.text.wordpiece"]) == "[]"


def test_read_vocab_and_its_errors(tmp_path):
    assert text.read_vocab(_write(tmp_path / "v.txt", SPECIALS + ["a", "##b"])) == \
        SPECIALS + ["a", "##b"]
    (tmp_path / "crlf.txt").write_bytes(("\r\n".join(SPECIALS) + "\r\nx").encode())
    assert text.read_vocab(str(tmp_path / "crlf.txt"))[-1] == "x"
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        text.read_vocab(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="repeats"):
        text.read_vocab(_write(tmp_path / "r.txt", SPECIALS + ["a", "a"]))
    with pytest.raises(ValueError, match=r"lacks.*\[CLS\]"):
        text.read_vocab(_write(tmp_path / "l.txt", ["[PAD]", "[UNK]", "a"]))


def test_read_vocab_json(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"b": 1, "a": 0}))
    assert vocab.tokens_by_id(text.read_vocab_json(str(path))) == ["a", "b"]
    path.write_text(json.dumps({"b": 2, "a": 0}))
    with pytest.raises(ValueError, match="ids must be 0..1"):
        text.read_vocab_json(str(path))
    with pytest.raises(FileNotFoundError, match="character vocab file not found"):
        text.CharEncoder.from_file(str(tmp_path / "nothing.json"))


def test_bert_character_classes():
    assert [uni.char_class(ord(c)) for c in "\x00\x07\t \u3000!$^a\u0301\ufffd"] == [
        "drop", "drop", "space", "space", "space", "punct", "punct", "punct", None, "mark",
        "drop"]
    ranges = uni.bert_class_ranges()
    for cp in (0x0, 0x20, 0x21, 0x300, 0x41, 0x2028, 0xE0001, 0x10FFFF):
        found = [name for name, rs in ranges.items() if any(lo <= cp <= hi for lo, hi in rs)]
        assert found == ([uni.char_class(cp)] if uni.char_class(cp) else []), hex(cp)
    assert uni.is_cjk(ord("中")) and not uni.is_cjk(ord("a"))
    assert uni.to_ranges([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 7), (9, 10)]
    assert uni.re2_class([(0x41, 0x5A), (0x5F, 0x5F)]) == "\\x{41}-\\x{5A}\\x{5F}"


def test_gpt2_classes_follow_unicodedata():
    letters = uni.category_ranges("L")
    assert any(lo <= ord("é") <= hi for lo, hi in letters)
    assert not any(lo <= ord("1") <= hi for lo, hi in letters)
    assert bpe.gpt2_regex().findall("it's  a test\u00a0 1½ !!") == [
        "it", "'s", " ", " a", " test", "\u00a0", " 1½", " !!"]
    assert all(unicodedata.category(chr(lo)).startswith("N")
               for lo, _ in uni.category_ranges("N"))


def test_basic_tokenize_and_wordpiece(tmp_path):
    assert text.basic_tokenize("Héllo,  WORLD!\x00 中文") == ["hello", ",", "world", "!",
                                                             "中", "文"]
    assert text.basic_tokenize("Héllo", do_lower_case=False) == ["Héllo"]
    encoder = text.WordPieceEncoder(_write(tmp_path / "v.txt",
                                           SPECIALS + ["un", "##aff", "##able", ","]))
    flat, lengths = encoder.encode(["unaffable, UNAFF", "", "x"])
    assert flat.tolist() == [5, 6, 7, 8, 5, 6, encoder.unk_id]
    assert lengths.tolist() == [6, 0, 1]
    assert encoder.token_id("[SEP]", "eot_token") == 3
    with pytest.raises(ValueError, match="--eot_token='nope'"):
        encoder.token_id("nope", "eot_token")


def test_wordpiece_memo_stays_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(wordpiece, "MAX_MEMO_TOKENS", 10)
    encoder = text.WordPieceEncoder(_write(tmp_path / "v.txt", SPECIALS + ["city"]))
    flat, _ = encoder.encode([f"the{i} city" for i in range(50)])
    assert len(encoder._memo) <= 10
    assert flat.size == 50 * 2 and (flat == encoder.unk_id).sum() == 50


def test_char_encoder_round_trip(tmp_path):
    encoder = text.CharEncoder.learn(text.count_code_points(["To be", "or"]))
    assert encoder.vocab == [text.END_OF_TEXT, " ", "T", "b", "e", "o", "r"]
    encoder.save(str(tmp_path / "vocab.json"))
    again = text.CharEncoder.from_file(str(tmp_path / "vocab.json"))
    flat, lengths = again.encode(["be!", "or"])
    assert flat.tolist() == [3, 4, 5, 6] and lengths.tolist() == [2, 2]
    assert again.dropped_chars == 1


def _tiny_bpe(folder, merges):
    symbols = list(text.bytes_to_unicode().values())
    tokens = list(dict.fromkeys(symbols + [a + b for a, b in merges] + [text.END_OF_TEXT]))
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    return str(folder / "vocab.json"), str(folder / "merges.txt"), tokens


def test_byte_pair_encoder(tmp_path):
    table = text.bytes_to_unicode()
    assert len(set(table.values())) == 256 and table[0x20] == "Ġ" and table[0x41] == "A"
    vocab_file, merges_file, tokens = _tiny_bpe(tmp_path, [("Ġ", "t"), ("h", "e"),
                                                           ("Ġt", "he")])
    ids = {t: i for i, t in enumerate(tokens)}
    encoder = text.BytePairEncoder(vocab_file, merges_file)
    flat, lengths = encoder.encode([" the", f"the{text.END_OF_TEXT}"])
    assert flat.tolist() == [ids["Ġthe"], ids["t"], ids["he"], ids[text.END_OF_TEXT]]
    assert lengths.tolist() == [1, 3] and encoder.eot_id == ids[text.END_OF_TEXT]


def test_bad_bpe_files_are_named(tmp_path):
    vocab_file, merges_file, tokens = _tiny_bpe(tmp_path, [("h", "e"), ("h", "e")])
    with pytest.raises(ValueError, match="lists a pair twice"):
        text.BytePairEncoder(vocab_file, merges_file)
    (tmp_path / "merges.txt").write_text("t h\n")
    with pytest.raises(ValueError, match=r"merges.txt:1: merge 't h' uses \['th'\]"):
        text.BytePairEncoder(vocab_file, merges_file)
    (tmp_path / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens[:-1])}))
    (tmp_path / "merges.txt").write_text("")
    with pytest.raises(ValueError, match="no '<|endoftext|>' token"):
        text.BytePairEncoder(vocab_file, merges_file)
    (tmp_path / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens[1:])}))
    with pytest.raises(ValueError, match=r"lacks byte symbol\(s\) \[.0x00"):
        text.BytePairEncoder(vocab_file, merges_file)
