"""Hugging Face folders as users have them: loaded, compared with PyTorch, run by the scripts.

The folders under tests/fixtures were written by transformers' own
`save_pretrained` and hold the PyTorch outputs (`reference.json`,
`reference.npz`); tests/fixtures/make_hf_fixtures.py (run in a separate
environment with torch and transformers) rewrites them. The GPT-2 config
keeps transformers' default bos/eos id 50256 outside its 400-id vocabulary,
which transformers accepts: so must we.
"""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.testing import assert_close
from tfbert import BertClassifier, BertModel, BertTokenizer
from tfgpt import GPTConfig, GPTLanguageModel
from tfgpt.tokenization import load_tokenizer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO_ROOT, "tests", "fixtures")
BERT_DIR = os.path.join(FIXTURES, "hf_bert_tiny")
GPT_DIR = os.path.join(FIXTURES, "hf_gpt2_tiny")
# transformers' GPT2Config default for bos/eos, kept in the fixture's config.json.
HF_GPT2_END_OF_TEXT = 50256
SUBPROCESS_TIMEOUT_S = 240


def read_reference(folder):
    """`(reference.json as a dict, reference.npz as a dict of arrays)` of a fixture."""
    with open(os.path.join(folder, "reference.json"), encoding="utf-8") as f:
        values = json.load(f)
    with np.load(os.path.join(folder, "reference.npz")) as arrays:
        return values, dict(arrays)


def bert_features(reference):
    """The reference's padded batch as our model's int32 input dict."""
    return {ours: np.asarray(reference[ours], np.int32)
            for ours in ("input_ids", "input_mask", "segment_ids")}


@pytest.fixture(scope="module")
def gpt_lm():
    return GPTLanguageModel.from_pretrained(GPT_DIR)


def run_fresh(args, cwd):
    """Runs `python ARGS` in a new process from the repository root; returns the result."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable] + args, cwd=cwd, env=env, capture_output=True,
                          timeout=SUBPROCESS_TIMEOUT_S, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------- BERT


def test_bert_tokenizer_gives_the_reference_ids():
    reference, _ = read_reference(BERT_DIR)
    width = len(reference["input_ids"][0])
    tokenizer = BertTokenizer(os.path.join(BERT_DIR, "vocab.txt"), do_lower_case=True)
    ours = tokenizer(reference["sentences"], max_seq_length=width)
    for name, expected in bert_features(reference).items():
        np.testing.assert_array_equal(np.asarray(ours[name]), expected, err_msg=name)


def test_bert_model_matches_pytorch_with_padding():
    reference, arrays = read_reference(BERT_DIR)
    assert 0 in reference["input_mask"][0]  # the batch really is padded
    model = BertModel.from_pretrained(BERT_DIR)
    outputs = model(bert_features(reference))
    assert_close(outputs["sequence_output"], arrays["sequence_output"], atol=1e-5,
                 what="sequence_output")
    assert_close(outputs["pooled_output"], arrays["pooled_output"], atol=1e-5,
                 what="pooled_output")


def test_bert_classifier_head_matches_pytorch():
    reference, arrays = read_reference(BERT_DIR)
    classifier = BertClassifier.from_pretrained(BERT_DIR, num_labels=2)
    logits = classifier(bert_features(reference), training=False)
    assert_close(logits, arrays["logits"], atol=1e-5, what="classifier logits")


def test_run_classifier_fine_tunes_from_the_hf_folder(tmp_path):
    rows = [("the cat sat on the mat", "pos"), ("the dog ran in the park", "neg"),
            ("a good day in the sun", "pos"), ("a bad night in the rain", "neg")] * 2
    train = tmp_path / "train.tsv"
    train.write_text("sentence\tlabel\n" + "".join(f"{a}\t{b}\n" for a, b in rows))
    out = tmp_path / "out"
    result = run_fresh([
        "run_classifier.py", f"--init_checkpoint={BERT_DIR}", f"--train_file={train}",
        f"--eval_file={train}", "--text_column=sentence", "--label_column=label",
        "--do_train", "--do_eval", "--nodo_export", "--max_seq_length=16",
        "--train_batch_size=4", "--eval_batch_size=8", "--num_train_epochs=1",
        f"--output_dir={out}"], cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-4000:]
    with open(out / "metrics.json", encoding="utf-8") as f:
        metrics = json.load(f)
    assert 0.0 <= metrics["eval"]["accuracy"] <= 1.0, metrics
    assert "train" in metrics, metrics


# ---------------------------------------------------------------- GPT-2


def test_gpt_config_out_of_vocab_ids_are_a_warning(caplog):
    path = os.path.join(GPT_DIR, "config.json")
    with caplog.at_level(logging.WARNING):
        config = GPTConfig.from_json_file(path)
    assert config.vocab_size < HF_GPT2_END_OF_TEXT
    assert config.eos_token_id == config.bos_token_id == HF_GPT2_END_OF_TEXT  # kept
    assert 0 <= config.pad_token_id < config.vocab_size  # padding must be a real id
    for key in ("bos_token_id", "eos_token_id"):
        assert any(key in r.getMessage() and "50256" in r.getMessage()
                   and path in r.getMessage() for r in caplog.records), key


def test_gpt_tokenizer_gives_the_reference_ids():
    reference, _ = read_reference(GPT_DIR)
    tokenizer = load_tokenizer(GPT_DIR)
    texts = reference["sequences_text"] + [reference["prompt"]]
    expected = reference["sequences"] + [reference["prompt_ids"]]
    assert tokenizer.tokenize(texts).to_list() == expected


def test_gpt_logits_match_pytorch(gpt_lm):
    reference, arrays = read_reference(GPT_DIR)
    for i, ids in enumerate(reference["sequences"]):
        logits = gpt_lm(np.asarray([ids], np.int32))
        assert_close(np.asarray(logits)[0], arrays[f"logits_{i}"], atol=1e-5,
                     what=f"logits of sequence {i}")


def test_gpt_greedy_generate_matches_transformers(gpt_lm):
    reference, _ = read_reference(GPT_DIR)
    tokens = gpt_lm.generate(np.asarray([reference["prompt_ids"]], np.int32),
                             max_new_tokens=reference["max_new_tokens"], sampler="greedy")
    assert np.asarray(tokens)[0].tolist() == reference["greedy_ids"]


def test_generate_cli_continues_a_prompt_from_the_hf_folder(tmp_path):
    reference, _ = read_reference(GPT_DIR)
    new = 5
    result = run_fresh(["-m", "tfgpt.generate", f"--checkpoint_dir={GPT_DIR}",
                        f"--prompt={reference['prompt']}", f"--max_new_tokens={new}",
                        "--sampler=greedy"], cwd=str(tmp_path))
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, stderr[-4000:]
    assert "eos_token_id" in stderr and "50256" in stderr  # warned, not refused
    start = len(reference["prompt_ids"])
    continuation = load_tokenizer(GPT_DIR).detokenize(
        [reference["greedy_ids"][start:start + new]]).numpy()[0]
    assert result.stdout == reference["prompt"].encode() + continuation + b"\n"
