"""End-to-end writer runs on generated corpora: schema, statistics, determinism, errors."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.tfrecords import helpers
from tfrecords import corpus, features, shards
from tfrecords.writer import WriterConfig, write_pretraining_data

GOOGLE_SPEC = {  # google-research/bert run_pretraining.py name_to_features at 32/5.
    "input_ids": tf.io.FixedLenFeature([32], tf.int64),
    "input_mask": tf.io.FixedLenFeature([32], tf.int64),
    "segment_ids": tf.io.FixedLenFeature([32], tf.int64),
    "masked_lm_positions": tf.io.FixedLenFeature([5], tf.int64),
    "masked_lm_ids": tf.io.FixedLenFeature([5], tf.int64),
    "masked_lm_weights": tf.io.FixedLenFeature([5], tf.float32),
    "next_sentence_labels": tf.io.FixedLenFeature([1], tf.int64),
}


def _read(paths, spec=GOOGLE_SPEC):
    records = [r.numpy() for r in tf.data.TFRecordDataset(paths)]
    return {k: v.numpy() for k, v in tf.io.parse_example(records, spec).items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    return {"vocab": helpers.write_vocab(folder),
            "corpus": helpers.write_corpus(folder, num_docs=60), "folder": folder}


def _config(data, tmp_path, **kwargs):
    args = dict(input_file=data["corpus"], vocab_file=data["vocab"], max_seq_length=32,
                max_predictions_per_seq=5, dupe_factor=2, block_bytes=2000,
                output_dir=str(tmp_path / "out"), num_shards=3)
    args.update(kwargs)
    return WriterConfig(**args)


def test_records_match_google_spec_and_statistics(data, tmp_path):
    summary = write_pretraining_data(_config(data, tmp_path, dupe_factor=5))
    paths = [s["path"] for s in summary["shards"]]
    assert [os.path.basename(p) for p in paths] == [
        f"bert-0000{i}-of-00003.tfrecord" for i in range(3)]
    parsed = _read(paths)
    assert len(parsed["input_ids"]) == summary["records"] > 500
    ours = features.feature_spec(features.bert_schema(32, 5))
    assert set(ours) == set(GOOGLE_SPEC)
    vocab = open(data["vocab"]).read().split("\n")
    cls, sep, mask = (vocab.index(t) for t in ("[CLS]", "[SEP]", "[MASK]"))
    assert (parsed["input_ids"][:, 0] == cls).all()
    assert ((parsed["input_ids"] == sep).sum(1) >= 2).all()
    real = parsed["input_mask"].sum() - 3 * summary["records"]
    weights = parsed["masked_lm_weights"]
    assert abs(weights.sum() / real - summary["masked_fraction"]) < 1e-9
    assert 0.14 < summary["masked_fraction"] < 0.17
    inputs = np.take_along_axis(parsed["input_ids"], parsed["masked_lm_positions"], 1)
    assert abs((inputs[weights > 0] == mask).mean() - 0.8) < 0.05
    assert abs(parsed["next_sentence_labels"].mean() - summary["random_next_fraction"]) < 1e-9
    assert not parsed["input_ids"][parsed["input_mask"] == 0].any()


def test_output_does_not_depend_on_num_workers(data, tmp_path):
    one = write_pretraining_data(_config(data, tmp_path / "w1", num_workers=1))
    two = write_pretraining_data(_config(data, tmp_path / "w2", num_workers=2))
    assert one["records"] == two["records"] > 0
    for a, b in zip(one["shards"], two["shards"]):
        assert open(a["path"], "rb").read() == open(b["path"], "rb").read()


def test_seed_changes_output(data, tmp_path):
    a = write_pretraining_data(_config(data, tmp_path / "a", output_dir=None,
                                       num_shards=None, output_file=str(tmp_path / "a.tf")))
    b = write_pretraining_data(_config(data, tmp_path / "b", output_dir=None, num_shards=None,
                                       output_file=str(tmp_path / "b.tf"), random_seed=1))
    assert open(a["shards"][0]["path"], "rb").read() != open(b["shards"][0]["path"], "rb").read()


def test_whole_word_masking_end_to_end(data, tmp_path):
    summary = write_pretraining_data(_config(data, tmp_path, do_whole_word_mask=True))
    parsed = _read([s["path"] for s in summary["shards"]])
    vocab = open(data["vocab"]).read().split("\n")
    pieces = np.array([t.startswith("##") for t in vocab])
    specials = {vocab.index("[CLS]"), vocab.index("[SEP]")}
    for row in range(len(parsed["input_ids"])):
        pos = set(parsed["masked_lm_positions"][row][parsed["masked_lm_weights"][row] > 0])
        labels = dict(zip(parsed["masked_lm_positions"][row], parsed["masked_lm_ids"][row]))
        for p in pos:  # A masked `##` piece's word start is masked too (same segment).
            if pieces[labels[p]]:
                assert p - 1 in pos or parsed["input_ids"][row, p - 1] in specials, (row, p)


def test_gpt_windows_pack_documents_with_end_of_text(data, tmp_path):
    config = _config(data, tmp_path, model="gpt", max_seq_length=16, num_shards=1,
                     eot_token="[SEP]")
    summary = write_pretraining_data(config)
    spec = features.feature_spec(features.gpt_schema(16))
    windows = _read([summary["shards"][0]["path"]], spec)["token_ids"]
    vocab = open(data["vocab"]).read().split("\n")
    assert windows.shape == (summary["records"], 17)
    assert not (windows == vocab.index("[PAD]")).any()
    text = open(data["corpus"]).read()
    num_docs = text.strip().count("\n\n") + 1
    # Windows overlap by one token; rebuilt in stream order they hold every document's eot.
    eots = (windows[:, 1:] == vocab.index("[SEP]")).sum() + (windows[:, 0] == 3).sum()
    assert num_docs - 2 <= eots <= num_docs + summary["records"]
    assert summary["tail_tokens"] < 16


def test_char_vocab_is_learned_and_written(data, tmp_path):
    config = _config(data, tmp_path, model="gpt", tokenizer="char", vocab_file=None,
                     max_seq_length=64, num_shards=2)
    summary = write_pretraining_data(config)
    vocab = json.load(open(summary["vocab_file"]))
    assert vocab["<|endoftext|>"] == 0 and "\n" in vocab and "a" in vocab
    windows = _read([s["path"] for s in summary["shards"]],
                    features.feature_spec(features.gpt_schema(64)))["token_ids"]
    inverse = {i: t for t, i in vocab.items()}
    assert "".join(inverse[i] for i in windows[0]).count(" ") > 3


def test_text_format_keeps_files_verbatim(tmp_path):
    # Blank lines and indentation survive; end-of-text only between files.
    texts = ["First Citizen:\n  Before we proceed...\n\nAll:\nSpeak, speak.\n" * 40,
             "\n\nSecond file,\n\n\nwith blank lines.\n" * 30]
    for i, text in enumerate(texts):
        (tmp_path / f"part{i}.txt").write_text(text)
    config = WriterConfig(input_file=str(tmp_path / "part*.txt"), input_format="text",
                          model="gpt", tokenizer="char", max_seq_length=16, block_bytes=300,
                          output_file=str(tmp_path / "gpt.tfrecord"))
    summary = write_pretraining_data(config)
    vocab = json.load(open(summary["vocab_file"]))
    inverse = {i: t for t, i in vocab.items()}
    windows = _read([str(tmp_path / "gpt.tfrecord")],
                    features.feature_spec(features.gpt_schema(16)))["token_ids"]
    # Windows are shuffled within blocks; each holds 17 consecutive stream
    # characters, so every one is a substring of the expected stream.
    stream = texts[0] + "<|endoftext|>" + texts[1] + "<|endoftext|>"
    decoded = ["".join(inverse[i] for i in w) for w in windows]
    assert all(d in stream for d in decoded)
    assert sum(d.count("<|endoftext|>") for d in decoded) >= 1
    assert len(windows) == (len(texts[0]) + len(texts[1]) + 2 - 1) // 16


def test_gpt_dupe_factor_cuts_each_pass_at_another_offset(tmp_path):
    rng = np.random.default_rng(0)
    text = "".join(chr(ord("a") + i) for i in rng.integers(0, 26, 2000)) + "\n"
    (tmp_path / "in.txt").write_text(text)
    common = dict(input_file=str(tmp_path / "in.txt"), input_format="text", model="gpt",
                  tokenizer="char", max_seq_length=16)
    one = write_pretraining_data(WriterConfig(output_file=str(tmp_path / "one.tf"), **common))
    write_pretraining_data(WriterConfig(output_file=str(tmp_path / "four.tf"), dupe_factor=4,
                                        **common))
    spec = features.feature_spec(features.gpt_schema(16))
    vocab = json.load(open(one["vocab_file"]))
    windows = {name: _read([str(tmp_path / name)], spec)["token_ids"]
               for name in ("one.tf", "four.tf")}
    assert len(windows["one.tf"]) == (len(text) + 1 - 1) // 16
    # Pass k starts at 4k: the first tokens of the windows cover offsets 0, 4, 8, 12 mod 16.
    stream = np.array([vocab[c] for c in text] + [0])
    starts = {int(np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(
        stream, 17) == w, axis=1))[0]) % 16 for w in windows["four.tf"]}
    assert starts == {0, 4, 8, 12}
    assert abs(len(windows["four.tf"]) - 4 * len(windows["one.tf"])) <= 4


def test_text_format_is_refused_for_bert(data, tmp_path):
    with pytest.raises(ValueError, match="--input_format=sentences only"):
        write_pretraining_data(_config(data, tmp_path, input_format="text"))


def test_gpt_with_byte_pair_encoding(data, tmp_path):
    from tfgpt.tokenization import bytes_to_unicode
    symbols = list(bytes_to_unicode().values())
    merges = [("t", "h"), ("\u0120", "th"), ("e", "r")]
    vocab = {t: i for i, t in enumerate(symbols + [a + b for a, b in merges] +
                                        ["<|endoftext|>"])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(
        f"{a} {b}" for a, b in merges) + "\n")
    summary = write_pretraining_data(_config(
        data, tmp_path, model="gpt", tokenizer="bpe", vocab_file=str(tmp_path / "vocab.json"),
        merges_file=str(tmp_path / "merges.txt"), max_seq_length=64, num_shards=1))
    windows = _read([summary["shards"][0]["path"]],
                    features.feature_spec(features.gpt_schema(64)))["token_ids"]
    ids = set(windows.reshape(-1).tolist())
    assert vocab["\u0120th"] in ids and vocab["<|endoftext|>"] in ids


@pytest.mark.parametrize("change,message", [
    (dict(input_file="/nonexistent/*.txt"), "matched no files"),
    (dict(vocab_file="/nonexistent/vocab.txt"), "vocab_file"),
    (dict(output_file="x.tf"), "exactly one of"),
    (dict(num_shards=2, output_dir=None, output_file="x.tf"), "needs --output_dir"),
    (dict(model="gpt", tokenizer="bpe"), "needs --vocab_file .* and --merges_file"),
])
def test_bad_options_and_inputs(data, tmp_path, change, message):
    with pytest.raises((ValueError, corpus.InputError), match=message):
        write_pretraining_data(_config(data, tmp_path, **change))


def test_empty_file_and_non_utf8_name_the_file(data, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(corpus.InputError, match="empty.txt.*empty"):
        write_pretraining_data(_config(data, tmp_path, input_file=str(empty)))
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"\n\n  \n")
    with pytest.raises(corpus.InputError, match="blank.txt.*no text"):
        write_pretraining_data(_config(data, tmp_path, input_file=str(blank)))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line .\n\nbad \xff\xfe line .\n")
    with pytest.raises(corpus.InputError, match=r"bad.txt:3.*not UTF-8"):
        write_pretraining_data(_config(data, tmp_path, input_file=str(bad)))


def test_failed_run_leaves_no_finished_or_partial_files(data, tmp_path):
    bad = tmp_path / "z_bad.txt"
    bad.write_bytes(b"fine .\n\xff\n")
    config = _config(data, tmp_path, input_file=f"{data['corpus']},{bad}")
    with pytest.raises(corpus.InputError):
        write_pretraining_data(config)
    assert os.listdir(tmp_path / "out") == []


def test_shards_are_partial_until_committed(tmp_path):
    paths = shards.shard_paths(str(tmp_path), "bert", 2)
    writer = shards.ShardWriter(paths)
    writer.write(np.frombuffer(b"abcdef", np.uint8), np.array([2, 4]))
    assert sorted(os.listdir(tmp_path)) == sorted(
        "." + os.path.basename(p) + ".partial" for p in paths)
    writer.commit()
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths)
    assert [r.numpy() for r in tf.data.TFRecordDataset(paths[1])] == [b"cdef"]
