"""BERT for TensorFlow 2 / Keras 3: models, heads, tokenizer, checkpoints."""

from tfbert.classifier import BertClassifier
from tfbert.config import BertConfig
from tfbert.embedding import BertEmbedding
from tfbert.heads import MaskedLanguageModel, NextSentencePrediction
from tfbert.model import BertModel
from tfbert.pretrainer import BertPretrainer
from tfbert.span_labeler import BertSpanLabeler
from tfbert.token_classifier import BertTokenClassifier
from tfbert.tokenization import BertTokenizer

__all__ = ["BertClassifier", "BertConfig", "BertEmbedding", "BertModel",
           "BertPretrainer", "BertSpanLabeler", "BertTokenClassifier", "BertTokenizer",
           "MaskedLanguageModel", "NextSentencePrediction"]
