"""Tests for tfbert.tokenization against an independent pure-Python reference.

The reference below re-implements the published BERT BasicTokenizer +
WordPiece algorithm (as run by Hugging Face's Python `BertTokenizer`) with
`unicodedata`; the code under test uses TensorFlow string ops instead.
"""

import os
import random
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from tfbert import tokenization

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "hello", "world",
    "un", "##aff", "##able", "a", "b", "c", "cafe", "naive", "resume", "中",
    "文", "!", ",", ".", "?", "'", "[", "]", "mask", "cls", "sep", "x", "##x",
    "i", "##i", "e", "##e", "σ", "ς", "ο", "δ", "##ο", "##δ", "##σ", "##ς",
    "Hello", "Café", "naïve", "é", "ß", "stra", "##ße", "😀", "tab", "new",
    "##line", "line", "don", "t", "-", "#", "$", "^", "`", "(", ")", "¿",
    "«", "»", "—", "…", "ab", "##cd", "cd", "istanbul", "##s", "s", "y",
]
# Hard cases for the reference comparison (raw text, any script).
HARD_CASES = [
    "Hello, World!", "Héllo naïve café RÉSUMÉ", "UnAffable unaffable",
    "中文 字符中文mixed", "a\u200bb\u200cc\ufeffd", "soft\u00adhyphen",
    "ctrl\x00\x01\x07\x1b\x7f\x85 end \ufffd", "emoji 😀👍🏽 😀😀", "x" * 100,
    "x" * 101, "é" * 101, "e\u0301" * 60, "İ" * 60, "", " ", "   a   b  ",
    "tab\tnew\nline\r\n", "nbsp\u00a0thin\u2009ideo\u3000ls\u2028ps\u2029",
    "İstanbul ΟΔΟΣ ΣΟ ΔΣ. ẞtraße Straße", "don't $x^ `a` (b) ¿c? «d» —…",
    "Ελληνικά Русский العربية हिन्दी", "\ue000private \U000f0000 \u0378",
    "combining \u0301a \u0301", "ＡＢＣ ﬁ ½", "[MASK] [CLS]x[SEP]", "#$",
]
# Characters for random strings: vocab pieces plus every hard category.
FUZZ_ALPHABET = list("abcdeisxyΣσΟΔ中文 \t.,!?'#-[]") + [
    "\u0301", "\u200b", "\x00", "\u00a0", "é", "İ", "😀", "\ue000", "ß",
    "hello", "world", "cafe", "mask", "stra", "able", "Café"]


def _is_cjk(ch):
    return any(lo <= ord(ch) <= hi for lo, hi in tokenization.CJK_RANGES)


def _is_punct(ch):
    cp = ord(ch)
    return (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or
            123 <= cp <= 126 or unicodedata.category(ch).startswith("P"))


