"""`run(config)`: one run of `run_squad.py`, callable without absl.

Checks the options (`SquadConfig.validate`), resolves the model's config and
vocab (`tftasks.common.model_files`: the flags, else the `--init_checkpoint`
folder's, Google TF1 or Hugging Face), checks `max_seq_length` against the
model, then runs a `SquadSession`. Option errors raise `ConfigError` naming
the flag, with nothing written; bad data raises `DataError`.

Example:

    from tftasks.squad import SquadConfig, run
    results = run(SquadConfig(init_checkpoint="all-MiniLM-L6-v2", do_train=True,
                              train_file="train-v1.1.json.gz", do_predict=True,
                              predict_file="dev-v1.1.json", output_dir="out"))
    results["eval"]["f1"]
"""

from tftasks.common.model_files import resolve_model
from tftasks.squad.session import SquadSession


def run(config, record=None):
    """Validates `config`, then trains/predicts/exports; returns the results dict.

    `record(output_dir)` is called by the chief once the data and model are
    checked (e.g. `tfcore.cli.write_run_record`, flags.txt). The returned
    dict is `output_dir/metrics.json` plus `files`: the paths written.
    """
    config.validate()
    files, bert_config = resolve_model(config)
    return SquadSession(config, files, bert_config).run(record=record)
