"""What the fine-tuning scripts (run_classifier.py, run_squad.py, run_ner.py) share.

`run_task` runs a task's `run(config, record=...)` with the run record
(flags.txt) and the wall time, turning option errors into usage errors;
`exit_on_failure` turns known failures (bad data, a checkpoint that cannot be
written, a non-finite loss, a TensorFlow op error such as a full disk) into
one line and exit code 1; `print_summary` prints the summary table and the
files written.

Example (a script):

    def run():
        return run_task("run_ner.py", tftasks.ner.run, config_from_command_line())

    def main(argv):
        results = exit_on_failure("run_ner.py", run)
        print_summary(results, ("task", "steps"), ("train", "eval"))
"""

import sys
import time

from absl import app, logging


def run_task(program, run, config):
    """`run(config, record=flags.txt writer)` plus `results["seconds"]`; option errors: usage."""
    from tfcore.cli import write_run_record
    from tfcore.training_options import OptionError
    started = time.time()
    try:
        results = run(config, record=lambda output_dir: write_run_record(output_dir, program))
    except OptionError as e:
        raise app.UsageError(str(e)) from None
    results["seconds"] = time.time() - started
    return results


def exit_on_failure(program, function):
    """`function()`, with known failures ended by one line `PROGRAM: error: ...` (exit 1)."""
    import tensorflow as tf

    from tfcore.training import CheckpointWriteError, NonFiniteLossError
    from tftasks.common.errors import DataError
    try:
        return function()
    except (DataError, CheckpointWriteError, NonFiniteLossError) as e:
        logging.error("%s", e)
        sys.exit(f"{program}: error: {e}")
    except tf.errors.OpError as e:  # e.g. a full disk while exporting (tfcore.export)
        sys.exit(f"{program}: error: {e.message.strip()}")


def print_summary(results, keys, sections, report=None):
    """The table of `keys` and every scalar of `sections`, `report` text, then the files."""
    from tfcore.reporting import summary_table
    rows = [(key, results[key]) for key in keys if key in results]
    for section in sections:
        rows += [(f"{section}.{k}", v) for k, v in sorted(results.get(section, {}).items())
                 if not isinstance(v, (dict, list))]
    print("\n" + summary_table(rows))
    if report:
        print("\n" + report)
    print(f"\nFinished in {results['seconds']:.0f} s.")
    width = max((len(name) for name in results["files"]), default=0) + 2
    for name, path in results["files"].items():
        print(f"  {name + ':':{width}s}{path}")
