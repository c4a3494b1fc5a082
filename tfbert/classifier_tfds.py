"""Examples from TensorFlow Datasets by name (`--tfds_name=glue/sst2`, `imdb_reviews`).

The text and label features are inferred from the dataset's features where
that is unambiguous, otherwise named by `--tfds_text_keys`/`--tfds_label_key`:

- texts: the one `Text` feature, or a known pair in this order
  (`sentence1, sentence2`, `question1, question2`, `question, sentence`,
  `premise, hypothesis`, `question, passage`, ...);
- label: the feature called "label", else the only `ClassLabel`;
- task type: "classification" for a `ClassLabel` (label names and their
  order are the dataset's), "regression" for a float label (glue/stsb).

Splits default to "train", the first "validation*" split (else "test") and
"test". A label of -1 (GLUE's hidden test labels) reads as unlabelled.
Splits are read into memory, like the local files.

Example:

    source = TfdsSource("glue/mrpc")
    train = source.read("train")          # Examples with text_a, text_b, labels
    labels = source.label_space()          # LabelSpace("classification", ["not_equivalent", ...])
"""

from absl import logging

from tfbert.classifier_data import DataError, Examples, LabelSpace

KNOWN_TEXT_PAIRS = (("sentence1", "sentence2"), ("question1", "question2"),
                    ("question", "sentence"), ("premise", "hypothesis"),
                    ("question", "passage"), ("sentence", "question"),
                    ("hypothesis", "premise"))


class TfdsSource:
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

    def label_space(self):
        """Class names of a ClassLabel, or regression for a float label."""
        import tensorflow_datasets as tfds
        feature = self.features[self.label_key]
        if isinstance(feature, tfds.features.ClassLabel):
            return LabelSpace("classification", feature.names,
                              origin=f"of TFDS {self.name!r}")
        import numpy as np
        dtype = getattr(feature, "np_dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.floating):
            return LabelSpace("regression", origin=f"of TFDS {self.name!r}")
        raise DataError(f"--tfds_name={self.name}: label feature {self.label_key!r} is "
                        f"{feature}; expected a ClassLabel or a float.")

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

    def read(self, split, max_rows=None):
        """Reads `split` (e.g. "train", "test[:10%]") into `Examples` (labels as names)."""
        import tensorflow_datasets as tfds
        try:
            dataset = tfds.load(self.name, split=split, data_dir=self.data_dir,
                                shuffle_files=False)
        except Exception as e:
            raise DataError(f"--tfds_name={self.name}, split {split!r}: {e}") from None
        if max_rows:
            dataset = dataset.take(max_rows)
        space = self.label_space()
        texts = [[] for _ in self.text_keys]
        labels = []
        for row in tfds.as_numpy(dataset):
            for column, key in zip(texts, self.text_keys):
                column.append(row[key].decode("utf-8", errors="replace"))
            value = row[self.label_key]
            if space.task_type == "regression":
                labels.append(float(value))
            else:
                labels.append(None if int(value) < 0 else space.names[int(value)])
        source = f"tfds:{self.name}/{split}"
        if not texts[0]:
            raise DataError(f"{source}: the split has no examples.")
        unlabelled = all(v is None for v in labels)
        return Examples(texts[0], texts[1] if self.has_text_b else None,
                        None if unlabelled else labels, source,
                        list(range(1, len(labels) + 1)), f"feature {self.label_key!r}")


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
