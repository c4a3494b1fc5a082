"""The one transformer block shared by BERT (post-LN), GPT (pre-LN, causal) and encoder-decoders."""

import keras

from tfcore.layers.attention import MultiHeadAttention
from tfcore.layers.feed_forward import FeedForward
from tfcore.layers.layer_norm import LayerNorm
from tfcore.layers.rms_norm import RMSNorm

NORMS = ("layer", "rms")


@keras.saving.register_keras_serializable(package="tfcore")
class TransformerBlock(keras.layers.Layer):
    """Self-attention (+ cross-attention) + feed-forward with residuals: `[b, s, h] -> [b, s, h]`.

    `norm_first=False` is BERT's (and the original Transformer's) post-LN block:
        x = LN(x + Dropout(Attention(x))); [x = LN(x + Dropout(Cross(x, source)));]
        x = LN(x + Dropout(FFN(x)))
    `norm_first=True` is GPT-2's (and T5's) pre-LN block:
        x = x + Dropout(Attention(LN(x))); [x = x + Dropout(Cross(LN(x), source));]
        x = x + Dropout(FFN(LN(x)))

    Args:
      num_heads, intermediate_size, activation: attention heads, FFN width and
        activation name (see `tfcore.layers.activations`).
      dropout_rate: dropout on the residual branches.
      attention_dropout_rate: dropout on the attention probabilities.
      layer_norm_epsilon: 1e-12 for BERT, 1e-5 for GPT-2, 1e-6 for T5.
      norm_first: pre-LN (True) or post-LN (False).
      causal: mask future positions in the self-attention.
      use_bias: biases in the dense layers and offsets (beta) in the LayerNorms;
        False is nanoGPT's `bias=False`.
      cross_attention: a decoder block of an encoder-decoder: a second attention
        over `source` between the self-attention and the feed-forward.
      norm: "layer" (LayerNorm) or "rms" (RMSNorm, T5).
      head_size, scale_queries: as in `MultiHeadAttention` (T5: `d_kv`, False).
      max_relative_position: Shaw et al.'s clipped relative keys in the
        self-attention (0: none).
      gated: the feed-forward is gated (T5 v1.1's `wi_0`, `wi_1`).

    Call args: `x [b, s, h]`, `attention_mask` (`[b, k]` or `[b, s, k]`, 1 =
    attend), `cache`/`cache_index` as in `MultiHeadAttention` (then
    `(output, updated_cache)` is returned), `attention_bias` added to the
    self-attention scores; for cross-attention `source [b, k, h]` or its
    `source_cache` (`cross_attention.project_source(source)`) and
    `source_mask [b, k]`.

    Example:

        block = TransformerBlock(num_heads=4, intermediate_size=256)
        y = block(tf.random.normal([2, 8, 64]), attention_mask=tf.ones([2, 8]))
    """

    def __init__(self, num_heads, intermediate_size, activation="gelu",
                 dropout_rate=0.1, attention_dropout_rate=0.1,
                 layer_norm_epsilon=1e-12, norm_first=False, causal=False,
                 initializer_range=0.02, use_bias=True, cross_attention=False,
                 norm="layer", head_size=None, scale_queries=True, max_relative_position=0,
                 gated=False, **kwargs):
        kwargs.setdefault("autocast", False)  # a float32 cache stays float32; x is cast in call
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.activation = activation
        self.dropout_rate = dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.layer_norm_epsilon = layer_norm_epsilon
        self.norm_first = norm_first
        self.causal = causal
        self.initializer_range = initializer_range
        self.use_bias = use_bias
        self.cross_attention_enabled = cross_attention
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {sorted(NORMS)}, got {norm!r}.")
        self.norm = norm
        self.head_size = head_size
        self.scale_queries = scale_queries
        self.max_relative_position = max_relative_position
        self.gated = gated

    def _attention(self, name, causal, max_relative_position=0):
        return MultiHeadAttention(
            self.num_heads, dropout_rate=self.attention_dropout_rate, causal=causal,
            initializer_range=self.initializer_range, use_bias=self.use_bias,
            head_size=self.head_size, scale_queries=self.scale_queries,
            max_relative_position=max_relative_position, name=name, dtype=self.dtype_policy)

    def _norm(self, name):
        if self.norm == "rms":
            return RMSNorm(epsilon=self.layer_norm_epsilon, name=name, dtype=self.dtype_policy)
        return LayerNorm(epsilon=self.layer_norm_epsilon, center=self.use_bias, name=name,
                         dtype=self.dtype_policy)

    def build(self, x_shape, *args, **kwargs):
        policy = self.dtype_policy
        self.attention = self._attention("attention", self.causal, self.max_relative_position)
        self.attention.build(x_shape)
        if self.cross_attention_enabled:
            self.cross_attention = self._attention("cross_attention", causal=False)
            self.cross_attention.build(x_shape)
            self.cross_attention_layer_norm = self._norm("cross_attention_layer_norm")
            self.cross_attention_layer_norm.build(x_shape)
            self.cross_attention_dropout = keras.layers.Dropout(self.dropout_rate, dtype=policy)
        ffn_options = dict(gated=True) if self.gated else {}
        self.feed_forward = FeedForward(
            self.intermediate_size, activation=self.activation,
            initializer_range=self.initializer_range, use_bias=self.use_bias,
            name="feed_forward", dtype=policy, **ffn_options)
        self.feed_forward.build(x_shape)
        self.attention_layer_norm = self._norm("attention_layer_norm")
        self.attention_layer_norm.build(x_shape)
        self.output_layer_norm = self._norm("output_layer_norm")
        self.output_layer_norm.build(x_shape)
        self.attention_dropout = keras.layers.Dropout(self.dropout_rate, dtype=policy)
        self.output_dropout = keras.layers.Dropout(self.dropout_rate, dtype=policy)

    def _residual(self, x, sublayer, norm, dropout, training):
        """`x + Dropout(sublayer(x))` with the norm before (pre-LN) or after (post-LN)."""
        branch = sublayer(norm(x) if self.norm_first else x)
        extra = None
        if isinstance(branch, tuple):
            branch, extra = branch
        x = x + dropout(branch, training=training)
        return (x if self.norm_first else norm(x)), extra

    def call(self, x, attention_mask=None, cache=None, cache_index=None,
             training=None, source=None, source_mask=None, source_cache=None,
             attention_bias=None):
        x = keras.ops.cast(x, self.compute_dtype)
        x, cache = self._residual(
            x, lambda h: self.attention(h, attention_mask=attention_mask, cache=cache,
                                        cache_index=cache_index, training=training,
                                        attention_bias=attention_bias),
            self.attention_layer_norm, self.attention_dropout, training)
        if self.cross_attention_enabled:
            x, _ = self._residual(
                x, lambda h: self.cross_attention(h, attention_mask=source_mask, source=source,
                                                  source_cache=source_cache, training=training),
                self.cross_attention_layer_norm, self.cross_attention_dropout, training)
        x, _ = self._residual(x, self.feed_forward, self.output_layer_norm,
                              self.output_dropout, training)
        return x if cache is None else (x, cache)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads, intermediate_size=self.intermediate_size,
            activation=self.activation, dropout_rate=self.dropout_rate,
            attention_dropout_rate=self.attention_dropout_rate,
            layer_norm_epsilon=self.layer_norm_epsilon, norm_first=self.norm_first,
            causal=self.causal, initializer_range=self.initializer_range,
            use_bias=self.use_bias, cross_attention=self.cross_attention_enabled,
            norm=self.norm, head_size=self.head_size, scale_queries=self.scale_queries,
            max_relative_position=self.max_relative_position, gated=self.gated)
        return config


