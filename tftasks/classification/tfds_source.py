"""Classification examples and labels from TensorFlow Datasets (`--tfds_name`).

Texts and label come from `tftasks.common.tfds.TfdsDataset` (inferred or
named features). The task type follows the label feature: "classification"
for a `ClassLabel` (label names and their order are the dataset's),
"regression" for a float label (glue/stsb). A label of -1 (GLUE's hidden
test labels) reads as unlabelled. Splits are read into memory, like the
local files.

Example:

    source = TfdsSource("glue/mrpc")
    train = source.read("train")          # Examples with text_a, text_b, labels
    labels = source.label_space()          # LabelSpace("classification", ["not_equivalent", ...])
"""

from tftasks.classification.labels import LabelSpace
from tftasks.common.errors import DataError
from tftasks.common.examples import Examples
from tftasks.common.tfds import TfdsDataset


class TfdsSource(TfdsDataset):
    """A TFDS dataset read as a classification, regression or multi-label task."""

    def label_space(self):
        """Class names of a ClassLabel, or regression for a float label."""
        import numpy as np
        import tensorflow_datasets as tfds
        feature = self.features[self.label_key]
        if isinstance(feature, tfds.features.ClassLabel):
            return LabelSpace("classification", feature.names,
                              origin=f"of TFDS {self.name!r}")
        dtype = getattr(feature, "np_dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.floating):
            return LabelSpace("regression", origin=f"of TFDS {self.name!r}")
        raise DataError(f"--tfds_name={self.name}: label feature {self.label_key!r} is "
                        f"{feature}; expected a ClassLabel or a float.")

    def read(self, split, max_rows=None):
        """Reads `split` (e.g. "train", "test[:10%]") into `Examples` (labels as names)."""
        import tensorflow_datasets as tfds
        dataset = self.load(split, max_rows)
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
