"""`run(config)`: one fine-tuning run of `run_classifier.py`, callable without absl.

Checks the options (`ClassifierConfig.validate`), resolves the model's
config and vocab (`tftasks.common.model_files`), checks `max_seq_length`
against the model, then runs a `ClassifierSession`. Everything that can be
checked before work starts raises `ConfigError`/`OptionError` naming the
option as a flag, with nothing written; bad data raises `DataError`.

Example:

    from tftasks.classification import ClassifierConfig, run
    results = run(ClassifierConfig(train_file="train.tsv", eval_file="dev.tsv",
                                   init_checkpoint="hf_bert", do_train=True,
                                   do_eval=True, output_dir="out"))
    results["eval"]["accuracy"]
"""

from tftasks.classification.session import ClassifierSession
from tftasks.common.model_files import resolve_model


def run(config, record=None):
    """Validates `config`, then trains/evaluates/predicts/exports; returns the results dict.

    Args:
      config: a `ClassifierConfig`.
      record: called with the output folder by the chief once the data and
        model are checked, before anything else is written (e.g.
        `tfcore.cli.write_run_record`, flags.txt).
    Returns:
      The dict written to `output_dir/metrics.json`, plus `files`: the paths
      written.
    """
    config.validate()
    files, bert_config = resolve_model(config)
    return ClassifierSession(config, files, bert_config).run(record=record)
