"""Token-classification sentences from TensorFlow Datasets (`--tfds_name=conll2003`).

A dataset with a sequence of words (`--tfds_tokens_key`, default "tokens")
and a sequence of `ClassLabel` tags of the same length (`--tfds_tags_key`,
default "ner"). Tag names and their order are the dataset's. Splits default
to "train", the first "validation*" split (else "test") and "test".

Example:

    source = TfdsNerSource("conll2003")
    source.tag_names            # ['O', 'B-PER', 'I-PER', ...]
    train = source.read("train", max_rows=1000)      # Sentences
"""

from tftasks.common.errors import DataError
from tftasks.common.tfds import TfdsDataset
from tftasks.ner.conll import Sentences


class TfdsNerSource(TfdsDataset):
    """One TFDS dataset read as words and tags (`TfdsDataset` with the two keys named)."""

    def __init__(self, name, data_dir=None, tokens_key="tokens", tags_key="ner"):
        import tensorflow_datasets as tfds
        super().__init__(name, data_dir, text_keys=[tokens_key], label_key=tags_key)
        tags = self.features[tags_key]
        inner = getattr(tags, "feature", None)
        if not isinstance(inner, tfds.features.ClassLabel):
            raise DataError(f"--tfds_name={name}: feature {tags_key!r} (--tfds_tags_key) is "
                            f"{tags}; expected a Sequence of ClassLabel.")
        self.tag_names = list(inner.names)
        self.tokens_key, self.tags_key = tokens_key, tags_key

    def read(self, split, max_rows=None):
        """`split` as `Sentences` (tags as names); DataError for records of unequal lengths."""
        import tensorflow_datasets as tfds
        source = f"tfds:{self.name}/{split}"
        words, tags, lines = [], [], []
        for number, row in enumerate(tfds.as_numpy(self.load(split, max_rows)), 1):
            tokens = [t.decode("utf-8", errors="replace") for t in row[self.tokens_key]]
            ids = [int(i) for i in row[self.tags_key]]
            if len(tokens) != len(ids):
                raise DataError(f"{source}, record {number}: {len(tokens)} tokens but "
                                f"{len(ids)} tags.")
            if not tokens:
                continue
            words.append(tokens)
            tags.append([self.tag_names[i] for i in ids])
            lines.append([number] * len(tokens))
        if not words:
            raise DataError(f"{source}: the split has no sentences.")
        return Sentences(words, tags, source, lines, unit="record")
