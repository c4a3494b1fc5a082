"""What every command-line program shares: one-line usage errors and the run record.

Only entry points (`run_*.py`, `python -m ...` mains) import this module.

Example:

    if __name__ == "__main__":
        run_main(main)          # instead of absl's app.run(main)

    write_run_record("out", "run_pretraining.py")   # out/flags.txt, for --flagfile
"""

import os
import sys

from absl import app, flags

from tfcore.io import write_text_atomically

RUN_RECORD = "flags.txt"


def run_main(main):
    """`app.run(main)`, but an `app.UsageError` is one line on stderr and exit code 2.

    absl prints the whole flag help before the message; a user (or a log) then
    finds the reason only at the end of ~150 lines. `--help` still prints it.
    """
    def main_with_one_line_errors(argv):
        try:
            return main(argv)
        except app.UsageError as e:
            sys.stderr.write(f"ERROR: {e} (--help lists the flags)\n")
            sys.exit(2)

    app.run(main_with_one_line_errors)


def write_run_record(output_dir, program, flag_values=None):
    """Writes `output_dir/flags.txt`: the program's flags as a flagfile.

    `python PROGRAM --flagfile=output_dir/flags.txt` repeats the run. Only the
    flags the program itself defines are written (not absl's own), every one
    of them, given or defaulted, so the record is complete.
    """
    flag_values = flag_values or flags.FLAGS
    module = flag_values.find_module_defining_flag("output_dir") or sys.argv[0]
    path = os.path.join(output_dir, RUN_RECORD)
    lines = [f"# The flags of this run of {program}; repeat it with --flagfile={path}"]
    for flag in sorted(flag_values.get_flags_for_module(module), key=lambda f: f.name):
        lines.append(flag.serialize() if flag.value is not None else f"# --{flag.name} unset")
    write_text_atomically(path, "\n".join(lines) + "\n")