def blocks_from_config(config, *, norm_first, causal, use_bias=True, dtype=None):
    """One `TransformerBlock` per `config.num_hidden_layers`, named `layer_0`, `layer_1`...

    The one place where a transformer config's fields (BertConfig's names,
    which GPTConfig shares) become the block's keyword arguments; the
    variant (post-LN encoder, pre-LN causal decoder) is chosen by the flags.

    Example:

        for block in blocks_from_config(config, norm_first=False, causal=False):
            setattr(model, block.name, block)   # attributes: tf.train.Checkpoint tracks them
    """
    return [TransformerBlock(
        num_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        activation=config.hidden_act, dropout_rate=config.hidden_dropout_prob,
        attention_dropout_rate=config.attention_probs_dropout_prob,
        layer_norm_epsilon=config.layer_norm_eps, norm_first=norm_first, causal=causal,
        initializer_range=config.initializer_range, use_bias=use_bias,
        name=f"layer_{i}", dtype=dtype) for i in range(config.num_hidden_layers)]


class BlockStack:
    """Mixin for models whose blocks are attributes `layer_0`, `layer_1`... of `config`.

    Attributes, not a list: tf.train.Checkpoint tracks attributes of Keras
    models but not the lists Keras wraps, and the attribute names are the
    blocks' names in checkpoints (`bert/layer_0/...`, `gpt/layer_0/...`).

    Example (in a model's `__init__`, after `self.config` is set):

        self.add_blocks(norm_first=True, causal=True)
        for block in self.blocks: ...
    """

    def add_blocks(self, **flags):
        """Creates the blocks with `blocks_from_config(self.config, **flags)`."""
        for block in blocks_from_config(self.config, dtype=self.dtype_policy, **flags):
            setattr(self, block.name, block)

    @property
    def blocks(self):
        """The transformer blocks, first to last."""
        return [getattr(self, f"layer_{i}") for i in range(self.config.num_hidden_layers)]
