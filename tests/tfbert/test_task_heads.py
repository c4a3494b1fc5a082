"""The span and token heads against Hugging Face PyTorch, and through Google's checkpoint names.

tests/fixtures/hf_bert_qa_tiny (`BertForQuestionAnswering`) and
hf_bert_ner_tiny (`BertForTokenClassification`, 5 labels) were written by
transformers' `save_pretrained` with every parameter perturbed; their
`reference.npz` holds PyTorch's logits on a padded batch
(tests/fixtures/make_hf_fixtures.py, run outside the suite).

Example:

    python -m pytest -q tests/tfbert/test_task_heads.py
"""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tfbert import BertSpanLabeler, BertTokenClassifier

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
QA_DIR = os.path.join(FIXTURES, "hf_bert_qa_tiny")
NER_DIR = os.path.join(FIXTURES, "hf_bert_ner_tiny")
# The bar for the same weights in float32.
ATOL = 1e-5


def reference(folder):
    """`(model inputs int32, mask bool [b, s], reference.npz arrays)` of a fixture."""
    with open(os.path.join(folder, "reference.json"), encoding="utf-8") as f:
        values = json.load(f)
    inputs = {name: np.asarray(values[name], np.int32)
              for name in ("input_ids", "input_mask", "segment_ids")}
    with np.load(os.path.join(folder, "reference.npz")) as arrays:
        return inputs, inputs["input_mask"].astype(bool), dict(arrays)


def max_diff(ours, theirs, where):
    """max |ours - theirs| over the positions `where` (bool, broadcast on trailing axes)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    where = where.reshape(where.shape + (1,) * (ours.ndim - where.ndim))
    return float(np.abs(np.where(where, ours - theirs, 0)).max())


@pytest.fixture(scope="module")
def span():
    inputs, mask, arrays = reference(QA_DIR)
    model = BertSpanLabeler.from_pretrained(QA_DIR)
    return model, inputs, mask, arrays


@pytest.fixture(scope="module")
def token():
    inputs, mask, arrays = reference(NER_DIR)
    model = BertTokenClassifier.from_pretrained(NER_DIR)
    return model, inputs, mask, arrays


def test_span_labeler_matches_pytorch_question_answering(span):
    model, inputs, mask, arrays = span
    assert not mask.all()  # padded
    out = model(inputs)
    for name in ("start_logits", "end_logits"):
        assert max_diff(out[name], arrays[name], mask) <= ATOL, name
        # Padding positions see the same (masked) keys on both sides.
        assert max_diff(out[name], arrays[name], ~mask) <= ATOL, f"{name} at padding"


def test_token_classifier_matches_pytorch_token_classification(token):
    model, inputs, mask, arrays = token
    assert model.num_labels == 5  # read from the checkpoint
    logits = model(inputs)
    assert logits.shape == arrays["logits"].shape
    assert max_diff(logits, arrays["logits"], mask) <= ATOL
    assert max_diff(logits, arrays["logits"], ~mask) <= ATOL


def test_span_labeler_saved_with_google_names_reloads(span, tmp_path):
    model, inputs, mask, arrays = span
    model.save_pretrained(str(tmp_path))
    reader = tf.train.load_checkpoint(str(tmp_path / "bert_model.ckpt"))
    shapes = reader.get_variable_to_shape_map()
    hidden = model.config.hidden_size
    assert shapes["cls/squad/output_weights"] == [2, hidden]
    assert shapes["cls/squad/output_bias"] == [2]
    assert not [n for n in shapes if "qa_outputs" in n]
    reloaded = BertSpanLabeler.from_pretrained(str(tmp_path))(inputs)
    for name in ("start_logits", "end_logits"):
        np.testing.assert_allclose(np.asarray(reloaded[name]), arrays[name], atol=ATOL)
        np.testing.assert_array_equal(np.asarray(reloaded[name]), np.asarray(model(inputs)[name]))


def test_token_classifier_reads_num_labels_from_a_saved_checkpoint(token, tmp_path):
    model, inputs, mask, arrays = token
    model.save_pretrained(str(tmp_path))
    reloaded = BertTokenClassifier.from_pretrained(str(tmp_path))
    assert reloaded.num_labels == 5
    np.testing.assert_array_equal(np.asarray(reloaded(inputs)), np.asarray(model(inputs)))
    assert max_diff(reloaded(inputs), arrays["logits"], mask) <= ATOL


def test_wrong_num_labels_is_a_clear_error():
    with pytest.raises(ValueError, match="classifier"):
        BertTokenClassifier.from_pretrained(NER_DIR, num_labels=3)
