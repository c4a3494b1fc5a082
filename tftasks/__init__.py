"""Fine-tuning applications built on the model packages (tfbert, tfgpt).

Every task is a sibling package sharing one skeleton, `tftasks.common`:
data sources (local TSV/CSV/JSON lines files, TensorFlow Datasets), metric
helpers, output files (Google's `eval_results.txt` and `test_results.tsv`,
`labels.json`, the best checkpoint) and the fine-tuning session that trains
with periodic evaluation, evaluates, predicts and exports.

- `tftasks.classification`: GLUE/TFDS/local-file sentence (pair)
  classification, regression and multi-label (`run_classifier.py`).

Each task is a frozen config dataclass (fields == the script's flag names)
and one call, e.g. `tftasks.classification.run(ClassifierConfig(...))`:
usable without absl. This module imports nothing heavy.
"""
