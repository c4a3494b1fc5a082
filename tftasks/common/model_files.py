"""Where a BERT fine-tuning run's config, vocab and casing come from.

`--bert_config_file` and `--vocab_file` when given, else the
`--init_checkpoint` folder's (Google TF1: `bert_config.json`; Hugging Face:
`config.json`; ours: `bert_config.json`), and `vocab.txt`. Without an
explicit `--do_lower_case` (None), a Hugging Face folder's
`tokenizer_config.json` decides the casing, else uncased (Google's default).

Example:

    files = resolve_model_files("uncased_L-12_H-768_A-12")
    files.config_file, files.vocab_file, files.do_lower_case
    files, bert_config = resolve_model(run_config)   # and the config, checked
"""

import dataclasses
import json
import os
from typing import Optional

from tftasks.common.errors import ConfigError


@dataclasses.dataclass
class ModelFiles:
    """Where the config, vocab and initial weights come from."""

    config_file: str
    vocab_file: str
    do_lower_case: bool
    init_checkpoint: Optional[str]


def checkpoint_folder(init_checkpoint):
    """The folder of `init_checkpoint` (a folder, or a TF1 checkpoint prefix in one)."""
    if os.path.isdir(init_checkpoint):
        return init_checkpoint
    return os.path.dirname(init_checkpoint)


def resolve_model_files(init_checkpoint=None, bert_config_file=None, vocab_file=None,
                        do_lower_case=None):
    """`ModelFiles` from the options, else from `init_checkpoint`'s folder.

    Raises `ConfigError` naming the flag when a file is missing.
    """
    folder = None
    if init_checkpoint:
        folder = checkpoint_folder(init_checkpoint)
        if not (os.path.isdir(init_checkpoint) or os.path.exists(init_checkpoint + ".index")):
            raise ConfigError(f"--init_checkpoint={init_checkpoint}: no such folder or "
                              "checkpoint.")
    given = {"bert_config_file": bert_config_file, "vocab_file": vocab_file}

    def from_folder(flag, names):
        if given[flag]:
            return given[flag]
        for name in names:
            if folder and os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        where = f" and {folder} has none of {list(names)}" if folder else ""
        raise ConfigError(f"--{flag} is required (no --init_checkpoint folder to take it "
                          f"from{where}).")

    config_file = from_folder("bert_config_file", ("bert_config.json", "config.json"))
    vocab = from_folder("vocab_file", ("vocab.txt",))
    for flag, path in (("bert_config_file", config_file), ("vocab_file", vocab)):
        if not os.path.isfile(path):
            raise ConfigError(f"--{flag}={path}: no such file.")
    lower = True if do_lower_case is None else do_lower_case
    tokenizer_config = os.path.join(folder, "tokenizer_config.json") if folder else ""
    if do_lower_case is None and os.path.isfile(tokenizer_config):
        with open(tokenizer_config, encoding="utf-8") as f:
            lower = bool(json.load(f).get("do_lower_case", lower))
    return ModelFiles(config_file, vocab, lower, init_checkpoint)


def resolve_model(config):
    """`(ModelFiles, BertConfig)` of a fine-tuning run's config; ConfigError naming the flag.

    `config` has init_checkpoint, bert_config_file, vocab_file, do_lower_case
    and max_seq_length (which must fit the model's max_position_embeddings).
    """
    from tfbert.config import BertConfig
    files = resolve_model_files(config.init_checkpoint, config.bert_config_file,
                                config.vocab_file, config.do_lower_case)
    try:
        bert_config = BertConfig.from_json_file(files.config_file)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if config.max_seq_length > bert_config.max_position_embeddings:
        raise ConfigError(f"--max_seq_length={config.max_seq_length} exceeds the model's "
                          f"max_position_embeddings {bert_config.max_position_embeddings}.")
    return files, bert_config
