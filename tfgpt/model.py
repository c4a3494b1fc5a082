"""GPTModel (pre-LN causal decoder) and GPTLanguageModel (tied LM head, fit()-able).

Inputs are a dict `{"token_ids": int32 [batch, seq]}` (the GPT TFRecord
feature name) or the id tensor itself. Prompts in a batch are right-padded:
under the causal mask a real token never attends to padding after it, so
no padding mask is needed for the outputs at real positions.
"""

import math

import keras
import tensorflow as tf

from tfcore.layers import (BlockStack, LayerNorm, TokenAndPositionEmbedding, apply_flat,
                           checked_length)
from tfcore.modeling import ConfigModel
from tfgpt.checkpoints import PretrainedMixin
from tfgpt.config import GPTConfig, as_gpt_config
from tfgpt.task import LMTask, lm_metrics, split_record

TOKEN_IDS = "token_ids"


def _token_ids(inputs):
    ids = inputs[TOKEN_IDS] if isinstance(inputs, dict) else inputs
    return tf.cast(ids, tf.int32)


@keras.saving.register_keras_serializable(package="tfgpt")
class GPTEmbedding(TokenAndPositionEmbedding):
    """`token_ids [b, s] -> [b, s, hidden]`: token + learned position embeddings, dropout.

    `start_index` is the position of `token_ids[:, 0]` (decoding with a cache).
    Tables: `token_embedding [vocab, hidden]` (shared with the LM head) and
    `position_embedding [max_positions, hidden]`.

    Example:

        emb = GPTEmbedding(vocab_size=100, hidden_size=16, max_position_embeddings=32)
        x = emb(tf.constant([[5, 7, 9]]))                       # [1, 3, 16]
        y = emb(tf.constant([[11]]), start_index=3)             # position 3
    """

    def __init__(self, vocab_size, hidden_size, max_position_embeddings=1024,
                 initializer_range=0.02, dropout_rate=0.1, **kwargs):
        super().__init__(vocab_size=vocab_size, hidden_size=hidden_size,
                         max_position_embeddings=max_position_embeddings,
                         initializer_range=initializer_range, dropout_rate=dropout_rate,
                         **kwargs)

    def build(self, input_shape=None):
        self.add_tables(token_embedding=self.vocab_size,
                        position_embedding=self.max_position_embeddings)
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)

    def call(self, token_ids, start_index=None, training=None):
        token_ids = tf.cast(token_ids, tf.int32)
        if start_index is None:
            positions = self.position_embedding[:checked_length(
                token_ids, self.max_position_embeddings)]
        else:  # Decoding: the caller checked the window.
            positions = tf.slice(self.position_embedding, [start_index, 0],
                                 [tf.shape(token_ids)[1], self.hidden_size])
        x = tf.gather(self.token_embedding, token_ids) + positions[None]
        return self.dropout(tf.cast(x, self.compute_dtype), training=training)


class _GPTBase(ConfigModel):
    """Config round trip and a `token_ids` int32 `[batch, seq]` export signature."""

    config_class = GPTConfig
    INPUT_NAMES = (TOKEN_IDS,)


