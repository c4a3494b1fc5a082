"""Transformer layers shared by tfbert and tfgpt."""

from tfcore.layers.activations import get_activation
from tfcore.layers.attention import MultiHeadAttention, causal_mask
from tfcore.layers.feed_forward import FeedForward
from tfcore.layers.flat import apply_flat
from tfcore.layers.layer_norm import LayerNorm
from tfcore.layers.transformer_block import TransformerBlock

__all__ = ["FeedForward", "LayerNorm", "MultiHeadAttention", "TransformerBlock",
           "apply_flat", "causal_mask", "get_activation"]
