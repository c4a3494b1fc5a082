import io
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.tfgpt.gpt_testing import (reload_text_model_in_fresh_process, tiny_config,
                                     write_tiny_bpe)
from tfgpt import GPTLanguageModel
from tfgpt.export import GeneratorExport, export_checkpoint
from tfgpt.generate import run_checkpoint, run_saved_model
from tfgpt.tokenization import load_tokenizer

WINDOW = 24
PROMPTS = [b"the cat", b"and the world said"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny BPE GPT saved with save_pretrained, and its SavedModel (sampler top-k)."""
    folder = str(tmp_path_factory.mktemp("gpt"))
    write_tiny_bpe(folder)
    tokenizer = load_tokenizer(folder)
    keras.utils.set_random_seed(5)
    lm = GPTLanguageModel(tiny_config(vocab_size=tokenizer.vocab_size,
                                      max_position_embeddings=WINDOW))
    lm.save_pretrained(folder, tokenizer_files=tokenizer.files)
    export_dir = os.path.join(folder, "saved_model")
    export_checkpoint(folder, export_dir, sampler="top_k", k=5)
    return lm, tokenizer, folder, export_dir


def expected_greedy(lm, tokenizer, prompts, new):
    ids = tokenizer.tokenize(prompts)
    out, counts = lm.generate(ids, max_new_tokens=new, return_lengths=True, jit_compile=False,
                              end_token_id=tokenizer.end_token_id)
    rows = [row[n:n + c] for row, n, c in zip(out.numpy().tolist(),
                                              ids.row_lengths().numpy(), counts.numpy())]
    rows = [r[:-1] if r and r[-1] == tokenizer.end_token_id else r for r in rows]
    return [p + t for p, t in zip(prompts, tokenizer.detokenize(tf.ragged.constant(
        rows, tf.int32, ragged_rank=1) if any(rows) else [[]] * len(rows)).numpy())]


def test_savedmodel_generates_text_in_a_fresh_process(exported, tmp_path):
    lm, tokenizer, _, export_dir = exported
    inputs = {"prompt": np.array(PROMPTS), "max_new_tokens": np.int32(6),
              "temperature": np.float32(0.0), "seed": np.int32(1)}
    outputs = reload_text_model_in_fresh_process(export_dir, inputs, tmp_path)
    assert outputs["text"].tolist() == expected_greedy(lm, tokenizer, PROMPTS, 6)
    assert [t.startswith(p) for t, p in zip(outputs["text"].tolist(), PROMPTS)] == [True, True]


def test_sampling_is_seeded_and_logits_signature(exported):
    lm, _, _, export_dir = exported
    model = tf.saved_model.load(export_dir)
    serve = model.signatures["serving_default"]
    run = lambda seed: serve(prompt=tf.constant(PROMPTS), max_new_tokens=tf.constant(8),
                             temperature=tf.constant(1.0), seed=tf.constant(seed))["text"]
    assert np.array_equal(run(3), run(3))
    ids = np.array([[5, 9, 2, 33]], np.int32)
    logits = model.signatures["logits"](token_ids=tf.constant(ids))["logits"]
    np.testing.assert_allclose(logits, lm({"token_ids": ids}), atol=1e-5)


def test_hostile_inputs_have_documented_results(exported):
    _, tokenizer, _, export_dir = exported
    model = tf.saved_model.load(export_dir)
    serve = model.signatures["serving_default"]

    def run(prompts, new, temperature=0.0):
        out = serve(prompt=tf.constant(prompts, tf.string), max_new_tokens=tf.constant(new),
                    temperature=tf.constant(temperature), seed=tf.constant(0))
        return (out["text"].numpy().tolist(), out["completion"].numpy().tolist(),
                out["new_tokens"].numpy().tolist())

    texts, completions, counts = run([b"", b"\xff\xfe bad \xc3"], 4)  # empty and non-UTF-8
    assert texts[0] == completions[0] and counts[0] > 0 and max(counts) <= 4
    assert texts[1].startswith("\ufffd\ufffd bad \ufffd".encode())
    long_prompt = b"the " * 40  # 40 tokens > the 24-token window: left-truncated
    texts, completions, counts = run([long_prompt], 5)
    assert texts[0] == long_prompt + completions[0] and 0 < counts[0] <= 5
    _, _, counts = run([b"the cat"], 10 ** 6)  # clamped to window - 1 new tokens
    assert 0 < counts[0] <= WINDOW - 1
    assert run([b"the cat"], -3) == ([b"the cat"], [b""], [0])
    assert run([b"the cat"], 3, float("nan")) == run([b"the cat"], 3, 0.0)
    assert run([], 3) == ([], [], [])
    with pytest.raises(tf.errors.InvalidArgumentError, match="token id >= vocab_size"):
        model.signatures["logits"](token_ids=tf.constant([[1, 10 ** 6]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_position_embeddings 24"):
        model.signatures["logits"](token_ids=tf.ones([1, WINDOW + 1], tf.int32))


def test_cli_paths_stream_the_same_text_as_the_savedmodel(exported):
    lm, tokenizer, folder, export_dir = exported
    streamed, served = io.BytesIO(), io.BytesIO()
    run_checkpoint(streamed, folder, "the cat", max_new_tokens=6, sampler="top_k",
                   temperature=0.0, seed=1, k=5)
    run_saved_model(served, export_dir, "the cat", max_new_tokens=6, temperature=0.0, seed=1)
    assert streamed.getvalue() == served.getvalue()
    assert streamed.getvalue() == expected_greedy(lm, tokenizer, [b"the cat"], 6)[0] + b"\n"


def test_xla_decode_loop_option_gives_the_same_text(exported):
    lm, tokenizer, _, _ = exported
    args = (tf.constant(PROMPTS), tf.constant(5), tf.constant(0.0), tf.constant(0))
    plain, xla = GeneratorExport(lm, tokenizer), GeneratorExport(lm, tokenizer, jit_compile=True)
    assert plain.serve(*args)["text"].numpy().tolist() == xla.serve(*args)["text"].numpy().tolist()


def test_empty_prompt_with_end_id_outside_the_vocabulary(tmp_path):
    """HF's default eos 50256 in a small model and a vocab without <|endoftext|>:
    an empty prompt starts from the pad id instead of failing in the embedding."""
    import json
    import tensorflow as tf
    from tfgpt import GPTLanguageModel
    from tfgpt.export import GeneratorExport
    from tfgpt.tokenization import BytePairTokenizer
    from tests.tfgpt.gpt_testing import tiny_config, write_tiny_bpe
    vocab_path, merges_path = write_tiny_bpe(tmp_path)
    with open(vocab_path, encoding="utf-8") as f:
        vocab = json.load(f)
    del vocab["<|endoftext|>"]
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    tokenizer = BytePairTokenizer(vocab_path, merges_path)
    lm = GPTLanguageModel(tiny_config(vocab_size=len(vocab), eos_token_id=50256,
                                      bos_token_id=50256))
    export = GeneratorExport(lm, tokenizer, "greedy")
    assert export.start_token_id == lm.config.pad_token_id < len(vocab)
    out = export.serve(tf.constant(["", "ab"]), tf.constant(3), tf.constant(0.0), tf.constant(1))
    assert out["new_tokens"].numpy().tolist() == [3, 3]
