"""Seq2SeqModel: an encoder and a decoder joined by cross-attention, `fit()`-able on id pairs.

Inputs are a dict `{"source_ids": int32 [b, S], "target_ids": int32 [b, T]}`
padded with `pad_token_id`; the model shifts the targets right behind
`decoder_start_token_id` (as Hugging Face does with `labels`) and returns
the logits `[b, T, target vocab]` that predict each target token. The loss
is the token cross-entropy with label smoothing over non-pad targets.

The blocks are tfcore's `TransformerBlock`s: encoder blocks self-attend
under the source padding mask; decoder blocks are causal and cross-attend
to the encoder output. Position information follows
`config.position_embedding` (see `tfseq2seq.config`).

Example:

    model = Seq2SeqModel(Seq2SeqConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                       num_attention_heads=4, intermediate_size=64))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(tf.data.Dataset.from_tensor_slices(
        {"source_ids": source, "target_ids": target}).batch(8))
    model.generate(source_ids, max_new_tokens=20, num_beams=4)
"""

import math

import keras
import tensorflow as tf

from tfcore.layers import (LayerNorm, RelativePositionBias, RMSNorm,
                           SinusoidalPositionEmbedding, TransformerBlock, apply_flat)
from tfcore.modeling import ConfigModel
from tfseq2seq.checkpoints import PretrainedMixin
from tfseq2seq.config import Seq2SeqConfig, as_seq2seq_config

SOURCE_IDS, TARGET_IDS = "source_ids", "target_ids"


@keras.saving.register_keras_serializable(package="tfseq2seq")
class TokenEmbedding(keras.layers.Layer):
    """`ids [b, s] -> [b, s, hidden]` (times `scale`); `logits(hidden) -> [..., vocab]` (tied).

    One weight, `embeddings [vocab, hidden]`.
    """

    def __init__(self, vocab_size, hidden_size, initializer_range=0.02, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.initializer_range, self.scale = initializer_range, scale

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.vocab_size, self.hidden_size), name="embeddings",
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range))

    def call(self, ids):
        x = tf.gather(self.embeddings, tf.cast(ids, tf.int32))
        if self.scale != 1.0:
            x = x * self.scale
        return tf.cast(x, self.compute_dtype)

    def logits(self, hidden):
        table = tf.cast(self.embeddings, hidden.dtype)
        return apply_flat(lambda rows: tf.matmul(rows, table, transpose_b=True), hidden)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                      initializer_range=self.initializer_range, scale=self.scale)
        return config


