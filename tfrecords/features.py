"""The one schema of every TFRecord kind: writer, reader and tests import it.

A schema is an ordered tuple of `Feature(name, dtype, length)`; every feature
is a fixed-length list (`tf.io.FixedLenFeature`). BERT records use the names,
order and types of google-research/bert (`create_pretraining_data.py` writes
them, `run_pretraining.py`'s `name_to_features` reads them), so files written
by either side are read by the other.

Example:

    schema = bert_schema(max_seq_length=128, max_predictions_per_seq=20)
    spec = feature_spec(schema)   # {"input_ids": FixedLenFeature([128], tf.int64), ...}
"""

import dataclasses

INT64 = "int64"
FLOAT32 = "float32"

# GPT records hold seq_length + 1 tokens: inputs are [:-1], targets [1:].
GPT_TOKEN_IDS = "token_ids"


@dataclasses.dataclass(frozen=True)
class Feature:
    """One fixed-length feature of a `tf.train.Example`.

    Attributes:
      name: the feature key.
      dtype: `INT64` (an `int64_list`) or `FLOAT32` (a `float_list`).
      length: number of values in every record.
    """
    name: str
    dtype: str
    length: int


def bert_schema(max_seq_length, max_predictions_per_seq):
    """Google's BERT pretraining features, in Google's writing order.

    `input_ids`, `input_mask`, `segment_ids`: `[max_seq_length]`;
    `masked_lm_positions`, `masked_lm_ids`: `[max_predictions_per_seq]`, zero
    padded; `masked_lm_weights`: float `[max_predictions_per_seq]`, 1.0 for a
    real prediction, 0.0 for padding; `next_sentence_labels`: `[1]`, 1 when
    segment B is a random segment, 0 when it is the actual next one.
    """
    return (
        Feature("input_ids", INT64, max_seq_length),
        Feature("input_mask", INT64, max_seq_length),
        Feature("segment_ids", INT64, max_seq_length),
        Feature("masked_lm_positions", INT64, max_predictions_per_seq),
        Feature("masked_lm_ids", INT64, max_predictions_per_seq),
        Feature("masked_lm_weights", FLOAT32, max_predictions_per_seq),
        Feature("next_sentence_labels", INT64, 1),
    )


def gpt_schema(seq_length):
    """GPT records: one feature `token_ids`, int64 `[seq_length + 1]`."""
    return (Feature(GPT_TOKEN_IDS, INT64, seq_length + 1),)


def feature_spec(schema):
    """Schema -> `{name: tf.io.FixedLenFeature([length], tf.int64|tf.float32)}`."""
    import tensorflow as tf  # Deferred: the schema itself is plain Python.
    dtypes = {INT64: tf.int64, FLOAT32: tf.float32}
    return {f.name: tf.io.FixedLenFeature([f.length], dtypes[f.dtype]) for f in schema}
