"""`python -m bench`: side-by-side speed of ours, keras-hub and Hugging Face PyTorch.

One module per comparison (`bert_train`, `gpt_train`, `generate`, `serving`),
the machine's ceilings (`ceiling`), the interleaved timing harness
(`harness`), the PyTorch peer that runs in /work/refvenv as a subprocess
(`torch_peer`, client in `peer`), and the writer of bench/RESULTS.md's
generated section (`results`). See bench/__main__.py for the command line.
"""