class Seq2SeqStack(keras.layers.Layer):
    """The encoder (`decoder=False`) or the decoder: positions, blocks `layer_i`, final norm.

    `call(embedded [b, s, h], attention_mask=None, source=None, source_mask=None)` ->
    `[b, s, h]`; the decoder's `call_with_cache(embedded, caches, index,
    source_caches, source_mask)` runs positions `index..index + s - 1`
    against fixed-size self-attention caches and the projected source.
    """

    def __init__(self, config, decoder, **kwargs):
        super().__init__(**kwargs)
        self.config = c = config
        self.decoder = decoder
        self.num_layers = c.num_decoder_layers if decoder else c.num_hidden_layers
        policy = self.dtype_policy
        if c.position_embedding == "sinusoidal":
            self.positions = SinusoidalPositionEmbedding(
                c.hidden_size, layout=c.sinusoidal_layout,
                max_positions=c.max_position_embeddings, name="positions", dtype=policy)
        for i in range(self.num_layers):
            setattr(self, f"layer_{i}", TransformerBlock(
                num_heads=c.num_attention_heads, intermediate_size=c.intermediate_size,
                activation=c.hidden_act, dropout_rate=c.hidden_dropout_prob,
                attention_dropout_rate=c.attention_probs_dropout_prob,
                layer_norm_epsilon=c.layer_norm_eps, norm_first=c.norm_first, causal=decoder,
                initializer_range=c.initializer_range, use_bias=c.use_bias,
                cross_attention=decoder, norm=c.norm, head_size=c.head_size,
                scale_queries=c.scale_queries, gated=c.gated_feed_forward,
                max_relative_position=(c.max_relative_position
                                       if c.position_embedding == "shaw" else 0),
                name=f"layer_{i}", dtype=policy))
        if c.norm_first:
            norm = RMSNorm if c.norm == "rms" else LayerNorm
            options = {} if c.norm == "rms" else {"center": c.use_bias}
            self.final_layer_norm = norm(epsilon=c.layer_norm_eps, name="final_layer_norm",
                                         dtype=policy, **options)
        self.dropout = keras.layers.Dropout(c.hidden_dropout_prob, dtype=policy)

    @property
    def blocks(self):
        return [getattr(self, f"layer_{i}") for i in range(self.num_layers)]

    def build(self, input_shape=None):
        shape = (None, None, self.config.hidden_size)
        if self.config.position_embedding == "learned":
            self.position_embedding = self.add_weight(
                shape=(self.config.max_position_embeddings, self.config.hidden_size),
                name="position_embedding",
                initializer=keras.initializers.TruncatedNormal(
                    stddev=self.config.initializer_range))
        if self.config.position_embedding == "relative":
            # Built here, in this layer's name scope: its weight is created by its
            # constructor and would otherwise have no `encoder/`/`decoder/` in its path.
            c = self.config
            self.relative_bias = RelativePositionBias(
                num_buckets=c.relative_attention_num_buckets,
                max_distance=c.relative_attention_max_distance,
                num_heads=c.num_attention_heads, bidirectional=not self.decoder,
                initializer_range=c.initializer_range, name="relative_bias",
                dtype=self.dtype_policy)
        for block in self.blocks:
            block.build(shape)
        if self.config.norm_first:
            self.final_layer_norm.build(shape)
        self.built = True

    def _embed(self, embedded, start, training):
        """Adds absolute positions `start..start + s - 1` (if any) and dropout."""
        scheme = self.config.position_embedding
        length = tf.shape(embedded)[1]
        if scheme == "sinusoidal":
            embedded += self.positions(tf.range(length) + start)[None]
        elif scheme == "learned":
            table = tf.slice(self.position_embedding, [start, 0], [length, -1])
            embedded += tf.cast(table, embedded.dtype)[None]
        return self.dropout(embedded, training=training)

    def _bias(self, query_length, key_length, offset=0):
        if self.config.position_embedding != "relative":
            return None
        return self.relative_bias(query_length, key_length, query_offset=offset)

    def _finish(self, x, training):
        """Pre-LN stacks end with a norm and dropout (T5); post-LN blocks already normalised."""
        if not self.config.norm_first:
            return x
        return self.dropout(self.final_layer_norm(x), training=training)

    def call(self, embedded, attention_mask=None, source=None, source_mask=None, training=None):
        x = self._embed(tf.cast(embedded, self.compute_dtype), 0, training)
        length = tf.shape(x)[1]
        bias = self._bias(length, length)
        for block in self.blocks:
            x = block(x, attention_mask=attention_mask, attention_bias=bias, source=source,
                      source_mask=source_mask, training=training)
        return self._finish(x, training)

    def project_source(self, source):
        """Per decoder block, the cross-attention `(keys, values)` of `source` (once per source)."""
        return tuple(block.cross_attention.project_source(source) for block in self.blocks)

    def empty_cache(self, batch_size, max_length):
        """Per block float32 zeros `(keys, values)`, each `[batch * heads, max_length, head]`."""
        c = self.config
        shape = [batch_size * c.num_attention_heads, max_length, c.attention_head_size]
        return tuple((tf.zeros(shape, tf.float32), tf.zeros(shape, tf.float32))
                     for _ in self.blocks)

    def call_with_cache(self, embedded, caches, index, source_caches, source_mask):
        x = self._embed(tf.cast(embedded, self.compute_dtype), index, False)
        bias = self._bias(tf.shape(x)[1], tf.shape(caches[0][0])[1], index)
        updated = []
        for block, cache, source_cache in zip(self.blocks, caches, source_caches):
            x, cache = block(x, cache=cache, cache_index=index, attention_bias=bias,
                             source_cache=source_cache, source_mask=source_mask)
            updated.append(cache)
        return self._finish(x, False), tuple(updated)