@keras.saving.register_keras_serializable(package="tfgpt")
class GPTModel(PretrainedMixin, BlockStack, _GPTBase):
    """GPT-2 decoder: embeddings -> pre-LN causal blocks -> final LayerNorm.

    `call(inputs) -> [batch, seq, hidden]`; `call_with_cache(token_ids, caches,
    index)` runs `token_ids [b, s]` at positions `index .. index + s - 1`
    against a fixed-size cache (per block float32 keys and values, each
    `[b * heads, max_len, head_size]`, from `empty_cache`) and returns
    `(hidden, updated_caches)`.

    Example:

        model = GPTModel(GPTConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                   num_attention_heads=4, max_position_embeddings=64))
        hidden = model({"token_ids": tf.constant([[1, 2, 3]])})          # [1, 3, 32]
        caches = model.empty_cache(batch_size=1, max_length=8)
        hidden, caches = model.call_with_cache(tf.constant([[1, 2, 3]]), caches, 0)
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = c = as_gpt_config(config)
        policy = self.dtype_policy
        self.embedding = GPTEmbedding(
            vocab_size=c.vocab_size, hidden_size=c.hidden_size,
            max_position_embeddings=c.max_position_embeddings,
            initializer_range=c.initializer_range, dropout_rate=c.embedding_dropout_prob,
            name="embedding", dtype=policy)
        self.add_blocks(norm_first=True, causal=True, use_bias=c.use_bias)  # pre-LN
        self.final_layer_norm = LayerNorm(
            epsilon=c.layer_norm_eps, center=c.use_bias, name="final_layer_norm",
            dtype=policy)
        self.build(None)

    def build(self, inputs_shape=None):
        if self.built:
            return
        hidden_shape = (None, None, self.config.hidden_size)
        self.embedding.build()
        # GPT-2 (paper, section 2.3) scales the residual projections' initial
        # weights by 1/sqrt(number of residual layers) = 1/sqrt(2 * blocks).
        scale = 1.0 / math.sqrt(2 * self.config.num_hidden_layers)
        for block in self.blocks:
            block.build(hidden_shape)
            for dense in (block.attention.output_dense, block.feed_forward.output_dense):
                dense.kernel.assign(dense.kernel * scale)
        self.final_layer_norm.build(hidden_shape)
        self.built = True

    def call(self, inputs, training=None):
        x = self.embedding(_token_ids(inputs), training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return self.final_layer_norm(x)

    def empty_cache(self, batch_size, max_length):
        """Zeros: per block (keys, values), each float32 `[batch * heads, max_length, head_size]`.

        Float32 whatever the model's precision: attention over the cache then runs
        in float32, which XLA on CPU does anyway (it converts bf16 products to
        float32: with a bf16 cache, a float32 copy of it per layer and step).
        """
        c = self.config
        shape = [batch_size * c.num_attention_heads, max_length, c.head_size]
        return tuple((tf.zeros(shape, tf.float32), tf.zeros(shape, tf.float32))
                     for _ in self.blocks)

    def call_with_cache(self, token_ids, caches, cache_index):
        """`[b, s]` ids at positions `cache_index + range(s)` -> `([b, s, hidden], caches)`."""
        x = self.embedding(token_ids, start_index=cache_index)
        updated = []
        for block, cache in zip(self.blocks, caches):
            x, cache = block(x, cache=cache, cache_index=cache_index)
            updated.append(cache)
        return self.final_layer_norm(x), tuple(updated)

    def checkpoint_parts(self):
        return [("gpt/", self)]


@keras.saving.register_keras_serializable(package="tfgpt")
class GPTLanguageModel(PretrainedMixin, _GPTBase):
    """GPTModel + LM head tied to the token embedding: `inputs -> logits [b, s, vocab]`.

    `fit` takes batches of GPT records `{"token_ids": [b, seq + 1]}` with no
    labels (inputs `token_ids[:, :-1]`, targets `token_ids[:, 1:]`; an optional
    `padding_mask [b, seq + 1]` weights the targets), or `(inputs, targets[,
    weights])`. The loss is the next-token cross-entropy summed with the
    weights and divided by their sum; the metric is `accuracy`. For
    `tfcore.training.Trainer` use `LMTask()` (`tfgpt.task`).

    Example:

        lm = GPTLanguageModel(GPTConfig(vocab_size=65, hidden_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, max_position_embeddings=128))
        lm.compile(optimizer=keras.optimizers.AdamW(3e-4))
        lm.fit(tf.data.Dataset.from_tensor_slices({"token_ids": ids}).batch(8))
        lm.generate(tf.constant([[1, 2, 3]]), max_new_tokens=20)   # [1, 23]
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = as_gpt_config(config)
        self.gpt = GPTModel(self.config, name="gpt", dtype=self.dtype_policy)
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self.built = True

    def lm_logits(self, hidden):
        """`[..., hidden] -> [..., vocab]` with the token embedding as output kernel."""
        table = tf.cast(self.gpt.embedding.token_embedding, hidden.dtype)
        return apply_flat(lambda rows: tf.matmul(rows, table, transpose_b=True), hidden)

    def next_token_logits(self, hidden):
        """`[batch, hidden] -> [batch, vocab]` for a few rows (decoding).

        Computed as `table @ hidden^T`, transposed: with few rows this streams
        the `[vocab, hidden]` table in its stored order, measured faster on
        CPU than `hidden @ table^T` (`python -m bench generate_cache`).
        """
        table = tf.cast(self.gpt.embedding.token_embedding, hidden.dtype)
        return tf.transpose(tf.matmul(table, hidden, transpose_b=True))

    def call(self, inputs, training=None):
        return self.lm_logits(self.gpt(inputs, training=training))

    def train_step(self, data):
        return super().train_step(split_record(data))

    def test_step(self, data):
        return super().test_step(split_record(data))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        metrics = lm_metrics(y_pred, y, sample_weight)
        loss = metrics["lm_loss"]
        if self.losses:
            loss += tf.add_n([tf.cast(term, tf.float32) for term in self.losses])
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss  # Keras sums replica gradients.

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        metrics = lm_metrics(y_pred, y, sample_weight)
        self.accuracy_tracker.update_state(metrics["accuracy"], metrics["weight"])
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def generate(self, token_ids, max_new_tokens=32, **kwargs):
        """Continues each prompt; see `tfgpt.decoding.generate` for the arguments."""
        from tfgpt.decoding import generate
        return generate(self, token_ids, max_new_tokens=max_new_tokens, **kwargs)

    def checkpoint_parts(self):
        return [("gpt/", self.gpt)]


__all__ = ["GPTEmbedding", "GPTLanguageModel", "GPTModel", "LMTask", "TOKEN_IDS"]
