"""Translation: parallel text -> SentencePiece -> TFRecords -> Seq2SeqModel -> BLEU, SavedModel.

`run_translation.py`'s library.

Example:

    from tftasks.translation import TranslationConfig, run
    results = run(TranslationConfig(train_source="train.de", train_target="train.en",
                                    test_source="test.de", test_target="test.en",
                                    output_dir="out", num_train_steps=2000))
"""

from tftasks.translation.config import TranslationConfig
from tftasks.translation.runner import run

__all__ = ["TranslationConfig", "run"]
