import json
import re

import numpy as np
import pytest
import tensorflow as tf

from tests.tfgpt.gpt_testing import EOT, TINY_MERGES, byte_alphabet, write_tiny_bpe
from tfgpt.tokenization import (BytePairTokenizer, CharTokenizer, bytes_to_unicode,
                                load_tokenizer)
from tfcore.text import BytePairEncoder, CharEncoder

# GPT-2's pattern with Python's `re` (look-ahead included): letters = word characters
# that are not digits or "_"; "_" counts as punctuation, as in [^\s\p{L}\p{N}].
GPT2_RE = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")

TEXTS = ["Hello world", "  hello   world  ", "it's   'sound  'll\n\n  x", "a\t\tb \t c",
         "the cat's 12345 dogs and  the_end!!", "aaaaaaa aaaa", "ends with spaces   ",
         "   ", "", "x", "\n", "Ünïcødé naïve café", "1,234.56 + 7=8?", "emoji 🙂🙃 ok",
         "tab\tthen\r\nCRLF", "'s 't 're", "  's", "héllo  wörld"]


def reference_bpe(piece, ranks):
    """GPT-2's bpe() on one piece of byte symbols: lowest-ranked pair first, all occurrences."""
    word = list(piece)
    while len(word) > 1:
        pairs = [(ranks.get((a, b), np.inf), (a, b)) for a, b in zip(word, word[1:])]
        rank, (first, second) = min(pairs)
        if rank == np.inf:
            break
        merged, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = merged
    return word


def reference_ids(text, vocab):
    table = bytes_to_unicode()
    ranks = {pair: i for i, pair in enumerate(TINY_MERGES)}
    ids = []
    for segment in re.split(f"({re.escape(EOT)})", text):
        if segment == EOT:
            ids.append(vocab[EOT])
            continue
        for piece in GPT2_RE.findall(segment):
            symbols = "".join(table[b] for b in piece.encode("utf-8"))
            ids += [vocab[s] for s in reference_bpe(symbols, ranks)]
    return ids


@pytest.fixture(scope="module")
def bpe(tmp_path_factory):
    vocab_file, merges_file = write_tiny_bpe(tmp_path_factory.mktemp("bpe"))
    with open(vocab_file, encoding="utf-8") as f:
        return BytePairTokenizer(vocab_file, merges_file), json.load(f)


def test_pieces_follow_gpt2s_regex_with_its_look_ahead(bpe):
    tokenizer, _ = bpe
    pieces = tokenizer.pieces(TEXTS).to_list()
    for text, got in zip(TEXTS, pieces):
        assert [p.decode("utf-8") for p in got] == GPT2_RE.findall(text), text


def test_ids_equal_a_python_gpt2_bpe(bpe):
    tokenizer, vocab = bpe
    texts = TEXTS + [f"{EOT}the end{EOT} and  {EOT}", "the the the aaaa  12 12"]
    ids = tokenizer.tokenize(texts).to_list()
    for text, got in zip(texts, ids):
        assert got == reference_ids(text, vocab), text
    assert tokenizer.tokenize(["the"]).to_list() == [[vocab["t"], vocab["he"]]]
    assert tokenizer.tokenize([" the"]).to_list() == [[vocab["Ġthe"]]]


def test_detokenize_round_trips_and_special_tokens(bpe):
    tokenizer, vocab = bpe
    texts = TEXTS + [f"a{EOT}b"]
    assert [t.decode("utf-8") for t in tokenizer.detokenize(tokenizer.tokenize(texts)).numpy()] \
        == texts
    assert tokenizer.tokenize([EOT]).to_list() == [[vocab[EOT]]]
    assert tokenizer.end_token_id == vocab[EOT]
    plain = BytePairTokenizer(*tokenizer.files, special_tokens=())
    assert len(plain.tokenize([EOT]).to_list()[0]) > 1
    # A token that ends inside a character decodes to U+FFFD, as HF's errors="replace".
    first_byte_of_e_acute = vocab[bytes_to_unicode()[0xC3]]
    assert tokenizer.detokenize([[first_byte_of_e_acute]]).numpy()[0] == "\ufffd".encode()


