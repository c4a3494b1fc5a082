import json
import os

import numpy as np
import pytest
import tensorflow as tf
from absl import logging

from tests.references import bert_forward, google_to_hf, random_google_weights
from tests.testing import assert_close
from tfbert import BertClassifier, BertConfig, BertModel, BertPretrainer

CONFIG = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
              intermediate_size=32, hidden_act="gelu", hidden_dropout_prob=0.1,
              attention_probs_dropout_prob=0.1, max_position_embeddings=24,
              type_vocab_size=2, initializer_range=0.02)
RNG = np.random.default_rng(7)


def inputs(batch=3, seq=9):
    mask = (np.arange(seq)[None] < np.array([9, 6, 2])[:, None]).astype(np.int32)
    return {"input_ids": (RNG.integers(1, 40, (batch, seq)) * mask).astype(np.int32),
            "segment_ids": (RNG.integers(0, 2, (batch, seq)) * mask).astype(np.int32),
            "input_mask": mask,
            "masked_lm_positions": np.array([[1, 4], [0, 5], [1, 1]], np.int32)}


def write_config(folder, name, config=CONFIG):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w") as f:
        json.dump(config, f)


def write_google_checkpoint(folder, arrays, config=CONFIG):
    """Google's layout, written with TF1's Saver as Google's code did."""
    write_config(folder, "bert_config.json", config)
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(f"tok{i}" for i in range(config["vocab_size"])) + "\n")
    with tf.Graph().as_default():
        variables = [tf.compat.v1.Variable(v, name=n) for n, v in arrays.items()]
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, os.path.join(folder, "bert_model.ckpt"), write_meta_graph=False)
    return folder


def write_hf_folder(folder, arrays, prefix="bert."):
    from safetensors.numpy import save_file
    hf_config = dict(CONFIG, layer_norm_eps=1e-12, model_type="bert",
                     architectures=["BertForPreTraining"], pad_token_id=0)
    write_config(folder, "config.json", hf_config)
    tensors = google_to_hf(arrays, prefix)
    tensors["bert.embeddings.position_ids" if prefix else "embeddings.position_ids"] = \
        np.arange(24, dtype=np.int64)[None]
    save_file(tensors, os.path.join(folder, "model.safetensors"))
    return folder


def outputs_of(model, x):
    if isinstance(model, BertPretrainer):
        out = dict(model(x))
        out.update(model.bert(x))
        return out
    return model(x)


def test_google_tf1_checkpoint_matches_numpy_reference(tmp_path):
    arrays = random_google_weights(CONFIG, RNG)
    arrays["global_step"] = np.array(1000, np.int64)
    arrays["bert/pooler/dense/kernel/adam_m"] = np.zeros((16, 16), np.float32)
    folder = write_google_checkpoint(str(tmp_path / "google"), arrays)
    model = BertPretrainer.from_pretrained(folder)
    x = inputs()
    expected = bert_forward(arrays, CONFIG, x["input_ids"], x["segment_ids"],
                            x["input_mask"], x["masked_lm_positions"])
    mask = x["input_mask"][..., None]
    out = outputs_of(model, x)
    assert_close(out["sequence_output"] * mask, expected["sequence_output"] * mask, 1e-4)
    for key in ("pooled_output", "masked_lm_logits", "next_sentence_logits"):
        assert_close(out[key], expected[key], 1e-4, key)
    assert model.vocab_file == os.path.join(folder, "vocab.txt")
    # A checkpoint prefix (Google's --init_checkpoint style) works too.
    encoder = BertModel.from_pretrained(os.path.join(folder, "bert_model.ckpt"))
    assert_close(encoder(x)["pooled_output"], expected["pooled_output"], 1e-4)


@pytest.mark.parametrize("prefix", ["bert.", ""])
def test_hugging_face_safetensors_matches_numpy_reference(tmp_path, prefix):
    arrays = random_google_weights(CONFIG, RNG, heads=bool(prefix))
    folder = write_hf_folder(str(tmp_path / "hf"), arrays, prefix)
    model = BertModel.from_pretrained(folder)
    x = inputs()
    expected = bert_forward(arrays, CONFIG, x["input_ids"], x["segment_ids"], x["input_mask"])
    mask = x["input_mask"][..., None]
    out = model(x)
    assert_close(out["sequence_output"] * mask, expected["sequence_output"] * mask, 1e-4)
    assert_close(out["pooled_output"], expected["pooled_output"], 1e-4)


def test_encoder_only_checkpoint_into_pretrainer_warns_about_fresh_heads(tmp_path, caplog):
    arrays = random_google_weights(CONFIG, RNG, heads=False)
    folder = write_hf_folder(str(tmp_path / "hf"), arrays, prefix="")
    with caplog.at_level(logging.WARNING):
        model = BertPretrainer.from_pretrained(folder)
    assert "masked_lm/transform/kernel" in caplog.text
    assert "next_sentence/dense/kernel" in caplog.text
    assert_close(model.bert.embedding.word_embeddings.numpy(),
                 arrays["bert/embeddings/word_embeddings"], 0)


def test_save_pretrained_round_trip_and_classifier_labels(tmp_path):
    arrays = random_google_weights(CONFIG, RNG)
    source = write_google_checkpoint(str(tmp_path / "google"), arrays)
    classifier = BertClassifier.from_pretrained(source, num_labels=3)
    assert classifier.classifier.kernel.shape == (16, 3)
    saved = str(tmp_path / "saved")
    classifier.save_pretrained(saved)
    assert sorted(os.listdir(saved)) == ["bert_config.json", "bert_model.ckpt.data-00000-of-00001",
                                         "bert_model.ckpt.index", "vocab.txt"]
    reloaded = BertClassifier.from_pretrained(saved)  # num_labels from the checkpoint
    x = inputs()
    assert_close(reloaded(x), classifier(x), 1e-6)
    # Our folder is Google's layout: the encoder loads from it like any Google checkpoint.
    names = dict(tf.train.list_variables(os.path.join(saved, "bert_model.ckpt")))
    assert names["output_weights"] == [3, 16]
    assert names["bert/encoder/layer_1/attention/self/query/kernel"] == [16, 16]


