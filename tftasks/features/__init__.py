"""Contextual token vectors from chosen BERT layers: what Google's extract_features.py does.

`run(FeaturesConfig(...))` is what `extract_features.py` does, without absl:
input lines (`examples`: one text, or `text_a ||| text_b`) -> Google's
[CLS]/[SEP] packing and truncation -> `BertModel.hidden_states` -> one JSON
line per input line with Google's schema (`output`).

Example:

    from tftasks.features import FeaturesConfig, run
    summary = run(FeaturesConfig(input_file="input.txt", output_file="out.jsonl",
                                 init_checkpoint="uncased_L-12_H-768_A-12"))
"""

from tftasks.features.config import FeaturesConfig


def run(config, progress=None):
    """`tftasks.features.runner.run` (TensorFlow is imported on the first call)."""
    from tftasks.features import runner
    return runner.run(config, progress)


__all__ = ["FeaturesConfig", "run"]
