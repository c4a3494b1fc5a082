"""BertModel: the BERT encoder, inputs and outputs with Google's names."""

import keras
import tensorflow as tf

from tfbert.checkpoints import PretrainedMixin
from tfbert.config import BertConfig, as_bert_config
from tfbert.embedding import BertEmbedding
from tfcore.layers import BlockStack
from tfcore.modeling import ConfigModel


BERT_INPUT_NAMES = ("input_ids", "segment_ids", "input_mask")


@keras.saving.register_keras_serializable(package="tfbert")
class BertModel(PretrainedMixin, BlockStack, ConfigModel):
    """BERT encoder (post-LN transformer).

    Inputs: a dict of int32 `[batch, seq]` tensors: `input_ids`, and optional
    `segment_ids` (default 0) and `input_mask` (1 = token, 0 = padding,
    default all 1).

    Outputs: `{"sequence_output": [batch, seq, hidden],
    "pooled_output": [batch, hidden]}` (pooled = tanh(Dense(first token))).
    Every layer's output: `model.hidden_states(inputs)`.
    The transformer blocks are `model.blocks` (attributes `layer_0`...).
    With `config.embedding_size` (ELECTRA) the embedding tables are that wide
    and a dense `embeddings_project` maps their output to `hidden_size`.
    `embedding`: an existing `BertEmbedding` to use instead of a new one
    (ELECTRA's generator reads its discriminator's tables); not serialised.

    Example:

        config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=64)
        model = BertModel(config)
        out = model({"input_ids": tf.constant([[2, 7, 3, 0]]),
                     "input_mask": tf.constant([[1, 1, 1, 0]])})
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES

    def __init__(self, config, embedding=None, **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        c = self.config
        policy = self.dtype_policy
        if embedding is None:
            embedding = BertEmbedding(
                vocab_size=c.vocab_size, hidden_size=c.embedding_width,
                max_position_embeddings=c.max_position_embeddings,
                type_vocab_size=c.type_vocab_size, initializer_range=c.initializer_range,
                layer_norm_epsilon=c.layer_norm_eps, dropout_rate=c.hidden_dropout_prob,
                name="embeddings", dtype=policy)
        elif embedding.hidden_size != c.embedding_width:
            raise ValueError(f"The shared embedding is {embedding.hidden_size} wide; the config's "
                             f"embedding width (embedding_size, else hidden_size) is "
                             f"{c.embedding_width}.")
        self.embedding = embedding
        if c.embedding_width != c.hidden_size:
            self.embeddings_project = keras.layers.Dense(
                c.hidden_size, name="embeddings_project", dtype=policy,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=c.initializer_range))
        self.add_blocks(norm_first=False, causal=False)  # post-LN encoder
        self.pooler = keras.layers.Dense(
            c.hidden_size, activation="tanh", name="pooler",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=c.initializer_range),
            dtype=policy)
        self.build(None)

    def build(self, inputs_shape=None):
        # Every weight's shape follows from the config, so build eagerly:
        # weights exist right after construction (checkpoint loading, summary).
        hidden_shape = (None, None, self.config.hidden_size)
        if not self.embedding.built:  # a shared embedding is built by its owner
            self.embedding.build()
        if self.config.embedding_width != self.config.hidden_size:
            self.embeddings_project.build((None, None, self.config.embedding_width))
        for block in self.blocks:
            block.build(hidden_shape)
        self.pooler.build((None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        x = self.hidden_states(inputs, training=training)[-1]
        pooled = self.pooler(x[:, 0])
        return {"sequence_output": x, "pooled_output": pooled}

    def hidden_states(self, inputs, training=None):
        """The embedding output (projected), then each block's: `num_hidden_layers + 1` tensors.

        Each is `[b, s, hidden]`.
        Hugging Face's `output_hidden_states=True`; Google's
        `get_all_encoder_layers()` (extract_features.py's layers) is `[1:]`;
        the last is `sequence_output`. Inputs as for `call`.
        """
        input_ids = inputs["input_ids"]
        input_mask = inputs.get("input_mask")
        if input_mask is None:
            input_mask = tf.ones_like(input_ids)
        embedded = self.embedding(input_ids, inputs.get("segment_ids"), training=training)
        if self.config.embedding_width != self.config.hidden_size:
            embedded = self.embeddings_project(embedded)
        states = [embedded]
        for block in self.blocks:
            states.append(block(states[-1], attention_mask=input_mask, training=training))
        return states

    def checkpoint_parts(self):
        return [("bert/", self)]
