"""Hostile text and bytes, property-based (hypothesis): answered, never a crash.

Targets: the three tokenizers (BERT WordPiece, GPT-2 byte-level BPE,
characters), the pretraining-data writer, and every serving signature (BERT
encoder `serving_default`/`encode`, the classifier, the GPT generator
`serving_default`/`logits`). Strategies: tests/reliability/hostile.py.
Configs and flags: test_hostile_configs.py, test_hostile_flags.py.
"""

import functools
import json
import os
import re
import tempfile
import unicodedata

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reliability.hostile import (FAST, TRIED, as_tensor, batches, payloads, python_text,
                                       raw_bytes, report_tried, texts)
from tests.reliability.tiny_exports import (BERT_CONFIG, GPT_VOCAB, GPT_WINDOW, LABELS, SEQ,
                                            shared_export)
from tests.testing import SMALL_VOCAB, write_vocab
from tests.tfgpt.gpt_testing import EOT, write_tiny_bpe
from tfbert import BertTokenizer
from tfgpt.tokenization import BytePairTokenizer, CharTokenizer
from tfrecords import corpus, features
from tfrecords.writer import WriterConfig, write_pretraining_data


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    report_tried()


# ---------------------------------------------------------------- tokenizers

CHAR_SET = "abcdefghij \n.,!?éü中😀\u0301\t"


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokenizers")
    vocab = write_vocab(folder, SMALL_VOCAB + ["é", "##é", "中", "ß", "##ß"])
    char_vocab = folder / "chars.json"
    char_vocab.write_text(json.dumps({t: i for i, t in enumerate([EOT, *CHAR_SET])}))
    spec = [tf.TensorSpec([None], tf.string)]
    made = {"bert": BertTokenizer(vocab), "bert_cased": BertTokenizer(vocab, do_lower_case=False),
            "bpe": BytePairTokenizer(*write_tiny_bpe(folder)),
            "char": CharTokenizer(str(char_vocab))}
    fns = {}
    for name, tok in made.items():
        fns[name] = tf.function(tok.tokenize, input_signature=spec)
        if name in ("bpe", "char"):
            fns[name + "_round_trip"] = tf.function(
                lambda t, tok=tok: tok.detokenize(tok.tokenize(t)), input_signature=spec)
    fns["bpe_pieces"] = tf.function(made["bpe"].pieces, input_signature=spec)
    fns["bert_pack"] = tf.function(lambda t: made["bert"](t, max_seq_length=16),
                                   input_signature=spec)
    return made, fns


