"""Benchmarks and development checks, run as `python -m bench NAME` (see bench/registry.py).

Groups, one subpackage each:

- `bench.speed`: side-by-side speed of ours, keras-hub and Hugging Face PyTorch
  (training steps, generation, serving, the machine's ceilings);
- `bench.parity`: our outputs against reference implementations with real
  weights and data (MiniLM, Hugging Face tokenizers, exported classifiers);
- `bench.data`: the TFRecord writer and reader against Google's script;
- `bench.runs`: end-to-end runs of the programs (SST-2, Tiny Shakespeare,
  behaviour fingerprints).

Figures land in bench/RESULTS.md, by topic. Nothing here is part of the
test suite or of the installed packages.
"""
