"""`tfcore.export.save_atomically` when the write fails halfway (a full disk, EFBIG)."""

import os

import pytest
import tensorflow as tf

from tfcore import export


class Doubler(tf.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = tf.Variable(factor)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def serve(self, x):
        return {"y": x * self.factor}


def served(export_dir):
    return tf.saved_model.load(export_dir).signatures["serving_default"](
        x=tf.constant([1.0]))["y"].numpy().tolist()


def test_a_failed_export_keeps_the_previous_one_and_names_the_folder(tmp_path, monkeypatch):
    export_dir = str(tmp_path / "saved_model")
    export.save_atomically(Doubler(2.0), export_dir, signatures=None)
    before = sorted(os.listdir(export_dir))
    real_save = tf.saved_model.save

    def save_then_fail(module, path, signatures=None):
        real_save(module, path, signatures=signatures)  # files written, then the disk fills
        raise tf.errors.ResourceExhaustedError(
            None, None, f"{path}/variables/variables.data-00000-of-00001; File too large")

    monkeypatch.setattr(tf.saved_model, "save", save_then_fail)
    with pytest.raises(tf.errors.ResourceExhaustedError) as error:
        export.save_atomically(Doubler(3.0), export_dir, signatures=None)
    assert f"Could not write the SavedModel to {export_dir} (" in error.value.message
    assert "File too large" in error.value.message
    assert "an earlier export there is unchanged" in error.value.message
    assert sorted(os.listdir(tmp_path)) == ["saved_model"], "temporary folders left behind"
    assert sorted(os.listdir(export_dir)) == before
    assert served(export_dir) == [2.0]

    monkeypatch.setattr(tf.saved_model, "save", real_save)
    export.save_atomically(Doubler(3.0), export_dir, signatures=None)
    assert served(export_dir) == [3.0]
    assert sorted(os.listdir(tmp_path)) == ["saved_model"]