@functools.lru_cache(maxsize=None)
def gpt2_reference_regex():
    """GPT-2's pre-tokenizer regex as published (openai/gpt-2 encoder.py), look-ahead included."""
    import regex
    return regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+"""
                         r"""|\s+(?!\S)|\s+""")


def _rows(ragged):
    return [list(r) for r in ragged.to_list()]


def _check_row_independence(fn, batch, rows):
    """Row i of a batch equals the text tokenized alone (no leak across the batch)."""
    for payload, row in zip(batch, rows):
        assert _rows(fn(as_tensor([payload])))[0] == row, payload


@settings(FAST, max_examples=60)
@given(batch=batches())
def test_bert_tokenizer_takes_any_text_and_bytes(tokenizers, batch):
    made, fns = tokenizers
    for name in ("bert", "bert_cased"):
        rows = _rows(fns[name](as_tensor(batch)))
        assert len(rows) == len(batch)
        assert all(0 <= i < made[name].vocab_size for row in rows for i in row)
        _check_row_independence(fns[name], batch, rows)
        # Invalid UTF-8 is Python's U+FFFD replacement, which the cleaning drops.
        replaced = [python_text(p).encode() for p in batch]
        assert _rows(fns[name](as_tensor(replaced))) == rows
    packed = {k: v.numpy() for k, v in fns["bert_pack"](as_tensor(batch)).items()}
    tok = made["bert"]
    assert packed["input_ids"].shape == (len(batch), 16)
    for ids, mask, segments in zip(packed["input_ids"], packed["input_mask"],
                                   packed["segment_ids"]):
        n = int(mask.sum())
        assert 2 <= n <= 16 and mask[:n].all() and not mask[n:].any()
        assert ids[0] == tok.cls_id and ids[n - 1] == tok.sep_id
        assert (ids[n:] == tok.pad_id).all() and not segments.any()
    TRIED["BertTokenizer (cased and uncased, + packing)"] += len(batch)


@settings(FAST, max_examples=20)
@given(batch=batches())
def test_byte_pair_tokenizer_round_trips_every_byte(tokenizers, batch):
    made, fns = tokenizers
    rows = _rows(fns["bpe"](as_tensor(batch)))
    assert len(rows) == len(batch)
    assert all(0 <= i < made["bpe"].vocab_size for row in rows for i in row)
    _check_row_independence(fns["bpe"], batch, rows)
    # Byte-level BPE loses nothing: detokenize(tokenize(x)) is x, invalid bytes as U+FFFD.
    round_trip = fns["bpe_round_trip"](as_tensor(batch)).numpy().tolist()
    assert round_trip == [python_text(p).encode() for p in batch]
    # Pieces are those of GPT-2's regex (Hugging Face runs it with `regex`), on
    # characters both Unicode tables know (they may be of different versions).
    regex = pytest.importorskip("regex")
    known = [regex.sub(r"\p{Cn}", "", "".join(
        c for c in python_text(p) if unicodedata.category(c) != "Cn")) for p in batch]
    pieces = fns["bpe_pieces"](as_tensor([k.encode() for k in known])).to_list()
    for text, row in zip(known, pieces):
        expected = []
        for segment in regex.split(f"({re.escape(EOT)})", text):
            expected += [segment] if segment == EOT else gpt2_reference_regex().findall(segment)
        assert [p.decode() for p in row] == expected, text
    TRIED["BytePairTokenizer"] += len(batch)


@settings(FAST, max_examples=50)
@given(batch=batches())
def test_char_tokenizer_keeps_exactly_the_known_characters(tokenizers, batch):
    made, fns = tokenizers
    rows = _rows(fns["char"](as_tensor(batch)))
    assert all(1 <= i < made["char"].vocab_size for row in rows for i in row)
    round_trip = fns["char_round_trip"](as_tensor(batch)).numpy().tolist()
    assert round_trip == ["".join(c for c in python_text(p) if c in CHAR_SET).encode()
                          for p in batch]
    TRIED["CharTokenizer"] += len(batch)


# ---------------------------------------------------------------- pretraining-data writer

@pytest.fixture(scope="module")
def writer_vocab(tmp_path_factory):
    return write_vocab(tmp_path_factory.mktemp("writer"))


def corpus_files():
    """File contents: hostile lines (blank lines between documents), or raw bytes."""
    lines = st.lists(st.one_of(texts(32), st.just("")), max_size=12).map("\n".join)
    return st.one_of(lines.map(str.encode), lines.map(str.encode), raw_bytes(),
                     st.binary(max_size=300))


@settings(FAST, max_examples=30)
@given(contents=corpus_files(),
       kind=st.sampled_from([("bert", "wordpiece", "sentences"), ("gpt", "char", "sentences"),
                             ("gpt", "char", "text")]))
def test_writer_makes_parseable_records_or_names_the_file(writer_vocab, contents, kind):
    model, tokenizer, input_format = kind
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "hostile corpus.txt")
        with open(path, "wb") as f:
            f.write(contents)
        out = os.path.join(folder, "out", "records.tfrecord")
        config = WriterConfig(
            input_file=path, vocab_file=writer_vocab if model == "bert" else None,
            output_file=out, model=model, tokenizer=tokenizer, input_format=input_format,
            max_seq_length=16, max_predictions_per_seq=3, dupe_factor=1)
        try:
            summary = write_pretraining_data(config)
        except corpus.InputError as e:
            assert path in str(e), str(e)
            assert not os.path.exists(out)
            TRIED[f"write_pretraining_data ({model}/{input_format}): InputError"] += 1
            return
        schema = (features.bert_schema(16, 3) if model == "bert"
                  else features.gpt_schema(16))
        records = [r.numpy() for r in tf.data.TFRecordDataset(out)]
        assert len(records) == summary["records"]
        if records:
            parsed = tf.io.parse_example(records, features.feature_spec(schema))
            ids = parsed["input_ids" if model == "bert" else "token_ids"].numpy()
            vocab_size = (len(SMALL_VOCAB) if model == "bert" else
                          len(json.load(open(os.path.join(os.path.dirname(out),
                                                          "vocab.json")))))
            assert ids.min() >= 0 and ids.max() < vocab_size
    TRIED[f"write_pretraining_data ({model}/{input_format}): records"] += 1


# ---------------------------------------------------------------- serving signatures

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The three SavedModels (tiny, random weights), loaded back as a server would."""
    paths = {name: shared_export(kind, tmp_path_factory) for name, kind in (
        ("encoder", "encoder"), ("generator", "generator"), ("classifier", "classifier_pair"))}
    return {name: tf.saved_model.load(path) for name, path in paths.items()}


