import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.testing import (SMALL_VOCAB, assert_close, reload_in_fresh_process,
                           write_vocab)
from tfbert import BertConfig, BertModel, BertTokenizer
from tfbert.export_encoder import EncoderExport

SENTENCES = np.array(["The cat sat on the mat.", "hello world", "",
                      "It was not fun, very unlikely!", "DOG " * 100])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("encoder")
    config = BertConfig(vocab_size=len(SMALL_VOCAB), hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=64, type_vocab_size=2)
    model = BertModel(config)
    tokenizer = BertTokenizer(write_vocab(folder))
    export = EncoderExport(model, tokenizer, max_seq_length=32)
    path = export.save(str(folder / "saved_model"))
    return model, tokenizer, path, folder


def expected_embeddings(model, tokenizer, texts, max_seq_length=32):
    features = {k: v.numpy() for k, v in tokenizer(texts, max_seq_length=max_seq_length).items()}
    seq = np.asarray(model(features)["sequence_output"], np.float64)
    mask = features["input_mask"][..., None]
    mean = (seq * mask).sum(1) / mask.sum(1)
    return mean / np.linalg.norm(mean, axis=-1, keepdims=True)


def test_raw_text_embeddings_in_a_fresh_process(exported, tmp_path):
    model, tokenizer, path, _ = exported
    outputs = reload_in_fresh_process(path, {"text": SENTENCES}, tmp_path)
    assert outputs["embedding"].shape == (5, 16)
    assert_close(outputs["embedding"], expected_embeddings(model, tokenizer, SENTENCES), 1e-5)
    assert_close(np.linalg.norm(outputs["embedding"], axis=-1), np.ones(5), 1e-5)


def test_token_ids_signature(exported):
    model, tokenizer, path, _ = exported
    loaded = tf.saved_model.load(path)
    features = tokenizer(SENTENCES[:3], max_seq_length=12)
    out = loaded.signatures["encode"](**features)
    expected = model(features)
    assert_close(out["sequence_output"], expected["sequence_output"], 1e-5)
    assert_close(out["pooled_output"], expected["pooled_output"], 1e-5)


def test_hostile_text_is_answered(exported):
    _, _, path, _ = exported
    serve = tf.saved_model.load(path).signatures["serving_default"]
    texts = tf.constant([b"", b"\xff\xfe broken \xc3", ("word " * 200_000).encode()])
    embedding = serve(text=texts)["embedding"].numpy()
    assert embedding.shape == (3, 16) and np.all(np.isfinite(embedding))


# --dtype is the old name of --weights_dtype, still accepted.
CLI_CASES = {("weights_dtype", "float32"): 1e-5, ("dtype", "bfloat16"): 3e-2}


@pytest.fixture(scope="module")
def cli_exports(exported, tmp_path_factory):
    """`{(flag, dtype): (result, output folder)}`: the CLI on a saved folder, the runs side by side."""
    model, _, _, folder = exported
    ckpt = str(tmp_path_factory.mktemp("ckpt"))
    model.save_pretrained(ckpt, vocab_file=str(folder / "vocab.txt"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    started = {}
    for flag, dtype in CLI_CASES:
        out = str(tmp_path_factory.mktemp(dtype) / "exported")
        started[flag, dtype] = out, subprocess.Popen(
            [sys.executable, "-m", "tfbert.export_encoder", f"--model_dir={ckpt}",
             f"--output_dir={out}", "--max_seq_length=32", f"--{flag}={dtype}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    done = {}
    for case, (out, process) in started.items():
        stdout, stderr = process.communicate(timeout=300)
        done[case] = subprocess.CompletedProcess(process.args, process.returncode, stdout,
                                                 stderr), out
    return done


@pytest.mark.parametrize("flag, dtype", sorted(CLI_CASES))
def test_cli_from_a_saved_folder(exported, cli_exports, flag, dtype):
    model, tokenizer, _, _ = exported
    result, out = cli_exports[flag, dtype]
    assert result.returncode == 0, result.stderr[-2000:]
    assert out in result.stdout
    loaded = tf.saved_model.load(out)  # kept: the signature's variables live in it
    serve = loaded.signatures["serving_default"]
    assert {v.dtype.name for v in serve.variables if v.dtype.is_floating} == {dtype}
    embedding = serve(text=tf.constant(SENTENCES[:4]))["embedding"]
    assert_close(tf.cast(embedding, tf.float32),
                 expected_embeddings(model, tokenizer, SENTENCES[:4]), CLI_CASES[flag, dtype])


def test_max_seq_length_beyond_positions_is_refused(exported):
    model, tokenizer, _, _ = exported
    with pytest.raises(ValueError, match="max_seq_length 100 exceeds .* 64"):
        EncoderExport(model, tokenizer, max_seq_length=100)
