"""The errors of a fine-tuning run that a script turns into one line.

- `DataError`: bad input data; the message names the file, row and column
  (or the TFDS name, split and feature).
- `ConfigError`: a bad run option; the message names the option as the
  script's flag (`--max_seq_length must be ...`). The training options'
  `OptionError` (tfcore) is one, so a script catches both with one clause.

Example:

    try:
        tftasks.classification.run(config)
    except ConfigError as e:       # before anything is written
        raise app.UsageError(str(e))
"""

from tfcore.training_options import OptionError


class DataError(ValueError):
    """Bad input data; the message names the file, the row and the column."""


class ConfigError(OptionError):
    """A run option that cannot work; the message names the flag (`--name`)."""
