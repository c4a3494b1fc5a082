"""Transformer layers shared by tfbert and tfgpt."""

from tfcore.layers.activations import get_activation
from tfcore.layers.attention import MultiHeadAttention, causal_mask
from tfcore.layers.feed_forward import FeedForward
from tfcore.layers.flat import apply_flat
from tfcore.layers.layer_norm import LayerNorm
from tfcore.layers.positions import TokenAndPositionEmbedding, checked_length
from tfcore.layers.transformer_block import BlockStack, TransformerBlock, blocks_from_config

__all__ = ["BlockStack", "FeedForward", "LayerNorm", "MultiHeadAttention",
           "TokenAndPositionEmbedding", "TransformerBlock", "apply_flat", "blocks_from_config",
           "causal_mask", "checked_length", "get_activation"]
