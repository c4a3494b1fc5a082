"""The README runs as written: every runnable block, in order, from a fresh folder.

This is also the main user journey (`## From pretraining to serving`):
pretrain BERT -> fine-tune from its folder -> export the encoder and its TF
Hub preprocessor -> pretrain a GPT right after -> generate from its folder ->
serve (tf.saved_model.load, the session loader, saved_model_cli, TF Hub's
KerasLayer, Keras 3's TFSMLayer). After the blocks, every SavedModel the
journey wrote is checked in the session-based loader against
`tf.saved_model.load` (all in one fresh process) and in `saved_model_cli run`
(one process too). The journey's own runs also carry the checks of the
embedded defaults: the quick start's BERT learns beyond the most frequent
token; the GPT pretrained after it in the same folder has its own data (the
CLI writes the same bytes) and is a Hugging Face GPT-2 folder.
"""

import json
import os
import re
import time

import numpy as np
import pytest

from tests.journeys.readme_blocks import prepare_folder, readme_blocks, run_block
from tests.serving_clients import assert_agree, compare_loaders_of, saved_model_cli_runs
from tests.testing import REPO_ROOT

README = os.path.join(REPO_ROOT, "README.md")


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("readme"))
    prepare_folder(folder, REPO_ROOT)
    results = []
    for line, language, code in readme_blocks(README):
        started = time.monotonic()
        result = run_block(language, code, folder)
        # Each block's time, for whoever keeps the suite within its budget (pytest -s).
        print(f"README.md line {line} ({language}): {time.monotonic() - started:.1f} s")
        results.append((line, language, code, result))
        if result.returncode:
            break  # later blocks read what this one should have written
    return folder, results


def readme_code():
    """The runnable blocks of the README, joined."""
    return "\n".join(code for _, _, code in readme_blocks(README))


def test_readme_has_the_journey_blocks():
    codes = readme_code()
    for command in ("python run_pretraining.py", "--init_checkpoint=pretraining_output",
                    "python run_pretraining.py --model=gpt",
                    "python -m tfgpt.generate --checkpoint_dir=gpt_output"):
        assert command in codes, command


def test_every_block_runs(journey):
    _, results = journey
    assert len(results) == len(readme_blocks(README))
    for line, language, code, result in results:
        assert result.returncode == 0, (
            f"README.md line {line} ({language}) failed with exit code {result.returncode}:\n"
            f"{code}\n--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n"
            f"{result.stderr[-3000:]}")


def test_fine_tuning_started_from_the_pretrained_folder(journey):
    folder, _ = journey
    with open(os.path.join(folder, "classifier_output", "metrics.json")) as f:
        metrics = json.load(f)
    assert metrics["eval"]["accuracy"] >= 0.0 and metrics["train"]
    with open(os.path.join(folder, "classifier_output", "flags.txt")) as f:
        assert "--init_checkpoint=pretraining_output" in f.read()


def test_generation_wrote_text_after_the_prompt(journey):
    _, results = journey
    generate = [r for _, _, code, r in results if "tfgpt.generate" in code]
    assert generate and "Return the " in generate[0].stdout
    assert len(generate[0].stdout.strip()) > len("Return the ")


def block_result(results, command):
    """The result of the first README block that runs `command`, which must have succeeded."""
    found = [(line, result) for line, _, code, result in results if command in code]
    assert found, f"no README block runs {command!r}"
    line, result = found[0]
    assert result.returncode == 0, f"README.md line {line} failed: {result.stderr[-3000:]}"
    return result


def test_quick_start_learns_beyond_the_most_frequent_token(journey):
    # The README's first command, as is: corpus -> vocab -> shards -> 600 steps -> eval.
    folder, results = journey
    block_result(results, "python run_pretraining.py")
    with open(os.path.join(folder, "pretraining_output", "metrics.json")) as f:
        metrics = json.load(f)["eval"]
    assert metrics["masked_lm_accuracy"] > 1.5 * metrics["masked_lm_accuracy_baseline"], metrics


def same_bytes(folder_a, folder_b, pattern=".tfrecord"):
    names = sorted(n for n in os.listdir(folder_a) if n.endswith(pattern))
    assert names and names == sorted(n for n in os.listdir(folder_b) if n.endswith(pattern))
    return all(open(os.path.join(folder_a, n), "rb").read()
               == open(os.path.join(folder_b, n), "rb").read() for n in names)