def reference_words(text, lower):
    """BasicTokenizer: clean, CJK spacing, NFC, case/accents, punctuation."""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\x00\ufffd" or (cat.startswith("C") and ch not in "\t\n\r"):
            continue
        kept.append(" " if ch in "\t\n\r" or cat == "Zs" else ch)
    text = "".join(f" {ch} " if _is_cjk(ch) else ch for ch in kept)
    words = []
    for word in unicodedata.normalize("NFC", text).split():
        if lower:
            word = "".join(ch for ch in unicodedata.normalize("NFD", word.lower())
                           if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in word:
            if _is_punct(ch):
                words += [current, ch]
                current = ""
            else:
                current += ch
        words.append(current)
    return [w for w in words if w]


def reference_ids(text, vocab, lower=True, max_chars=100):
    """Greedy longest-match-first WordPiece over `reference_words`."""
    index = {t: i for i, t in enumerate(vocab)}
    ids = []
    for word in reference_words(text, lower):
        pieces, start = [], 0
        while start < len(word) and len(word) <= max_chars:
            for end in range(len(word), start, -1):
                piece = ("##" if start else "") + word[start:end]
                if piece in index:
                    pieces.append(index[piece])
                    start = end
                    break
            else:
                break
        ids += pieces if start == len(word) and pieces else [index["[UNK]"]]
    return ids


def google_truncate(a, b, max_length):
    """google-research/bert `_truncate_seq_pair`, on copies."""
    a, b = list(a), list(b)
    while len(a) + len(b) > max_length:
        (a if len(a) > len(b) else b).pop()
    return a, b


@pytest.fixture(scope="module")
def vocab_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("".join(t + "\n" for t in VOCAB), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def tokenizer(vocab_file):
    return tokenization.BertTokenizer(vocab_file)


def ids_of(*tokens):
    return [VOCAB.index(t) for t in tokens]


def test_attributes(tokenizer):
    assert tokenizer.vocab == VOCAB and tokenizer.vocab_size == len(VOCAB)
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id,
            tokenizer.sep_id, tokenizer.mask_id) == (0, 1, 2, 3, 4)
    assert tokenizer.id_to_token([6, [7]]) == ["hello", ["world"]]


@pytest.mark.parametrize("text, tokens", [
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("UnAffable", ["un", "##aff", "##able"]),
    ("Café NAÏVE résumé", ["cafe", "naive", "resume"]),
    ("中文x", ["中", "文", "x"]),
    ("a\u200bb", ["ab"]),  # Zero-width space is Cf: dropped, "ab" joins.
    ("tab\tnew\n\nline", ["tab", "new", "line"]),
    ("😀x😀", ["[UNK]"]),  # Emoji are not punctuation: one unknown word.
    ("[MASK] [cls]", ["[", "mask", "]", "[", "cls", "]"]),
    ("x" * 100, ["x"] + ["##x"] * 99),
    ("x" * 101, ["[UNK]"]),
    ("ΟΔΟΣ", ["ο", "##δ", "##ο", "##ς"]),  # Final sigma, as str.lower().
    ("", []), ("  \t ", []),
])
def test_hand_computed_ids(tokenizer, text, tokens):
    assert tokenizer.tokenize([text]).to_list() == [ids_of(*tokens)]


def test_hard_cases_match_reference(tokenizer):
    expected = [reference_ids(t, VOCAB) for t in HARD_CASES]
    assert tokenizer.tokenize(HARD_CASES).to_list() == expected


def test_random_strings_match_reference(vocab_file, tokenizer):
    rng = random.Random(0)
    texts = ["".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 30)))
             for _ in range(400)]
    cased = tokenization.BertTokenizer(vocab_file, do_lower_case=False)
    for tok, lower in ((tokenizer, True), (cased, False)):
        expected = [reference_ids(t, VOCAB, lower) for t in texts]
        assert tok.tokenize(texts).to_list() == expected


def test_cased(vocab_file):
    tok = tokenization.BertTokenizer(vocab_file, do_lower_case=False)
    texts = ["Hello Café naïve", "hello cafe", "Cafe\u0301", "ẞ"]
    assert tok.tokenize(texts).to_list() == [
        ids_of("Hello", "Café", "naïve"), ids_of("hello", "cafe"),
        ids_of("Café"), ids_of("[UNK]")]
    assert tok.tokenize(HARD_CASES).to_list() == [
        reference_ids(t, VOCAB, lower=False) for t in HARD_CASES]


def test_invalid_utf8_and_scalar(tokenizer):
    # Invalid bytes act as U+FFFD, which BERT's cleaning drops.
    ids = tokenizer.tokenize(tf.constant([b"ca\xfffe \xc3"]))
    assert ids.to_list() == [ids_of("cafe")]
    assert tokenizer.tokenize("hello").to_list() == [ids_of("hello")]


def test_in_dataset_map(tokenizer):
    ds = tf.data.Dataset.from_tensor_slices(HARD_CASES).batch(4)
    ds = ds.map(lambda t: tokenizer(t, t, max_seq_length=32))
    got = np.concatenate([b["input_ids"].numpy() for b in ds])
    assert got.shape == (len(HARD_CASES), 32)
    ds = tf.data.Dataset.from_tensor_slices(HARD_CASES).batch(5)
    ragged = [r for b in ds.map(tokenizer.tokenize) for r in b.to_list()]
    assert ragged == [reference_ids(t, VOCAB) for t in HARD_CASES]


def test_in_tf_function_unknown_batch(tokenizer):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)] * 2)
    def encode(a, b):
        return tokenizer(a, b, max_seq_length=12)

    eager = tokenizer(HARD_CASES[:3], HARD_CASES[3:6], max_seq_length=12)
    traced = encode(tf.constant(HARD_CASES[:3]), tf.constant(HARD_CASES[3:6]))
    for key in ("input_ids", "segment_ids", "input_mask"):
        np.testing.assert_array_equal(traced[key], eager[key])


def _python_pack(a, b, max_seq_length):
    """Google's run_classifier packing of id lists, as numpy rows."""
    if b is None:
        a, _ = google_truncate(a, [], max_seq_length - 2)
        ids, segments = [2] + a + [3], [0] * (len(a) + 2)
    else:
        a, b = google_truncate(a, b, max_seq_length - 3)
        ids = [2] + a + [3] + b + [3]
        segments = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    pad = [0] * (max_seq_length - len(ids))
    return ids + pad, segments + pad, [1] * len(ids) + pad


