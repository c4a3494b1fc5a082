"""The end-of-run summary that run_pretraining.py prints (CLI-only: it prints).

Example:

    result = tftasks.pretraining.run(config, notify=print)
    if result.metrics_path:      # the chief wrote its outputs
        print_summary(result)
"""

from tfcore.reporting import summary_table
from tftasks.pretraining.models import RECIPES


def summary_rows(metrics):
    """`[(name, value)]`: steps, then the sorted train and eval figures."""
    rows = [("steps", metrics["steps"])]
    for section in ("train", "eval"):
        rows += [(f"{section}.{k}", v) for k, v in sorted(metrics.get(section, {}).items())]
    return rows


def print_summary(result):
    """Prints the figures table and where the outputs of `result` (a PretrainingResult) are."""
    recipe, output_dir = RECIPES[result.model], result.output_dir
    print("\n" + summary_table(summary_rows(result.metrics)))
    print(f"\nFinished in {result.seconds:.0f} s.")
    print(f"  checkpoints:  {output_dir}  (also a pretrained folder: from_pretrained, "
          f"{recipe.pretrained_hint})")
    print(f"  TensorBoard:  tensorboard --logdir {output_dir}")
    print(f"  metrics:      {result.metrics_path}")
    if result.export_dir:
        print(f"  SavedModel:   {result.export_dir}  ({recipe.signatures})")
