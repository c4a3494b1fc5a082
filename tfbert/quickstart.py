"""The smallest end-to-end run: train, evaluate, save and export a tiny BERT.

`python -m tfbert.quickstart [output_dir]` pretrains a 2-layer BERT with MLM +
NSP on synthetic records in Google's feature format (a repeating-pattern
language it can learn in seconds), evaluates it, saves a `.keras` file and
exports the encoder as a SavedModel. `run_pretraining.py` is the real job.
"""

import os
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfbert import BertConfig, BertPretrainer

MASK_ID, FIRST_WORD_ID = 4, 5


def pattern_records(n, seq=32, predictions=5, vocab=64, seed=0):
    """Sequences of a periodic pattern with masked tokens: learnable from context."""
    rng = np.random.default_rng(seed)
    period = rng.integers(2, 6, n)
    start = rng.integers(FIRST_WORD_ID, vocab, n)
    step = rng.integers(1, 4, n)
    pos = np.arange(seq)[None]
    original = FIRST_WORD_ID + (start[:, None] + step[:, None] * (pos % period[:, None])
                                - FIRST_WORD_ID) % (vocab - FIRST_WORD_ID)
    original = original.astype(np.int32)
    masked = np.sort(np.stack([rng.choice(np.arange(1, seq), predictions, replace=False)
                               for _ in range(n)]), 1).astype(np.int32)
    input_ids = original.copy()
    np.put_along_axis(input_ids, masked, MASK_ID, 1)
    is_next = rng.integers(0, 2, (n, 1)).astype(np.int32)
    segment_ids = np.where(is_next == 0, (pos >= seq // 2), 0).astype(np.int32)
    return {"input_ids": input_ids, "input_mask": np.ones_like(input_ids),
            "segment_ids": segment_ids, "masked_lm_positions": masked,
            "masked_lm_ids": np.take_along_axis(original, masked, 1),
            "masked_lm_weights": np.ones(masked.shape, np.float32),
            "next_sentence_labels": is_next}


def main(output_dir):
    keras.utils.set_random_seed(0)
    config = BertConfig(vocab_size=64, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128,
                        max_position_embeddings=32, type_vocab_size=2)
    train = tf.data.Dataset.from_tensor_slices(pattern_records(2048)).shuffle(2048).batch(32)
    held_out = tf.data.Dataset.from_tensor_slices(pattern_records(256, seed=1)).batch(64)
    model = BertPretrainer(config)
    model.compile(optimizer=keras.optimizers.AdamW(5e-4, weight_decay=0.01))
    model.fit(train.repeat(), steps_per_epoch=200, epochs=4, verbose=2)
    metrics = model.evaluate(held_out, return_dict=True, verbose=0)
    os.makedirs(output_dir, exist_ok=True)
    keras_file = os.path.join(output_dir, "pretrainer.keras")
    model.save(keras_file)
    export_dir = os.path.join(output_dir, "saved_model")
    model.bert.export(export_dir, verbose=False)
    print(f"\nheld-out masked_lm_accuracy {metrics['masked_lm_accuracy']:.3f}, "
          f"next_sentence_accuracy {metrics['next_sentence_accuracy']:.3f}")
    print(f"Keras model:  {keras_file}\nSavedModel:   {export_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="tfbert-quickstart-"))
