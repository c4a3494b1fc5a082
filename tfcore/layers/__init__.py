"""Transformer layers shared by tfbert and tfgpt."""

from tfcore.layers.activations import get_activation
from tfcore.layers.attention import MultiHeadAttention, causal_mask
from tfcore.layers.feed_forward import FeedForward
from tfcore.layers.flat import apply_flat
from tfcore.layers.layer_norm import LayerNorm
from tfcore.layers.positions import TokenAndPositionEmbedding, checked_length
from tfcore.layers.relative_position import (RelativePositionBias, clipped_relative_positions,
                                             relative_position_bucket)
from tfcore.layers.rms_norm import RMSNorm
from tfcore.layers.sinusoidal import SinusoidalPositionEmbedding, sinusoidal_positions
from tfcore.layers.transformer_block import BlockStack, TransformerBlock, blocks_from_config

__all__ = ["BlockStack", "FeedForward", "LayerNorm", "MultiHeadAttention",
           "TokenAndPositionEmbedding", "TransformerBlock", "apply_flat", "blocks_from_config",
           "causal_mask", "checked_length", "get_activation"]
# Encoder-decoder (Marian, T5) layers.
__all__ += ["RMSNorm", "RelativePositionBias", "SinusoidalPositionEmbedding",
            "clipped_relative_positions", "relative_position_bucket", "sinusoidal_positions"]
