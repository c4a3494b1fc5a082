"""Our TransformerBlock's weights in keras-hub's transformer layers (independent references).

keras-hub's `TransformerEncoder` (BertBackbone's `transformer_layer_i`) and
`TransformerDecoder` (GPT2Backbone's) keep the same sub-layers under the
same private names, so one copy serves the BERT and the GPT-2 reference.
"""


def copy_block_to_keras_hub(block, layer, num_heads):
    """Sets `layer` (keras-hub) to the weights of `block` (`tfcore.layers.TransformerBlock`).

    keras-hub's attention keeps per-head kernels: query/key/value
    `[hidden, heads, head_size]`, output `[heads, head_size, hidden]`.

    Example: `copy_block_to_keras_hub(model.blocks[0],
    ref.get_layer("transformer_layer_0"), config.num_attention_heads)`.
    """
    attn = layer._self_attention_layer
    for ours, theirs in ((block.attention.query, attn._query_dense),
                         (block.attention.key, attn._key_dense),
                         (block.attention.value, attn._value_dense)):
        kernel, bias = ours.get_weights()
        theirs.set_weights([kernel.reshape(kernel.shape[0], num_heads, -1),
                            bias.reshape(num_heads, -1)])
    kernel, bias = block.attention.output_dense.get_weights()
    attn._output_dense.set_weights([kernel.reshape(num_heads, -1, kernel.shape[-1]), bias])
    layer._self_attention_layer_norm.set_weights(block.attention_layer_norm.get_weights())
    layer._feedforward_intermediate_dense.set_weights(
        block.feed_forward.intermediate.get_weights())
    layer._feedforward_output_dense.set_weights(block.feed_forward.output_dense.get_weights())
    layer._feedforward_layer_norm.set_weights(block.output_layer_norm.get_weights())


def backbone_sizes(config):
    """keras-hub backbone arguments (BertBackbone, GPT2Backbone) for one of our configs.

    Dropout is 0: the references are compared with our models at inference.

    Example: `keras_hub.models.GPT2Backbone(**backbone_sizes(lm.config))`.
    """
    return dict(vocabulary_size=config.vocab_size, num_layers=config.num_hidden_layers,
                num_heads=config.num_attention_heads, hidden_dim=config.hidden_size,
                intermediate_dim=config.intermediate_size, dropout=0.0,
                max_sequence_length=config.max_position_embeddings)
