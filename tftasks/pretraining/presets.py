"""Named pretraining presets: the embedded defaults of run_pretraining.py as data.

A preset is a model config, the training settings that go with it and the
embedded data it trains on (built by `tftasks.pretraining.data` from a
corpus of Python standard library docstrings, under `output_dir/data`).

- `embedded_bert`: WordPiece vocab (4000) -> masked-LM + NSP shards -> a
  2-layer BERT, 600 steps, evaluated on held-out shards.
- `embedded_gpt`: characters of the same corpus -> a 4-layer decoder
  (nanoGPT's small-run recipe: cosine decay, weight decay 0.1, beta2 0.99).

Example:

    config = preset_config("embedded_gpt", num_train_steps=50, output_dir="gpt_out")
    tftasks.pretraining.run(config)
"""

import dataclasses
from typing import Mapping, Optional, Tuple

from tftasks.pretraining.config import PretrainingConfig

# The embedded BERT's settings.
_BERT_SETTINGS = dict(do_train=True, do_eval=True, max_seq_length=64,
                      max_predictions_per_seq=10, train_batch_size=32, eval_batch_size=64,
                      learning_rate=1e-3, num_train_steps=600, num_warmup_steps=60,
                      save_checkpoints_steps=200, steps_per_execution=10,
                      # lr 1e-3 over 600 steps: Google's uncorrected early Adam steps
                      # (~3x larger) leave this small run at the baseline; bias-corrected AdamW learns.
                      adam_bias_correction=True)
# GPT's embedded default: characters of the same corpus, a 4-layer decoder.
_GPT_SETTINGS = dict(_BERT_SETTINGS, max_seq_length=64, learning_rate=2e-3,
                     num_warmup_steps=60, decay="cosine", end_learning_rate=2e-4,
                     weight_decay=0.1, adam_beta2=0.99)


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named recipe: model, its config, training settings and embedded data.

    Attributes:
      model: "bert" or "gpt" (`PretrainingConfig.model`).
      model_config: keyword arguments of the model's config class (the
        vocab size comes from the data's vocab file).
      settings: `PretrainingConfig` fields the preset sets.
      shard_folders: `(train, held-out)` folder names under `output_dir/data`.
      vocab_size: WordPiece vocab size to build (None: the writer's char vocab).
    """

    model: str
    model_config: Mapping
    settings: Mapping
    shard_folders: Tuple[str, str]
    vocab_size: Optional[int] = None


PRESETS = {
    "embedded_bert": Preset(
        model="bert",
        model_config=dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=512, max_position_embeddings=128,
                          type_vocab_size=2, hidden_dropout_prob=0.1,
                          attention_probs_dropout_prob=0.1),
        settings=_BERT_SETTINGS, shard_folders=("train_records", "heldout_records"),
        vocab_size=4000),
    "embedded_gpt": Preset(
        model="gpt",
        model_config=dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                          intermediate_size=512, max_position_embeddings=64,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                          bos_token_id=0, eos_token_id=0),  # the char vocab's <|endoftext|>
        settings=_GPT_SETTINGS, shard_folders=("gpt_train_records", "gpt_heldout_records")),
}


def embedded_preset(model):
    """The embedded preset of `model` ("bert" or "gpt")."""
    return get_preset(f"embedded_{model}")


def get_preset(name):
    """The `Preset` called `name`; KeyError lists the known names."""
    if name not in PRESETS:
        raise KeyError(f"No pretraining preset {name!r}; known: {', '.join(sorted(PRESETS))}.")
    return PRESETS[name]


def preset_config(name, **overrides):
    """`PretrainingConfig` of preset `name`; `overrides` win over its settings.

    The config's `input_file` stays None unless overridden, so the run builds
    and uses the preset's embedded data.
    """
    preset = get_preset(name)
    if overrides.get("model", preset.model) != preset.model:
        raise ValueError(f"Preset {name!r} trains --model={preset.model}, not "
                         f"{overrides['model']!r}.")
    values = dict(preset.settings, model=preset.model)
    values.update(overrides)
    return PretrainingConfig(**values)
