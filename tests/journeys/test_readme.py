"""The README runs as written: every runnable block, in order, from a fresh folder.

This is also the main user journey (`## From pretraining to serving`):
pretrain BERT -> fine-tune from its folder -> export the encoder and its TF
Hub preprocessor -> pretrain a GPT right after -> generate from its folder ->
serve (tf.saved_model.load, the session loader, saved_model_cli, TF Hub's
KerasLayer, Keras 3's TFSMLayer). After the blocks, every SavedModel the
journey wrote is checked in the session-based loader against
`tf.saved_model.load`.
"""

import json
import os

import pytest

from tests.journeys.readme_blocks import prepare_folder, readme_blocks, run_block
from tests.serving_clients import assert_loaders_agree, saved_model_cli_run
from tests.testing import REPO_ROOT

README = os.path.join(REPO_ROOT, "README.md")


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("readme"))
    prepare_folder(folder, REPO_ROOT)
    results = []
    for line, language, code in readme_blocks(README):
        result = run_block(language, code, folder)
        results.append((line, language, code, result))
        if result.returncode:
            break  # later blocks read what this one should have written
    return folder, results


def test_readme_has_the_journey_blocks():
    codes = "\n".join(code for _, _, code in readme_blocks(README))
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
EXPORTS["gpt_savedmodel"] = EXPORTS["gpt_output/saved_model"]  # python -m tfgpt.export
# One request per export kind for saved_model_cli (tensorflow_text ops registered).
CLI_REQUESTS = {
    "pretraining_output/saved_model": ("serving_default", "text=['Return the sum.']"),
    "encoder_savedmodel": ("serving_default", "text=['Return the sum.']"),
    "classifier_output/saved_model": ("serving_default", "text_a=['a good function']"),
    "gpt_output/saved_model": ("logits", "token_ids=[[1,2,3]]"),
    "gpt_savedmodel": ("logits", "token_ids=[[1,2,3]]"),
}


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_journey_exports_agree_in_the_session_loader(journey, export):
    folder, results = journey
    assert all(r.returncode == 0 for *_, r in results), "a README block failed"
    assert_loaders_agree(os.path.join(folder, export), EXPORTS[export])


@pytest.mark.parametrize("export", sorted(CLI_REQUESTS))
def test_journey_exports_run_in_saved_model_cli(journey, export):
    folder, results = journey
    assert all(r.returncode == 0 for *_, r in results), "a README block failed"
    signature, exprs = CLI_REQUESTS[export]
    out = saved_model_cli_run(os.path.join(folder, export), signature, exprs)
    assert "Result for output key" in out, out[-2000:]
