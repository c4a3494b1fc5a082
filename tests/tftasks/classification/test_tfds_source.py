"""TFDS datasets: text and label features inferred, labels and task type from the features."""

import pytest

from tftasks.common.errors import DataError


def test_tfds_features_are_inferred():
    tfds = pytest.importorskip("tensorflow_datasets")
    from tftasks.classification.tfds_source import TfdsSource
    with tfds.testing.mock_data(num_examples=5):
        mrpc = TfdsSource("glue/mrpc")
        assert mrpc.text_keys == ["sentence1", "sentence2"] and mrpc.label_key == "label"
        assert mrpc.label_space().names == ["not_equivalent", "equivalent"]
        train = mrpc.read("train")
        assert len(train) == 5 and len(train.text_b) == 5
        assert set(train.labels) <= {"not_equivalent", "equivalent"}
        assert TfdsSource("imdb_reviews").text_keys == ["text"]
        assert TfdsSource("glue/stsb").label_space().task_type == "regression"
        with pytest.raises(DataError, match="no feature 'review'"):
            TfdsSource("imdb_reviews", text_keys=["review"])
