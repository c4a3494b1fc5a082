"""The splits and tag set of one `run_ner.py` run, from CoNLL files or TFDS.

The tag set is the saved one (`labels.json` of the run or of the folder it
starts from) when there is one, so reruns, evaluation-only runs and the
export agree; else it is learned from the training split (`--tag_scheme`,
auto-detected by default), or taken from a TFDS `ClassLabel`. Evaluation tags
outside the tag set are a `DataError` naming the line.

Example:

    data = load_ner_data(config, ["train", "eval"], saved_tag_set=None)
    data.splits["train"].words[0], data.tag_set.names, data.tag_ids["eval"][0]
"""

import dataclasses
from typing import Dict

from absl import logging

from tftasks.common.errors import DataError
from tftasks.ner.conll import Sentences, read_conll
from tftasks.ner.labels import TagSet
from tftasks.ner.tags import scheme_of_names

FILES = {"train": "train_file", "eval": "eval_file", "predict": "predict_file"}


@dataclasses.dataclass
class NerData:
    """`splits`: {split: Sentences}; `tag_ids`: {split: tag ids per word} of train and eval."""

    name: str
    splits: Dict[str, Sentences]
    tag_set: TagSet
    tag_ids: Dict[str, list]


def _read_splits(config, need):
    c = config
    if c.tfds_name:
        from tftasks.ner.tfds_source import TfdsNerSource
        source = TfdsNerSource(c.tfds_name, c.tfds_data_dir, c.tfds_tokens_key, c.tfds_tags_key)
        chosen = {"train": c.tfds_train_split, "eval": c.tfds_eval_split,
                  "predict": c.tfds_predict_split}
        splits = {s: source.read(chosen[s] or source.default_split(s),
                                 c.max_train_rows if s == "train" else None) for s in need}
        scheme = c.tag_scheme if c.tag_scheme != "auto" else scheme_of_names(source.tag_names)
        return c.tfds_name, splits, TagSet(source.tag_names, scheme)
    splits = {s: read_conll(getattr(c, FILES[s]), c.token_column, c.tag_column,
                            need_tags=(s != "predict")) for s in need}
    if "train" in splits:
        splits["train"] = splits["train"].head(c.max_train_rows)
    return "conll", splits, None


def load_ner_data(config, need, saved_tag_set=None):
    """`NerData` for the splits in `need` ("train", "eval", "predict"); see the module doc."""
    name, splits, tfds_tags = _read_splits(config, need)
    tag_set = saved_tag_set or tfds_tags
    if tag_set is None:
        if "train" not in splits:
            raise DataError("No tag set: the run has no labels.json (in --output_dir or "
                            "--init_checkpoint's folder) and no --train_file to learn one from.")
        tag_set = TagSet.learn(splits["train"], config.tag_scheme)
    elif config.tag_scheme not in ("auto", tag_set.scheme) and saved_tag_set:
        raise DataError(f"--tag_scheme={config.tag_scheme}, but the run being continued used "
                        f"{tag_set.scheme}.")
    # Prediction only echoes the gold tags it may have (and scores them): any tag goes.
    tag_ids = {s: tag_set.encode(sentences) for s, sentences in splits.items()
               if sentences.tags is not None and s != "predict"}
    for split, sentences in splits.items():
        logging.info("%s: %d sentences, %d words (%s)", split, len(sentences),
                     sum(map(len, sentences.words)), sentences.source)
    return NerData(name, splits, tag_set, tag_ids)
