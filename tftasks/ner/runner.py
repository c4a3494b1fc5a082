"""`run(config)`: one run of `run_ner.py`, callable without absl.

Checks the options (`NerConfig.validate`), resolves the model's config and
vocab (`tftasks.common.model_files`, as classification does), checks
`max_seq_length` against the model, then runs a `NerSession`.

Example:

    from tftasks.ner import NerConfig, run
    results = run(NerConfig(train_file="train.conll", eval_file="dev.conll",
                            init_checkpoint="all-MiniLM-L6-v2", do_train=True,
                            do_eval=True, output_dir="out"))
    results["eval"]["f1"]
"""

from tftasks.common.model_files import resolve_model
from tftasks.ner.session import NerSession


def run(config, record=None):
    """Validates `config`, then trains/evaluates/predicts/exports; returns the results dict.

    `record(output_dir)` is called by the chief once the data and model are
    checked (e.g. `tfcore.cli.write_run_record`). The dict is that of
    `output_dir/metrics.json`, plus `files`: the paths written.
    """
    config.validate()
    files, bert_config = resolve_model(config)
    return NerSession(config, files, bert_config).run(record=record)