def test_invalid_utf8_in_graph_and_tf_data(bpe):
    tokenizer, vocab = bpe
    fn = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    ids = fn(tf.constant([b"ok \xff\xfe", b"", b"\xc3"])).to_list()
    assert ids[0] == reference_ids("ok \ufffd\ufffd", vocab) and ids[1] == []
    assert ids[2] == reference_ids("\ufffd", vocab)
    assert fn(tf.constant([], tf.string)).shape[0] == 0
    dataset = tf.data.Dataset.from_tensor_slices(["the cat", "and the"]).batch(2).map(
        tokenizer.tokenize)
    assert next(iter(dataset)).to_list() == tokenizer.tokenize(["the cat", "and the"]).to_list()


def test_bad_bpe_files_are_named(tmp_path):
    vocab_file, merges_file = write_tiny_bpe(tmp_path)
    with open(merges_file, "a") as f:
        f.write("q z y\n")
    with pytest.raises(ValueError, match=r"merges.txt:\d+: expected two symbols"):
        BytePairTokenizer(vocab_file, merges_file)
    with open(merges_file, "w") as f:
        f.write("#version: 0.2\nt h\n")
    with pytest.raises(ValueError, match=r"merges.txt:2: merge 't h' uses \['th'\], not in"):
        BytePairTokenizer(vocab_file, merges_file)
    with open(vocab_file, "w") as f:
        json.dump({t: i for i, t in enumerate(byte_alphabet()[1:])}, f)
    with pytest.raises(ValueError, match=r"lacks byte symbol\(s\) \[.0x00"):
        BytePairTokenizer(vocab_file, merges_file)


def test_char_tokenizer_reads_what_the_record_writer_writes(tmp_path):
    text = "First Citizen:\nBefore we proceed, hear me speak.\nAll: Speak, speak."
    encoder = CharEncoder.learn({ord(c): 1 for c in text})
    encoder.save(str(tmp_path / "vocab.json"))
    tokenizer = load_tokenizer(str(tmp_path))
    assert isinstance(tokenizer, CharTokenizer) and tokenizer.end_token_id == 0
    lines = ["First Citizen:", "hear me, speak!\nqq"]  # "!" and "q" are not in the vocab
    flat, lengths = encoder.encode(lines)
    ours = tokenizer.tokenize(lines)
    assert ours.flat_values.numpy().tolist() == flat.tolist()
    assert ours.row_lengths().numpy().tolist() == lengths.tolist()
    assert tokenizer.detokenize(ours).numpy().tolist() == [b"First Citizen:", b"hear me, speak\n"]
    assert tokenizer.detokenize([[0]]).numpy()[0] == EOT.encode()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "vocab.json").write_text(json.dumps({"ab": 0, "c": 1}))
    with pytest.raises(ValueError, match="is not a character vocabulary"):
        load_tokenizer(str(tmp_path / "bad"))
    with pytest.raises(FileNotFoundError, match="No vocab.json"):
        load_tokenizer(str(tmp_path / "nothing"))


def _unicode_soup(seed=0, n=200):
    """Random strings over GPT-2's hard spots: spaces of every kind, letters, marks, digits."""
    rng = np.random.default_rng(seed)
    pool = (list(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u2028\u3000") + list("aZ9_'s!?.,-")
            + ["'ll", "'re", "\u0301", "é", "Ω", "中", "١", "½", "Ⅷ", "\x00", "\ufffd", "🙂",
               "the", " the", "aaaa", "12", "world", EOT, "\u0378", "\ue000"])
    return ["".join(rng.choice(pool, size=rng.integers(0, 30))) for _ in range(n)]


def test_python_bpe_equals_the_in_graph_tokenizer(bpe):
    """tfcore.text.BytePairEncoder (the record writer's) gives the in-graph ids."""
    tokenizer, vocab = bpe
    encoder = BytePairEncoder(*tokenizer.files)
    texts = TEXTS + [f"{EOT}the end{EOT} and  {EOT}", "the the the aaaa  12 12"] + _unicode_soup()
    flat, lengths = encoder.encode(texts)
    expected = tokenizer.tokenize(texts)
    assert lengths.tolist() == expected.row_lengths().numpy().tolist()
    assert flat.tolist() == expected.flat_values.numpy().tolist()
    for text in TEXTS:
        assert encoder.encode([text])[0].tolist() == reference_ids(text, vocab), text
    assert encoder.eot_id == tokenizer.end_token_id
    plain = BytePairEncoder(*tokenizer.files, special_tokens=())
    in_graph = BytePairTokenizer(*tokenizer.files, special_tokens=())
    assert plain.encode([f"a{EOT}"])[0].tolist() == in_graph.tokenize([f"a{EOT}"]).to_list()[0]
