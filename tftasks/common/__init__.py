"""The skeleton every fine-tuning task shares.

- `errors`: `DataError` (bad input data) and `ConfigError` (a bad option).
- `examples`, `tables`, `tfds`: text examples from local files and TFDS.
- `model_files`: config, vocab and casing of a pretrained BERT folder.
- `batches`: padding trim and the inference loop over a dataset.
- `metrics`: F1, Matthews correlation, Pearson/Spearman, "is better".
- `outputs`, `best_checkpoint`: the files a run writes.
- `evaluation`, `session`: periodic evaluation and the run skeleton.
"""
