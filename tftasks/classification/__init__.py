"""Sentence (pair) classification, regression and multi-label fine-tuning of BERT.

`run(ClassifierConfig(...))` is what `run_classifier.py` does, without absl.
Data: GLUE/XNLI folders (`glue`), TFDS (`tfds_source`) or local files;
labels (`labels`, `head`), input (`features`), the Trainer's task (`task`),
metrics (`metrics`), the raw-text SavedModel (`export`), the run
(`session`, `runner`).

Example:

    from tftasks.classification import ClassifierConfig, run
    results = run(ClassifierConfig(tfds_name="glue/sst2", init_checkpoint="hf_bert",
                                   do_train=True, do_eval=True, output_dir="out"))
"""

from tftasks.classification.config import ClassifierConfig


def run(config, record=None):
    """`tftasks.classification.runner.run` (TensorFlow is imported on the first call)."""
    from tftasks.classification import runner
    return runner.run(config, record)


__all__ = ["ClassifierConfig", "run"]
