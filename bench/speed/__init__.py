"""Side-by-side speed of ours, keras-hub and Hugging Face PyTorch (`python -m bench ceiling|...`).

One module per comparison (`bert_train`, `gpt_train`, `generate`, `serving`),
the machine's ceilings (`ceiling`), op profiles (`op_profile`), the
interleaved timing harness (`harness`, `training`), the PyTorch peer that runs
under `--torch_python` as a subprocess (`torch_peer`, client in `peer`), the
writer of bench/RESULTS.md's generated blocks (`results`), and the flags
(`cli`). `generate_cache` times cached generation against an uncached loop.
"""
