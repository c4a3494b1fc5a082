"""BertSpanLabeler: start and end logits of an answer span (run_squad.py's model)."""

import keras

from tfbert.checkpoints import PretrainedMixin
from tfbert.config import BertConfig, as_bert_config
from tfbert.model import BERT_INPUT_NAMES, BertModel
from tfcore.modeling import ConfigModel


@keras.saving.register_keras_serializable(package="tfbert")
class BertSpanLabeler(PretrainedMixin, ConfigModel):
    """`BertModel -> sequence_output -> Dense(2)`: `start_logits`, `end_logits` `[b, s]`.

    Google's `run_squad.py` head (`cls/squad/output_weights`, `output_bias`)
    and Hugging Face's `BertForQuestionAnswering` (`qa_outputs`) load into
    `qa_outputs`. Logits are returned for every position, padding included,
    as both do; post-processing only reads context tokens.

    Example:

        model = BertSpanLabeler.from_pretrained("bert-base-squad")   # or (config)
        out = model({"input_ids": ids, "input_mask": mask, "segment_ids": seg})
        out["start_logits"], out["end_logits"]                       # float [b, s]
    """

    config_class = BertConfig
    INPUT_NAMES = BERT_INPUT_NAMES

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = as_bert_config(config)
        self.bert = BertModel(self.config, name="bert", dtype=self.dtype_policy)
        self.bert.pooler.trainable = False  # Google's span head does not read the pooler
        self.qa_outputs = keras.layers.Dense(
            2, name="qa_outputs", dtype=self.dtype_policy,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=self.config.initializer_range))
        self.build(None)

    def build(self, inputs_shape=None):
        self.qa_outputs.build((None, None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=None):
        sequence = self.bert(inputs, training=training)["sequence_output"]
        logits = self.qa_outputs(sequence)
        return {"start_logits": logits[..., 0], "end_logits": logits[..., 1]}

    def checkpoint_parts(self):
        return [("bert/", self.bert), ("qa_outputs/", self.qa_outputs)]
