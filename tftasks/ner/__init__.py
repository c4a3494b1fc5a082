"""Token classification (named entities) on the fine-tuning skeleton: `run_ner.py`'s library.

Example:

    from tftasks.ner import NerConfig, run
    results = run(NerConfig(train_file="train.conll", eval_file="dev.conll",
                            init_checkpoint="all-MiniLM-L6-v2", do_train=True,
                            do_eval=True, output_dir="out"))
"""

from tftasks.ner.config import NerConfig
from tftasks.ner.runner import run

__all__ = ["NerConfig", "run"]
