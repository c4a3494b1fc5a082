"""Sequence-to-sequence (encoder-decoder) Transformers: Marian, T5, our translation models."""
