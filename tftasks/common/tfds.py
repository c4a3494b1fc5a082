"""TensorFlow Datasets by name (`--tfds_name=glue/sst2`, `imdb_reviews`): features, splits.

The text and label features are inferred from the dataset's features where
that is unambiguous, otherwise named by `--tfds_text_keys`/`--tfds_label_key`:

- texts: the one `Text` feature, or a known pair in this order
  (`sentence1, sentence2`, `question1, question2`, `question, sentence`,
  `premise, hypothesis`, `question, passage`, ...);
- label: the feature called "label", else the only `ClassLabel`.

Splits default to "train", the first "validation*" split (else "test") and
"test". A task reads the rows into its own examples (see
`tftasks.classification.tfds_source`).

Example:

    dataset = TfdsDataset("glue/mrpc")
    dataset.text_keys, dataset.label_key       # ['sentence1', 'sentence2'], 'label'
    for row in dataset.rows("train"): ...      # dicts of NumPy values
"""

from absl import logging

from tftasks.common.errors import DataError

KNOWN_TEXT_PAIRS = (("sentence1", "sentence2"), ("question1", "question2"),
                    ("question", "sentence"), ("premise", "hypothesis"),
                    ("question", "passage"), ("sentence", "question"),
                    ("hypothesis", "premise"))


class TfdsDataset:
    """One TFDS dataset: inferred or given text/label keys and its splits."""

    def __init__(self, name, data_dir=None, text_keys=None, label_key=None):
        import tensorflow_datasets as tfds
        self.name, self.data_dir = name, data_dir
        try:
            self.builder = tfds.builder(name, data_dir=data_dir)
        except Exception as e:  # tfds raises several types for unknown names
            raise DataError(f"--tfds_name={name}: {e}") from None
        features = self.builder.info.features
        self.features = features
        self.text_keys = list(text_keys) if text_keys else infer_text_keys(features, name)
        self.label_key = label_key or infer_label_key(features, name)
        for key in self.text_keys + [self.label_key]:
            if key not in features:
                raise DataError(f"--tfds_name={name}: no feature {key!r}; features: "
                                f"{sorted(features.keys())}.")
        if len(self.text_keys) not in (1, 2):
            raise DataError(f"--tfds_text_keys takes 1 or 2 keys, got {self.text_keys}.")
        logging.info("TFDS %s: texts %s, label %s", name, self.text_keys, self.label_key)

    @property
    def has_text_b(self):
        return len(self.text_keys) == 2

    def default_split(self, purpose):
        """'train'; for 'eval' the first validation* split (else 'test'); 'test'."""
        splits = sorted(self.builder.info.splits.keys())
        if purpose == "train":
            return "train"
        if purpose == "eval":
            validation = [s for s in splits if s.startswith("validation")]
            if validation:
                return validation[0]
            return "test" if "test" in splits else "validation"
        return "test"

    def load(self, split, max_rows=None):
        """`split` (e.g. "train", "test[:10%]") as a `tf.data.Dataset`, unshuffled."""
        import tensorflow_datasets as tfds
        try:
            dataset = tfds.load(self.name, split=split, data_dir=self.data_dir,
                                shuffle_files=False)
        except Exception as e:
            raise DataError(f"--tfds_name={self.name}, split {split!r}: {e}") from None
        if max_rows:
            dataset = dataset.take(max_rows)
        return dataset


def infer_text_keys(features, name):
    """The text feature(s) of a dataset, or DataError asking for --tfds_text_keys."""
    import tensorflow_datasets as tfds
    texts = [k for k, f in features.items() if isinstance(f, tfds.features.Text)]
    if len(texts) == 1:
        return texts
    for pair in KNOWN_TEXT_PAIRS:
        if set(pair) == set(texts):
            return list(pair)
    raise DataError(f"--tfds_name={name}: cannot tell which of the text features {texts} "
                    "to use; pass --tfds_text_keys=KEY or KEY_A,KEY_B.")


def infer_label_key(features, name):
    """"label" if present, else the only ClassLabel; DataError otherwise."""
    import tensorflow_datasets as tfds
    if "label" in features:
        return "label"
    classes = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
    if len(classes) == 1:
        return classes[0]
    raise DataError(f"--tfds_name={name}: cannot tell the label feature among "
                    f"{sorted(features.keys())}; pass --tfds_label_key.")
