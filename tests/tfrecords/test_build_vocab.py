"""Vocabulary learning and the special-token layouts."""

import pytest

from tests.tfrecords import helpers
from tfbert.tokenization import BertTokenizer
from tfrecords import build_vocab, corpus


def test_layouts():
    compact = build_vocab.reserved_tokens("compact", 2)
    assert compact == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]"]
    google = build_vocab.reserved_tokens("google")
    assert [google.index(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == \
        [0, 100, 101, 102, 103]
    assert google[104] == "[unused99]" and len(google) == 999
    with pytest.raises(ValueError, match="num_unused"):
        build_vocab.reserved_tokens("google", 10)


def test_learned_vocab_tokenizes_its_corpus(tmp_path):
    path = helpers.write_corpus(tmp_path, num_docs=30, seed=4)
    counts = build_vocab.count_words(corpus.expand_input_patterns(path), block_bytes=1000)
    assert counts["the"] > 10
    vocab = build_vocab.learn_vocab(counts, 200, build_vocab.reserved_tokens("compact"))
    assert vocab[:5] == list(build_vocab.SPECIAL_TOKENS) and len(vocab) <= 200
    assert any(t.startswith("##") for t in vocab)
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(vocab_file))
    ids = tokenizer.tokenize([open(path).read()]).flat_values.numpy()
    assert len(ids) > 100 and not (ids == tokenizer.unk_id).any()
