"""extract_features.py: Google's schema, pairs, truncation and errors; vectors equal PyTorch's.

tests/fixtures/hf_bert_tiny/hidden_states.npz holds Hugging Face's
`output_hidden_states=True` for the reference sentences and for two pairs
(tests/fixtures/make_hf_fixtures.py, run outside the suite). One run of the
script as a user types it (a subprocess) serves most assertions.

Example:

    python -m pytest -q tests/test_extract_features.py
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfcore.text.wordpiece import WordPieceEncoder
from tftasks.common.errors import ConfigError, DataError
from tftasks.features import FeaturesConfig, run
from tftasks.features.examples import Example, pack, read_examples, truncate_pair

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BERT_DIR = os.path.join(REPO_ROOT, "tests", "fixtures", "hf_bert_tiny")
# Values are rounded to 6 decimals (Google's), on top of float32 differences.
ATOL = 1e-5
LAYERS = "-1,-2,0"
NUM_LAYERS = 2


@pytest.fixture(scope="module")
def reference():
    with open(os.path.join(BERT_DIR, "reference.json"), encoding="utf-8") as f:
        values = json.load(f)
    with np.load(os.path.join(BERT_DIR, "hidden_states.npz")) as arrays:
        return values, dict(arrays)


@pytest.fixture(scope="module")
def script_run(reference, tmp_path_factory):
    """The script on: the reference sentences, an empty line, the pairs, a Cased line."""
    values, arrays = reference
    folder = tmp_path_factory.mktemp("features")
    lines = values["sentences"] + [""] + [f"{a} ||| {b}" for a, b in
                                          zip(arrays["pairs_a"], arrays["pairs_b"])]
    (folder / "input.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = folder / "output.jsonl"
    result = subprocess.run(
        [sys.executable, "extract_features.py", f"--input_file={folder / 'input.txt'}",
         f"--output_file={output}", f"--init_checkpoint={BERT_DIR}", f"--layers={LAYERS}",
         "--max_seq_length=64", "--batch_size=2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(output, encoding="utf-8") as f:
        raw = f.read().splitlines()
    return lines, raw, [json.loads(line) for line in raw], result.stdout


def tokens_of(ids, mask, vocab):
    return [vocab[i] for i, m in zip(ids, mask) if m]


def vectors(record, index):
    """`[tokens, hidden]` of layer `index` in one output record."""
    return np.array([[layer["values"] for layer in token["layers"] if layer["index"] == index][0]
                     for token in record["features"]])


def test_schema_is_googles(script_run):
    lines, raw, records, stdout = script_run
    assert [r["linex_index"] for r in records] == list(range(len(lines)))
    assert raw[0].startswith('{"linex_index": 0, "features": [{"token": "[CLS]", "layers": '
                             '[{"index": -1, "values": [')
    for record in records:
        assert list(record) == ["linex_index", "features"]
        for token in record["features"]:
            assert list(token) == ["token", "layers"]
            assert [layer["index"] for layer in token["layers"]] == [-1, -2, 0]
            for layer in token["layers"]:
                assert list(layer) == ["index", "values"] and len(layer["values"]) == 32
                assert all(v == round(v, 6) for v in layer["values"])
    assert "extract_features: 6/6 examples (100%)" in stdout


def test_vectors_and_tokens_equal_pytorch_hidden_states(script_run, reference):
    values, arrays = reference
    _, _, records, _ = script_run
    vocab = WordPieceEncoder(os.path.join(BERT_DIR, "vocab.txt")).vocab
    hidden = arrays["hidden_states"]  # [layers + 1, b, s, h]: embeddings first
    for row, record in enumerate(records[:3]):
        n = sum(values["input_mask"][row])
        assert [t["token"] for t in record["features"]] == tokens_of(
            values["input_ids"][row], values["input_mask"][row], vocab)
        for index in (-1, -2, 0):
            expected = hidden[1:][index][row, :n]
            np.testing.assert_allclose(vectors(record, index), expected, atol=ATOL, rtol=0)
    assert not np.allclose(hidden[-1], hidden[-2], atol=1e-2)  # the layers do differ


def test_pairs_and_empty_lines(script_run, reference):
    _, arrays = reference
    _, _, records, _ = script_run
    vocab = WordPieceEncoder(os.path.join(BERT_DIR, "vocab.txt")).vocab
    assert [t["token"] for t in records[3]["features"]] == ["[CLS]", "[SEP]"]
    for row, record in enumerate(records[4:]):
        ids, mask = arrays["pair_input_ids"][row], arrays["pair_input_mask"][row]
        tokens = [t["token"] for t in record["features"]]
        assert tokens == tokens_of(ids, mask, vocab) and tokens.count("[SEP]") == 2
        np.testing.assert_allclose(vectors(record, -1),
                                   arrays["pair_hidden_states"][-1][row, :mask.sum()],
                                   atol=ATOL, rtol=0)


def test_truncation_is_googles():
    encoder = WordPieceEncoder(os.path.join(BERT_DIR, "vocab.txt"))
    assert truncate_pair([1, 2, 3, 4], [5, 6], 4) == ([1, 2], [5, 6])
    assert truncate_pair([1, 2, 3], [4, 5, 6], 4) == ([1, 2], [4, 5])  # a tie drops from b
    feature = pack(7, [10, 11, 12, 13], [20, 21, 22], encoder, max_seq_length=7)
    assert feature.input_ids == [2, 10, 11, 3, 20, 21, 3] and feature.truncated
    assert feature.segment_ids == [0, 0, 0, 0, 1, 1, 1]
    single = pack(0, list(range(10, 20)), None, encoder, max_seq_length=5)
    assert single.tokens == ["[CLS]", *(encoder.vocab[i] for i in (10, 11, 12)), "[SEP]"]


def test_lines_split_at_the_last_separator_and_at_newlines_only(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"a ||| b ||| c\r\nx\x0by\n  padded  \nno|||pair")
    assert read_examples(str(path)) == [Example(0, "a ||| b", "c"), Example(1, "x\x0by"),
                                        Example(2, "padded"), Example(3, "no|||pair")]


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"fine\nbad \xff byte\n")
    with pytest.raises(DataError, match=r"line 2: not UTF-8"):
        read_examples(str(path))


def config(tmp_path, text="hello world\n", **overrides):
    (tmp_path / "in.txt").write_text(text, encoding="utf-8")
    values = dict(input_file=str(tmp_path / "in.txt"), output_file=str(tmp_path / "out.jsonl"),
                  init_checkpoint=BERT_DIR, max_seq_length=64)
    return FeaturesConfig(**{**values, **overrides})


@pytest.mark.parametrize("layers, message", [
    ("-3", r"--layers=-3: -3 is out of range; the model has 2 layers \(indexes -2\.\.1"),
    ("-1,2", r"--layers=-1,2: 2 is out of range; the model has 2 layers"),
    ("-1;-2", r"--layers='-1;-2': expected comma-separated layer indexes"),
])
def test_bad_layers_name_the_flag_and_leave_the_output(tmp_path, layers, message):
    (tmp_path / "out.jsonl").write_text("earlier\n")
    with pytest.raises(ConfigError, match=message):
        run(config(tmp_path, layers=layers))
    assert (tmp_path / "out.jsonl").read_text() == "earlier\n"


def test_too_long_for_the_positions_names_max_seq_length(tmp_path):
    cfg = config(tmp_path, text="ok\n" + "hello " * 80 + "\n", max_seq_length=128, layers="-1")
    with pytest.raises(ConfigError, match=r"--max_seq_length=128: line 2 .* 82 tokens, more "
                                          r"than the model's max_position_embeddings=64"):
        run(cfg)


def test_command_line_error_is_one_line(tmp_path):
    (tmp_path / "in.txt").write_text("hello\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "extract_features.py", f"--input_file={tmp_path / 'in.txt'}",
         f"--output_file={tmp_path / 'out.jsonl'}", f"--init_checkpoint={BERT_DIR}",
         "--layers=-5"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 2
    assert "ERROR: --layers=-5: -5 is out of range; the model has 2 layers" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_google_checkpoint_prefix_gives_the_same_lines(script_run, tmp_path):
    from tfbert import BertModel
    lines, raw, _, _ = script_run
    google = tmp_path / "google"
    BertModel.from_pretrained(BERT_DIR).save_pretrained(str(google))
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run(FeaturesConfig(
        input_file=str(tmp_path / "in.txt"), output_file=str(tmp_path / "out.jsonl"),
        init_checkpoint=str(google / "bert_model.ckpt"), layers=LAYERS, max_seq_length=64,
        bert_config_file=str(google / "bert_config.json"), vocab_file=str(google / "vocab.txt"),
        batch_size=2))  # the same batch shapes as the script run: identical bits
    assert summary["examples"] == len(lines) and summary["do_lower_case"] is True
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines() == raw
