"""Sequence-to-sequence (encoder-decoder) Transformers: our translation models, Marian, T5.

Example:

    from tfseq2seq import Seq2SeqConfig, Seq2SeqModel
    model = Seq2SeqModel.from_pretrained("opus-mt-de-en")
    ids = model.generate(source_ids, max_new_tokens=64, num_beams=4)
"""

from tfseq2seq.config import Seq2SeqConfig
from tfseq2seq.model import Seq2SeqModel

__all__ = ["Seq2SeqConfig", "Seq2SeqModel"]
