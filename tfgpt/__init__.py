"""GPT for TensorFlow 2 / Keras 3: GPT-2 models, cached generation, tokenizers, export."""

from tfgpt.config import GPTConfig
from tfgpt.model import GPTEmbedding, GPTLanguageModel, GPTModel
from tfgpt.task import LMTask

__all__ = ["GPTConfig", "GPTEmbedding", "GPTLanguageModel", "GPTModel", "LMTask"]