@keras.saving.register_keras_serializable(package="tfseq2seq")
class Seq2SeqModel(PretrainedMixin, ConfigModel):
    """Encoder-decoder: `{"source_ids", "target_ids"} -> logits [b, T, target vocab]`.

    `encode(source_ids) -> (encoder output [b, S, h], source mask [b, S])`;
    `decode(target_inputs, encoded, source_mask) -> logits` (teacher forcing);
    `generate(source_ids, ...)` / `translate` in `tfseq2seq.generation`.
    `label_smoothing` applies to the training loss.
    """

    config_class = Seq2SeqConfig
    INPUT_NAMES = (SOURCE_IDS, TARGET_IDS)

    def __init__(self, config, label_smoothing=0.0, **kwargs):
        super().__init__(**kwargs)
        self.config = c = as_seq2seq_config(config)
        self.label_smoothing = label_smoothing
        policy = self.dtype_policy
        scale = math.sqrt(c.hidden_size) if c.scale_embedding else 1.0
        self.shared = TokenEmbedding(c.vocab_size, c.hidden_size, c.initializer_range, scale,
                                     name="shared", dtype=policy)
        self.target_embedding = self.shared
        if c.target_vocab_size:
            self.target_embedding = TokenEmbedding(
                c.target_vocab_size, c.hidden_size, c.initializer_range, scale,
                name="target_embedding", dtype=policy)
        self.encoder = Seq2SeqStack(c, decoder=False, name="encoder", dtype=policy)
        self.decoder = Seq2SeqStack(c, decoder=True, name="decoder", dtype=policy)
        if not c.tie_word_embeddings:
            self.lm_head = keras.layers.Dense(
                c.output_vocab_size, use_bias=False, name="lm_head", dtype=policy,
                kernel_initializer=keras.initializers.TruncatedNormal(
                    stddev=c.initializer_range))
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        c = self.config
        for part in {id(p): p for p in (self.shared, self.target_embedding)}.values():
            part.build()
        self.encoder.build()
        self.decoder.build()
        if not c.tie_word_embeddings:
            self.lm_head.build((None, c.hidden_size))
        if c.final_logits_bias:
            self.logits_bias = self.add_weight(shape=(c.output_vocab_size,), name="logits_bias",
                                               initializer="zeros")
        self.built = True

    # ----------------------------------------------------------------- parts

    def source_mask(self, source_ids):
        """int32 `[b, S]`: 1 at real source tokens (not `pad_token_id`)."""
        return tf.cast(tf.not_equal(tf.cast(source_ids, tf.int32), self.config.pad_token_id),
                       tf.int32)

    def encode(self, source_ids, training=None):
        """`source_ids [b, S]` -> `(encoder output [b, S, h], source mask [b, S])`."""
        mask = self.source_mask(source_ids)
        return (self.encoder(self.shared(source_ids), attention_mask=mask, training=training),
                mask)

    def shift_right(self, target_ids):
        """`[b, T]` targets -> decoder inputs `[b, T]`: start token, then targets[:, :-1]."""
        target_ids = tf.cast(target_ids, tf.int32)
        start = tf.fill([tf.shape(target_ids)[0], 1], self.config.decoder_start_token_id)
        return tf.concat([start, target_ids[:, :-1]], axis=1)

    def output_logits(self, hidden):
        """Decoder output `[..., h]` -> float logits `[..., target vocab]`."""
        c = self.config
        if c.scale_decoder_output:
            hidden = hidden * tf.cast(c.hidden_size ** -0.5, hidden.dtype)
        if c.tie_word_embeddings:
            logits = self.target_embedding.logits(hidden)
        else:
            logits = apply_flat(self.lm_head, hidden)
        if c.final_logits_bias:
            logits += tf.cast(self.logits_bias, logits.dtype)
        return logits

    def decode(self, decoder_inputs, encoded, source_mask, training=None):
        """Teacher forcing: `decoder_inputs [b, T]` -> logits `[b, T, target vocab]`."""
        hidden = self.decoder(self.target_embedding(decoder_inputs), source=encoded,
                              source_mask=source_mask, training=training)
        return self.output_logits(hidden)

    def call(self, inputs, training=None):
        encoded, mask = self.encode(inputs[SOURCE_IDS], training=training)
        return self.decode(self.shift_right(inputs[TARGET_IDS]), encoded, mask,
                           training=training)

    # ----------------------------------------------------------------- training

    def _targets(self, data):
        """`data` (a dict of both, or `(inputs, targets)`) -> `(inputs, target_ids)`."""
        if isinstance(data, tuple):
            return data[0], data[1]
        return data, data[TARGET_IDS]

    def train_step(self, data):
        return super().train_step(self._targets(data))

    def test_step(self, data):
        return super().test_step(self._targets(data))

    def token_losses(self, targets, logits):
        """Float32 `[b, T]` each: `(loss with label smoothing, plain nll, weights, correct)`.

        Label smoothing spreads `label_smoothing` of the target mass uniformly
        over the vocabulary; weights are 0 at pad targets.
        """
        targets = tf.cast(targets, tf.int32)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        nll = -tf.gather(log_probs, targets, batch_dims=2)
        loss = nll
        if self.label_smoothing:
            uniform = -tf.reduce_mean(log_probs, axis=-1)
            loss = (1.0 - self.label_smoothing) * nll + self.label_smoothing * uniform
        weights = tf.cast(tf.not_equal(targets, self.config.pad_token_id), tf.float32)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), targets),
                          tf.float32)
        return loss, nll, weights, correct

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss, _, weights, _ = self.token_losses(y, y_pred)
        loss = tf.reduce_sum(loss * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)
        if self.losses:
            loss += tf.add_n([tf.cast(term, tf.float32) for term in self.losses])
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss  # Keras sums replica gradients.

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        _, _, weights, correct = self.token_losses(y, y_pred)
        total = tf.reduce_sum(weights)
        self.accuracy_tracker.update_state(
            tf.reduce_sum(correct * weights) / tf.maximum(total, 1.0), total)
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def get_config(self):
        config = super().get_config()
        config["label_smoothing"] = self.label_smoothing
        return config

    # ----------------------------------------------------------------- decoding

    def generate(self, source_ids, max_new_tokens=64, **kwargs):
        """Translates id rows; see `tfseq2seq.generation.generate` for the arguments."""
        from tfseq2seq.generation import generate
        return generate(self, source_ids, max_new_tokens=max_new_tokens, **kwargs)

    def checkpoint_parts(self):
        parts = [("shared/", self.shared), ("encoder/", self.encoder),
                 ("decoder/", self.decoder)]
        if self.target_embedding is not self.shared:
            parts.append(("target_embedding/", self.target_embedding))
        if not self.config.tie_word_embeddings:
            parts.append(("lm_head/", self.lm_head))
        return parts

    def named_checkpoint_weights(self):
        named = super().named_checkpoint_weights()
        if self.config.final_logits_bias:
            named["logits_bias"] = self.logits_bias
        return named


__all__ = ["SOURCE_IDS", "Seq2SeqModel", "Seq2SeqStack", "TARGET_IDS", "TokenEmbedding"]