def test_wrong_config_size_lists_mismatched_names(tmp_path):
    arrays = random_google_weights(CONFIG, RNG)
    folder = write_google_checkpoint(str(tmp_path / "g"), arrays,
                                     dict(CONFIG, vocab_size=41, num_hidden_layers=1))
    with pytest.raises(ValueError) as err:
        BertPretrainer.from_pretrained(folder)
    message = str(err.value)
    assert "bert/embeddings/word_embeddings: checkpoint (40, 16) vs model (41, 16)" in message
    assert "masked_lm/output_bias: checkpoint (40,) vs model (41,)" in message
    assert "bert/encoder/layer_1/attention/self/query/kernel" in message  # unexpected


def test_missing_encoder_weight_is_an_error_and_nothing_is_assigned(tmp_path):
    arrays = random_google_weights(CONFIG, RNG)
    del arrays["bert/encoder/layer_0/output/dense/bias"]
    arrays["bert/encoder/layer_0/mystery"] = np.zeros(3, np.float32)
    folder = write_google_checkpoint(str(tmp_path / "g"), arrays)
    with pytest.raises(ValueError) as err:
        BertModel.from_pretrained(folder)
    assert "bert/layer_0/feed_forward/output_dense/bias" in str(err.value)
    assert "bert/encoder/layer_0/mystery" in str(err.value)


def test_folder_without_checkpoint_names_the_files_looked_for(tmp_path):
    folder = str(tmp_path / "empty")
    write_config(folder, "config.json")
    with pytest.raises(FileNotFoundError) as err:
        BertModel.from_pretrained(folder)
    for name in ("bert_model.ckpt.index", "model.safetensors", "pytorch_model.bin"):
        assert name in str(err.value)


def test_pytorch_bin_without_torch_says_what_to_do(tmp_path):
    try:
        import torch  # noqa: F401
        pytest.skip("torch is installed: the .bin path is exercised for real")
    except ImportError:
        pass
    folder = str(tmp_path / "pt")
    write_config(folder, "config.json")
    open(os.path.join(folder, "pytorch_model.bin"), "wb").close()
    with pytest.raises(ImportError, match="install torch.*model.safetensors"):
        BertModel.from_pretrained(folder)


def write_trainer_checkpoint(folder, model, with_config=True):
    """A `tfcore.training.Trainer` checkpoint of `model` after one AdamW step (slots non-zero)."""
    import keras
    from tfcore.training import Trainer
    model(inputs())
    optimizer = keras.optimizers.AdamW(1e-3)
    optimizer.apply([tf.ones_like(v) * 0.1 for v in model.trainable_variables],
                    model.trainable_variables)
    trainer = Trainer(model, optimizer, task=None)
    trainer.restore_or_initialize(folder)
    prefix = trainer.save()
    if with_config:
        write_config(folder, "bert_config.json")
    return prefix


def test_trainer_checkpoint_of_a_pretrainer_loads_strictly(tmp_path):
    source = BertPretrainer(BertConfig(**CONFIG))
    folder = str(tmp_path / "run")
    prefix = write_trainer_checkpoint(folder, source)
    assert os.path.basename(prefix) == "ckpt-1"
    x = inputs()
    # The folder (its latest trainer checkpoint) and the prefix, into our three models.
    pretrainer = BertPretrainer.from_pretrained(folder)
    for name in ("masked_lm_logits", "next_sentence_logits"):
        assert_close(pretrainer(x)[name], source(x)[name], 0, name)
    encoder = BertModel.from_pretrained(prefix)
    assert_close(encoder(x)["pooled_output"], source.bert(x)["pooled_output"], 0)
    classifier = BertClassifier(BertConfig(**CONFIG), num_labels=2)
    classifier(x)
    assert sorted(classifier.load_pretrained_weights(prefix)) == ["classifier/bias",
                                                                  "classifier/kernel"]
    assert_close(classifier.bert.embedding.word_embeddings.numpy(),
                 source.bert.embedding.word_embeddings.numpy(), 0)


def test_trainer_prefix_without_config_beside_it_takes_one(tmp_path):
    source = BertModel(BertConfig(**CONFIG))
    folder = str(tmp_path / "run")
    prefix = write_trainer_checkpoint(folder, source, with_config=False)
    with pytest.raises(FileNotFoundError, match="No config next to the checkpoint"):
        BertModel.from_pretrained(prefix)
    write_config(str(tmp_path / "cfg"), "bert_config.json")
    loaded = BertModel.from_pretrained(prefix, config=str(tmp_path / "cfg" / "bert_config.json"))
    x = inputs()
    assert_close(loaded(x)["sequence_output"], source(x)["sequence_output"], 0)


def test_trainer_checkpoint_of_another_size_lists_the_mismatches(tmp_path):
    folder = str(tmp_path / "run")
    prefix = write_trainer_checkpoint(folder, BertPretrainer(BertConfig(**CONFIG)))
    with pytest.raises(ValueError) as err:
        BertModel.from_pretrained(prefix, config=BertConfig(**dict(CONFIG, num_hidden_layers=1)))
    message = str(err.value)
    assert "unexpected in checkpoint" in message and "bert/layer_1/attention/query/kernel" \
        in message
    assert "adam" not in message.lower() and "optimizer" not in message  # slots are ignored