@settings(FAST, max_examples=40)
@given(batch=batches())
def test_encoder_embeds_any_text(served, batch):
    serve = served["encoder"].signatures["serving_default"]
    out = serve(text=as_tensor(batch))
    embedding = out["embedding"].numpy()
    assert embedding.shape == (len(batch), 16) and np.isfinite(embedding).all()
    assert out["sequence_output"].shape == (len(batch), SEQ, 16)
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=-1), 1.0, atol=1e-5)
    for payload, row in zip(batch[:2], embedding):  # the batch does not leak into a row
        alone = serve(text=as_tensor([payload]))["embedding"].numpy()[0]
        np.testing.assert_allclose(alone, row, atol=1e-5)
    TRIED["encoder serving_default(text)"] += len(batch)


@st.composite
def id_matrices(draw, vocab, max_len, max_batch=3):
    """int32 `[batch, length]`: ids all in `[0, vocab)`, or with some out of range or extreme."""
    b, s = draw(st.integers(0, max_batch)), draw(st.integers(0, max_len))
    values = st.integers(0, vocab - 1)
    if draw(st.booleans()):
        values = st.one_of(values, st.integers(-3, vocab + 3),
                           st.integers(-2 ** 31, 2 ** 31 - 1))
    return np.array(draw(st.lists(values, min_size=b * s, max_size=b * s)),
                    np.int32).reshape(b, s)


def _error_message(e):
    return str(e.message if hasattr(e, "message") else e)


@settings(FAST, max_examples=60)
@given(ids=id_matrices(BERT_CONFIG["vocab_size"], max_len=40), data=st.data())
def test_encoder_token_ids_are_checked_and_named(served, ids, data):
    b, s = ids.shape
    segments = data.draw(st.one_of(
        st.just(np.zeros_like(ids)),
        st.lists(st.integers(-1, 2), min_size=b * s, max_size=b * s).map(
            lambda v: np.array(v, np.int32).reshape(b, s)),
        st.just(np.zeros((b, s + 1), np.int32))))
    mask = data.draw(st.one_of(
        st.lists(st.integers(0, 1), min_size=b * s, max_size=b * s),
        st.lists(st.integers(0, 1), min_size=b * s, max_size=b * s),
        st.lists(st.integers(-2, 3), min_size=b * s, max_size=b * s)).map(
        lambda v: np.array(v, np.int32).reshape(b, s)))
    vocab, types, positions = (BERT_CONFIG[k] for k in ("vocab_size", "type_vocab_size",
                                                        "max_position_embeddings"))
    problems = {
        "segment_ids must have the shape of input_ids": segments.shape != ids.shape,
        "need at least one position": s == 0,
        "exceeds max_position_embeddings": s > positions,
        "input_ids: negative id": (ids < 0).any(),
        "input_ids: id >= vocab_size": (ids >= vocab).any(),
        "segment_ids: negative id": (segments < 0).any(),
        "segment_ids: id >= type_vocab_size": (segments >= types).any(),
        "input_mask values must be 0 (padding) or 1": ((mask != 0) & (mask != 1)).any()}
    encode = served["encoder"].signatures["encode"]
    args = {k: tf.constant(v) for k, v in
            (("input_ids", ids), ("segment_ids", segments), ("input_mask", mask))}
    if not any(problems.values()):
        out = encode(**args)
        assert out["sequence_output"].shape == (b, s, 16)
        assert np.isfinite(out["sequence_output"].numpy()).all()
        TRIED["encoder encode(ids): answered"] += 1
        return
    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        encode(**args)
    found = [m for m, bad in problems.items() if bad and m in _error_message(err.value)]
    assert found, (problems, _error_message(err.value)[:500])
    TRIED["encoder encode(ids): refused"] += 1