def test_gpt_pretrained_after_bert_in_the_same_folder(journey, tmp_path):
    # BERT's default ran first in this folder: it must leave nothing GPT could mistake
    # for its data.
    from tftasks.pretraining import preset_config
    folder, results = journey
    result = block_result(results, "python run_pretraining.py --model=gpt")
    assert "prompt -> generated text" in result.stdout
    output_dir = os.path.join(folder, "gpt_output")
    with open(os.path.join(output_dir, "metrics.json")) as f:
        metrics = json.load(f)
    # The embedded default's settings, with the README's --num_train_steps when it gives one.
    steps = re.search(r"run_pretraining\.py --model=gpt --num_train_steps=(\d+)", readme_code())
    expected = int(steps.group(1)) if steps else preset_config("embedded_gpt").num_train_steps
    assert metrics["steps"] == expected
    data = os.path.join(output_dir, "data")
    with open(os.path.join(data, "gpt_train_records", "vocab.json")) as f:
        vocab = json.load(f)
    # Better than a uniform guess over the characters.
    assert metrics["eval"]["lm_loss"] < np.log(len(vocab))
    # The output folder is a Hugging Face GPT-2 folder: generate reads it as it is.
    with open(os.path.join(output_dir, "vocab.json")) as f:
        assert json.load(f) == vocab
    # In-process data writing gives the CLI's bytes for the same settings.
    cli = str(tmp_path / "cli_heldout")
    written = run_block("bash", " ".join([
        "python -m tfrecords.create_pretraining_data",
        f"--input_file={os.path.join(data, 'corpus', 'heldout.txt')}",
        f"--vocab_file={os.path.join(data, 'gpt_train_records', 'vocab.json')}",
        f"--output_dir={cli} --num_shards=2 --model=gpt --tokenizer=char",
        "--max_seq_length=64 --random_seed=12345 --noprogress"]), folder)
    assert written.returncode == 0, written.stderr[-3000:]
    assert same_bytes(cli, os.path.join(data, "gpt_heldout_records"))


EXPORTS = {
    "pretraining_output/saved_model": {"serving_default": {"text": ["Return the sum.", ""]}},
    "encoder_savedmodel": {"serving_default": {"text": ["Return the sum.", "x"]}},
    "preprocessor_savedmodel": {"serving_default": {"text": ["Return the sum."]}},
    "classifier_output/saved_model": {"serving_default": {"text_a": ["a good function", ""]}},
    "gpt_output/saved_model": {
        "serving_default": {"prompt": ["def ", ""], "max_new_tokens": 8, "temperature": 0.0,
                            "seed": 1},
        "logits": {"token_ids": [[1, 2, 3]]}},
}
# python -m tfgpt.export: the same kind of export, here sampling (seeded).
EXPORTS["gpt_savedmodel"] = {
    "serving_default": {"prompt": ["The ", ""], "max_new_tokens": 8, "temperature": 1.0,
                        "seed": 3},
    "logits": {"token_ids": [[1, 2, 3]]}}
# One request per export kind for saved_model_cli (tensorflow_text ops registered).
CLI_REQUESTS = {
    "pretraining_output/saved_model": ("serving_default", "text=['Return the sum.']"),
    "encoder_savedmodel": ("serving_default", "text=['Return the sum.']"),
    "classifier_output/saved_model": ("serving_default", "text_a=['a good function']"),
    "gpt_output/saved_model": ("logits", "token_ids=[[1,2,3]]"),
    "gpt_savedmodel": ("logits", "token_ids=[[1,2,3]]"),
}


@pytest.fixture(scope="module")
def loader_reports(journey):
    """`{export: compare_loaders report}`: every journey export in one fresh process."""
    folder, results = journey
    assert all(r.returncode == 0 for *_, r in results), "a README block failed"
    reports = compare_loaders_of({os.path.join(folder, e): EXPORTS[e] for e in EXPORTS})
    return {e: reports[os.path.join(folder, e)] for e in EXPORTS}


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_journey_exports_agree_in_the_session_loader(loader_reports, export):
    report = loader_reports[export]
    assert sorted(report) == sorted(EXPORTS[export])
    assert_agree(report)


@pytest.fixture(scope="module")
def cli_outputs(journey):
    """`{export: stdout of saved_model_cli run}`: the commands one after the other in one process."""
    folder, results = journey
    assert all(r.returncode == 0 for *_, r in results), "a README block failed"
    exports = sorted(CLI_REQUESTS)
    outputs = saved_model_cli_runs([(os.path.join(folder, e), *CLI_REQUESTS[e]) for e in exports])
    return dict(zip(exports, outputs))


@pytest.mark.parametrize("export", sorted(CLI_REQUESTS))
def test_journey_exports_run_in_saved_model_cli(cli_outputs, export):
    out = cli_outputs[export]
    assert "Result for output key" in out, out[-2000:]
