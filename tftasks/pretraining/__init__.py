"""Pretraining BERT (MLM + NSP) and GPT (next token): config, named presets, one `run`.

    from tftasks.pretraining import PretrainingConfig, preset_config, run

    result = run(preset_config("embedded_gpt", num_train_steps=50, output_dir="gpt_out"))
    result.metrics["eval"]["lm_loss"]

    run(PretrainingConfig(bert_config_file="bert_config.json", input_file="records/*",
                          output_dir="out", do_train=True, do_eval=True))

Modules: config (PretrainingConfig, validate), presets (embedded_bert,
embedded_gpt), data (embedded data, input pipelines), models (BERT/GPT
recipes), baseline (most-frequent-token MLM baseline), runner (run),
summary (the CLI's printed summary). Importing this package does not import
TensorFlow; `run` does.
"""

from absl import logging

from tfcore.training_options import OptionError
from tftasks.pretraining.config import PretrainingConfig
from tftasks.pretraining.presets import PRESETS, preset_config


def run(config, run_record=None, notify=logging.info):
    """Trains, evaluates and exports as `config` says: `tftasks.pretraining.runner.run`.

    Returns a `PretrainingResult` (`metrics`, `output_dir`, `metrics_path`,
    `export_dir`, `seconds`); raises `OptionError` naming the flag of a bad value.
    """
    from tftasks.pretraining import runner
    return runner.run(config, run_record=run_record, notify=notify)


__all__ = ["OptionError", "PRESETS", "PretrainingConfig", "preset_config", "run"]