@settings(FAST, max_examples=40)
@given(batch_a=batches(), data=st.data())
def test_classifier_answers_any_text_pair(served, batch_a, data):
    serve = served["classifier"].signatures["serving_default"]
    names = [n.encode() for n in LABELS]
    batch_b = data.draw(st.one_of(st.lists(payloads(), min_size=len(batch_a),
                                           max_size=len(batch_a)), batches()))
    if len(batch_b) != len(batch_a):
        with pytest.raises(tf.errors.InvalidArgumentError, match="same number of strings"):
            serve(text_a=as_tensor(batch_a), text_b=as_tensor(batch_b))
        TRIED["classifier serving_default(text_a, text_b): refused"] += 1
        return
    out = serve(text_a=as_tensor(batch_a), text_b=as_tensor(batch_b))
    probabilities = out["probabilities"].numpy()
    assert probabilities.shape == (len(batch_a), 3) and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
    labels = out["label"].numpy().tolist()
    assert labels == [names[i] for i in probabilities.argmax(axis=-1)]
    for i in range(min(2, len(batch_a))):
        alone = serve(text_a=as_tensor(batch_a[i:i + 1]), text_b=as_tensor(batch_b[i:i + 1]))
        np.testing.assert_allclose(alone["probabilities"].numpy()[0], probabilities[i],
                                   atol=1e-5)
    TRIED["classifier serving_default(text_a, text_b): answered"] += len(batch_a)


@settings(FAST, max_examples=40)
@given(batch=batches(max_size=3),
       max_new_tokens=st.one_of(st.integers(-3, 6), st.integers(-2 ** 31, 2 ** 31 - 1)),
       temperature=st.floats(width=32), seed=st.integers(-2 ** 31, 2 ** 31 - 1))
def test_generator_answers_any_prompt_and_parameters(served, batch, max_new_tokens,
                                                     temperature, seed):
    serve = served["generator"].signatures["serving_default"]

    def call():
        out = serve(prompt=as_tensor(batch), max_new_tokens=tf.constant(max_new_tokens),
                    temperature=tf.constant(temperature, tf.float32), seed=tf.constant(seed))
        return {k: v.numpy().tolist() for k, v in out.items()}

    out = call()
    limit = min(max(max_new_tokens, 0), GPT_WINDOW - 1)
    for prompt, text, completion, count in zip(batch, out["text"], out["completion"],
                                               out["new_tokens"]):
        clean = python_text(prompt).encode()
        assert text == clean + completion
        completion.decode("utf-8")  # always valid UTF-8
        assert 0 <= count <= limit and (count > 0 or completion == b"")
    assert call() == out  # seeded: the same request gives the same answer
    TRIED["generator serving_default(prompt, ...)"] += max(len(batch), 1)


@settings(FAST, max_examples=40)
@given(ids=id_matrices(GPT_VOCAB, max_len=GPT_WINDOW + 8))
def test_generator_logits_check_token_ids(served, ids):
    logits = served["generator"].signatures["logits"]
    vocab = GPT_VOCAB
    problems = {"negative token id": (ids < 0).any(),
                "token id >= vocab_size": (ids >= vocab).any(),
                f"max_position_embeddings {GPT_WINDOW}": ids.shape[1] > GPT_WINDOW}
    if not any(problems.values()):
        out = logits(token_ids=tf.constant(ids))["logits"].numpy()
        assert out.shape == (*ids.shape, vocab) and np.isfinite(out).all()
        TRIED["generator logits(ids): answered"] += 1
        return
    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        logits(token_ids=tf.constant(ids))
    assert any(m in _error_message(err.value) for m, bad in problems.items() if bad)
    TRIED["generator logits(ids): refused"] += 1
