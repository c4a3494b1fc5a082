"""End-to-end runs of the programs: `classifier_sst2`, `gpt_shakespeare`, `unchanged`.

Each runs the command-line programs as a user does (subprocesses) on real
data under `--data_dir` and reports quality and time; `unchanged`
fingerprints their outputs to compare across a refactor.
"""
