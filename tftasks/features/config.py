"""`FeaturesConfig`: one extract_features.py run; fields == the script's flag names.

Google's extract_features.py options with its defaults. `do_lower_case`
None means "decide": the `--init_checkpoint` folder's tokenizer_config.json
(Hugging Face), else True. The TPU options are accepted and change nothing:
the vectors are computed on this machine's devices.

`validate()` raises `ConfigError` naming the flag before anything is read;
`check_layers(num_layers)` does the same once the model's depth is known.

Example:

    config = FeaturesConfig(input_file="in.txt", output_file="out.jsonl",
                            init_checkpoint="hf_folder", layers="-1,-2")
    config.validate()
    config.layer_indexes            # (-1, -2)
"""

import dataclasses
from typing import Optional

from tfcore.training_options import check_positive
from tftasks.common.errors import ConfigError

# Room for [CLS] and two [SEP] (a pair), as Google's packing assumes.
MIN_SEQ_LENGTH = 3


@dataclasses.dataclass(frozen=True)
class FeaturesConfig:
    """The options of one run; see the module doc and `extract_features.py --help`."""

    input_file: Optional[str] = None
    output_file: Optional[str] = None
    layers: str = "-1,-2,-3,-4"
    bert_config_file: Optional[str] = None
    init_checkpoint: Optional[str] = None
    vocab_file: Optional[str] = None
    max_seq_length: int = 128
    do_lower_case: Optional[bool] = None
    batch_size: int = 32
    use_tpu: bool = False
    master: Optional[str] = None
    num_tpu_cores: int = 8
    use_one_hot_embeddings: bool = False

    @property
    def layer_indexes(self):
        """`--layers` as a tuple of ints (Google's order, repeats kept)."""
        try:
            indexes = tuple(int(part) for part in self.layers.split(","))
        except ValueError:
            raise ConfigError(f"--layers={self.layers!r}: expected comma-separated layer "
                              "indexes such as -1,-2,-3,-4.") from None
        return indexes

    def validate(self):
        """Raises `ConfigError` naming the first option that cannot work."""
        for name in ("input_file", "output_file", "init_checkpoint"):
            if not getattr(self, name):
                raise ConfigError(f"--{name} is required.")
        check_positive(self, ("batch_size",))
        if self.max_seq_length < MIN_SEQ_LENGTH:
            raise ConfigError(f"--max_seq_length must be >= {MIN_SEQ_LENGTH} ([CLS] and two "
                              f"[SEP]); got {self.max_seq_length}.")
        self.layer_indexes  # noqa: B018 (parses, raising on bad syntax)

    def check_layers(self, num_layers):
        """Every `--layers` index must name one of the model's `num_layers` layers."""
        for index in self.layer_indexes:
            if not -num_layers <= index < num_layers:
                raise ConfigError(
                    f"--layers={self.layers}: {index} is out of range; the model has "
                    f"{num_layers} layers (indexes -{num_layers}..{num_layers - 1}, "
                    "-1 the last).")
