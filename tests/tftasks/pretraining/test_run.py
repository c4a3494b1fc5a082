"""`tftasks.pretraining` from Python, without absl flags: config, presets, run."""

import json
import os

import pytest

from tftasks.pretraining import OptionError, PretrainingConfig, preset_config, run

# A tiny GPT on the embedded characters: a few seconds on 2 CPUs.
TINY_GPT = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=32, max_position_embeddings=16,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                bos_token_id=0, eos_token_id=0)


def test_config_defaults_are_googles_and_validate_names_the_flag():
    config = PretrainingConfig(input_file="x", bert_config_file="c.json", do_train=True)
    assert (config.max_seq_length, config.train_batch_size, config.num_train_steps) == (
        128, 32, 100000)
    assert config.with_defaults().output_dir == "pretraining_output"
    assert PretrainingConfig(model="gpt").with_defaults().output_dir == "gpt_output"
    for bad, flag in ((dict(learning_rate=float("nan")), "--learning_rate"),
                      (dict(num_warmup_steps=200000), "--num_warmup_steps"),
                      (dict(dtype="float8"), "--dtype"),
                      (dict(do_train=False), "--do_train")):
        with pytest.raises(OptionError, match=flag):
            config.replace(**bad).validate()


def test_presets_fill_settings_and_overrides_win():
    gpt = preset_config("embedded_gpt", num_train_steps=7)
    assert (gpt.model, gpt.decay, gpt.adam_beta2, gpt.num_train_steps) == (
        "gpt", "cosine", 0.99, 7)
    assert gpt.is_embedded_default and gpt.do_train and gpt.do_eval
    bert = preset_config("embedded_bert")
    assert (bert.num_train_steps, bert.max_predictions_per_seq) == (600, 10)
    with pytest.raises(KeyError, match="embedded_bert"):
        preset_config("nope")


def test_run_without_absl_trains_evaluates_and_writes_a_pretrained_folder(tmp_path,
                                                                          monkeypatch):
    from tftasks.pretraining import presets
    tiny = presets.Preset("gpt", TINY_GPT, presets.PRESETS["embedded_gpt"].settings,
                          ("gpt_train_records", "gpt_heldout_records"))
    monkeypatch.setitem(presets.PRESETS, "embedded_gpt", tiny)
    out = str(tmp_path / "gpt")
    config = preset_config("embedded_gpt", output_dir=out, max_seq_length=16,
                           train_batch_size=8, eval_batch_size=8, num_train_steps=4,
                           num_warmup_steps=1, save_checkpoints_steps=2,
                           steps_per_execution=2, max_eval_steps=2, deterministic=True,
                           do_export=False)
    lines = []
    result = run(config, notify=lines.append)
    assert result.metrics["steps"] == 4 and result.export_dir is None
    assert 0.0 <= result.metrics["eval"]["accuracy"] <= 1.0
    with open(os.path.join(out, "metrics.json")) as f:
        assert json.load(f)["weights_sha256"] == result.metrics["weights_sha256"]
    for name in ("config.json", "model.safetensors", "vocab.json", "ckpt-4.index",
                 "data/DONE-gpt"):
        assert os.path.exists(os.path.join(out, name)), name
    assert [n for n in os.listdir(os.path.join(out, "eval")) if "tfevents" in n]
    assert any("Embedded default" in line for line in lines)

    # A rerun trains nothing and keeps the first run's train figures.
    again = run(config, notify=lines.append)
    assert "nothing to train" in lines[-1]
    assert again.metrics["train"] == result.metrics["train"]

