"""Data benchmarks: the TFRecord pretraining-data writer and reader, beside Google's script.

`writer_speed`, `writer_memory`, `reader_speed`, `records_vs_google`,
`nsp_seeds` and `record_stats` (run with `python -m bench NAME`); shared
flags, corpora and timed subprocesses in `common`.
"""
