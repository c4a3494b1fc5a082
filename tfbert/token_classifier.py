"""BertTokenClassifier: one label per token (named-entity recognition, tagging)."""

import keras

from tfbert.checkpoints import PretrainedMixin
from tfbert.config import BertConfig, as_bert_config
from tfbert.model import BERT_INPUT_NAMES, BertModel
from tfcore.modeling import ConfigModel


@keras.saving.register_keras_serializable(package="tfbert")
class BertTokenClassifier(PretrainedMixin, ConfigModel):
    """`BertModel -> sequence_output -> Dropout -> Dense(num_labels)`: logits `[b, s, k]`.

    Hugging Face's `BertForTokenClassification` (`classifier`) loads into
    `classifier`; Google's repository has no token head. Which tokens carry a
    label (e.g. the first wordpiece of each word) is the task's business, not
    the model's: it returns logits at every position.

    Example:

        model = BertTokenClassifier.from_pretrained("hf_ner_folder")  # num_labels read
        model = BertTokenClassifier(config, num_labels=13)
        logits = model({"input_ids": ids, "input_mask": mask, "segment_ids": seg})
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES

    def __init__(self, config, num_labels=2, dropout_rate=None, **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        if num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}.")
        self.num_labels = num_labels
        self.dropout_rate = (self.config.hidden_dropout_prob
                             if dropout_rate is None else dropout_rate)
        self.bert = BertModel(self.config, name="bert", dtype=self.dtype_policy)
        self.bert.pooler.trainable = False  # no gradient reaches the pooler
        self.dropout = keras.layers.Dropout(self.dropout_rate, dtype=self.dtype_policy)
        self.classifier = keras.layers.Dense(
            num_labels, name="classifier", dtype=self.dtype_policy,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=self.config.initializer_range))
        self.build(None)

    def build(self, inputs_shape=None):
        self.classifier.build((None, None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        sequence = self.bert(inputs, training=training)["sequence_output"]
        return self.classifier(self.dropout(sequence, training=training))

    def checkpoint_parts(self):
        return [("bert/", self.bert), ("classifier/", self.classifier)]

    @classmethod
    def _kwargs_from_checkpoint(cls, canonical, kwargs):
        if "num_labels" not in kwargs and "classifier/kernel" in canonical:
            kwargs = dict(kwargs, num_labels=canonical["classifier/kernel"].shape[1])
        return kwargs

    def get_config(self):
        config = super().get_config()
        config.update(num_labels=self.num_labels, dropout_rate=self.dropout_rate)
        return config