@pytest.mark.parametrize("pair", [False, True])
def test_pack_truncation_matches_google(tokenizer, pair):
    rng = random.Random(1)
    for max_seq_length in (3, 4, 5, 8, 17, 32):
        rows = [([rng.randint(5, 60) for _ in range(rng.randint(0, 25))],
                 [rng.randint(5, 60) for _ in range(rng.randint(0, 25))])
                for _ in range(200)]
        segments = [tf.ragged.constant([r[0] for r in rows], dtype=tf.int32,
                                       row_splits_dtype=tf.int32)]
        if pair:
            segments.append(tf.ragged.constant([r[1] for r in rows], tf.int32))
        got = tokenizer.pack(segments, max_seq_length)
        expected = [_python_pack(a, b if pair else None, max_seq_length)
                    for a, b in rows]
        for i, key in enumerate(("input_ids", "segment_ids", "input_mask")):
            assert got[key].dtype == tf.int32
            np.testing.assert_array_equal(got[key], [e[i] for e in expected])


def test_pack_rejects_too_short(tokenizer):
    segment = tf.ragged.constant([[5]])
    with pytest.raises(ValueError, match="too short"):
        tokenizer.pack([segment, segment], 2)


def test_saved_model_round_trip(tokenizer, tmp_path):
    module = tf.Module()
    module.tokenizer = tokenizer
    module.encode = tf.function(
        lambda a, b: tokenizer(a, b, max_seq_length=16),
        input_signature=[tf.TensorSpec([None], tf.string)] * 2)
    module.tokenize = tf.function(
        tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    path = str(tmp_path / "saved")
    tf.saved_model.save(module, path)
    assert os.path.exists(os.path.join(path, "assets", "vocab.txt"))
    loaded = tf.saved_model.load(path)
    texts = tf.constant(HARD_CASES)
    assert (loaded.tokenize(texts).to_list() ==
            tokenizer.tokenize(texts).to_list())
    got = loaded.encode(texts, texts[::-1])
    want = tokenizer(texts, texts[::-1], max_seq_length=16)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])


def test_vocab_errors(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        tokenization.BertTokenizer(missing)
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(t for t in VOCAB if t != "[MASK]") + "\n")
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        tokenization.BertTokenizer(str(path))
    path.write_text("\n".join(VOCAB + ["the"]) + "\n")
    with pytest.raises(ValueError, match="the"):
        tokenization.BertTokenizer(str(path))


# ------------------------------------------------- the writer's Python WordPiece

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


def _mixed_texts(seed=0, n=400):
    rng = random.Random(seed)
    pool = [chr(c) for c in _CODE_POINTS]
    texts = []
    for _ in range(n):
        parts = [rng.choice(pool) if rng.random() < 0.6 else rng.choice(_WORDS)
                 + rng.choice(" .,") for _ in range(rng.randint(0, 25))]
        texts.append("".join(parts))
    return texts + HARD_CASES + ["\t\x0b\x0c\x1c", "a\x0bb", "Ab\u00c9 ÉCOLE", "ΣΑΣ ΟΔΟΣ."]


@pytest.mark.parametrize("lower", [True, False])
def test_python_wordpiece_equals_the_in_graph_tokenizer(tmp_path, lower):
    """tfcore.text.WordPieceEncoder (the record writer's) gives the in-graph ids."""
    from tfcore.text import WordPieceEncoder
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB + [
        "h", "##l", "##o", "É", "Ο", "Δ", "Σ", "##stanbul", "na", "##ive", "##ï", "##ve",
        "MASK", "thethe", "##the", "一", "丁", "Ab", "ecole", "école", "ÉCOLE"]) + "\n",
        encoding="utf-8")
    ours = WordPieceEncoder(str(vocab_file), do_lower_case=lower)
    reference = tokenization.BertTokenizer(str(vocab_file), do_lower_case=lower)
    texts = _mixed_texts()
    flat, lengths = ours.encode(texts)
    expected = reference.tokenize(texts)
    np.testing.assert_array_equal(lengths, expected.row_lengths().numpy())
    np.testing.assert_array_equal(flat, expected.flat_values.numpy())
    again, _ = ours.encode(texts)  # From the memo.
    np.testing.assert_array_equal(again, flat)
    assert ours.vocab == reference.vocab
    for name in ("cls_id", "sep_id", "pad_id", "mask_id", "unk_id", "vocab_size"):
        assert getattr(ours, name) == getattr(reference, name), name


def test_python_basic_tokenize_equals_the_in_graph_one(vocab_file, tokenizer):
    from tfcore.text import basic_tokenize
    texts = _mixed_texts(seed=1, n=100)
    expected = tokenizer.basic_tokenize(texts).to_list()
    assert [basic_tokenize(t) for t in texts] == [
        [w.decode("utf-8") for w in words] for words in expected]
