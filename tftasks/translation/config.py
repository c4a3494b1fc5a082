"""TranslationConfig: every option of a translation run; field names are run_translation.py's flags.

Example:

    config = TranslationConfig(train_source="train.de", train_target="train.en",
                               output_dir="out", num_train_steps=2000)
    config.validate()
"""

import dataclasses
from typing import Optional

from tfcore.training_options import (OptionError, TrainingOptions, check_choice,
                                     check_positive, check_ranges)

POSITIONS = ("sinusoidal", "learned", "relative", "shaw")
LAYOUTS = ("concatenated", "interleaved")


@dataclasses.dataclass(frozen=True)
class TranslationConfig(TrainingOptions):
    """Data, vocabulary, model, training, decoding and export options (see run_translation.py)."""

    # Data: two parallel files (one sentence per line, .gz accepted) or a TSV.
    train_source: Optional[str] = None
    train_target: Optional[str] = None
    eval_source: Optional[str] = None
    eval_target: Optional[str] = None
    test_source: Optional[str] = None
    test_target: Optional[str] = None
    max_train_rows: Optional[int] = None
    output_dir: Optional[str] = None
    # Vocabulary: a joint SentencePiece model, trained on the training text unless given.
    spm_model_file: Optional[str] = None
    vocab_size: int = 8000
    spm_model_type: str = "unigram"
    max_source_length: int = 128
    max_target_length: int = 128
    # Model.
    model_config_file: Optional[str] = None
    hidden_size: int = 256
    num_encoder_layers: int = 3
    num_decoder_layers: int = 3
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    hidden_act: str = "relu"
    dropout: float = 0.1
    attention_dropout: float = 0.1
    position_embedding: str = "sinusoidal"
    sinusoidal_layout: str = "concatenated"
    norm_first: bool = False
    # Training.
    do_train: bool = True
    do_eval: bool = True
    do_predict: bool = True
    do_export: bool = True
    max_tokens: int = 4096
    num_train_steps: int = 4000
    max_train_seconds: Optional[float] = None
    learning_rate: float = 1e-3
    num_warmup_steps: int = 800
    label_smoothing: float = 0.1
    save_checkpoints_steps: int = 500
    shuffle_buffer: int = 30000
    clip_norm: float = 0.0
    weight_decay: float = 0.0
    # Decoding.
    num_beams: int = 4
    length_penalty: float = 1.0
    max_decode_length: int = 128
    decode_batch_size: int = 64

    def validate(self):
        super().validate()
        if self.do_train and not (self.train_source and (self.train_target or
                                                         self.train_source.endswith(".tsv"))):
            raise OptionError("--do_train needs --train_source and --train_target "
                              "(or a .tsv --train_source).")
        if not self.output_dir:
            raise OptionError("--output_dir is required.")
        check_positive(self, ("vocab_size", "max_source_length", "max_target_length",
                              "hidden_size", "num_encoder_layers", "num_decoder_layers",
                              "num_attention_heads", "intermediate_size", "max_tokens",
                              "num_train_steps", "save_checkpoints_steps", "num_beams",
                              "max_decode_length", "decode_batch_size", "shuffle_buffer"))
        check_ranges(self, (
            ("learning_rate", lambda v: v > 0, "positive"),
            ("num_warmup_steps", lambda v: v >= 0, ">= 0"),
            ("max_train_seconds", lambda v: v > 0, "positive"),
            ("max_train_rows", lambda v: v > 0, "positive"),
            ("label_smoothing", lambda v: 0 <= v < 1, "in [0, 1)"),
            ("dropout", lambda v: 0 <= v < 1, "in [0, 1)"),
            ("attention_dropout", lambda v: 0 <= v < 1, "in [0, 1)")))
        check_choice(self, "position_embedding", POSITIONS)
        check_choice(self, "sinusoidal_layout", LAYOUTS)
        check_choice(self, "spm_model_type", ("unigram", "bpe"))
        if self.max_tokens < max(self.max_source_length, self.max_target_length):
            raise OptionError(f"--max_tokens ({self.max_tokens}) must hold one pair of the "
                              f"longest lengths ({max(self.max_source_length, self.max_target_length)}).")
        if self.num_warmup_steps > self.num_train_steps:
            raise OptionError(f"--num_warmup_steps ({self.num_warmup_steps}) must be <= "
                              f"--num_train_steps ({self.num_train_steps}).")
        for side in ("eval", "test"):
            if bool(getattr(self, f"{side}_source")) != bool(getattr(self, f"{side}_target")):
                raise OptionError(f"--{side}_source and --{side}_target go together.")
