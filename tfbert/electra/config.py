"""The ELECTRA generator's config, derived from the discriminator's as Google's code does.

ELECTRA's discriminator is a BERT encoder (`BertConfig`, with `embedding_size`
where the tables are narrower than `hidden_size`); its generator is a smaller
one reading the same embedding tables. Hugging Face ships a config per model;
Google derives the generator's from fractions of the discriminator's.

Example:

    discriminator = BertConfig(vocab_size=30522, hidden_size=256, num_hidden_layers=12,
                               num_attention_heads=4, intermediate_size=1024,
                               embedding_size=128)
    generator = generator_config(discriminator, hidden_fraction=0.25)   # hidden 64, 1 head
"""

from tfbert.config import BertConfig, as_bert_config
from tfcore.config import ConfigError

# Google's run_pretraining.py: attention heads of 64 units, a 4x feed-forward.
HEAD_SIZE, FEED_FORWARD_RATIO = 64, 4


def generator_config(config, hidden_fraction=0.25, layers_fraction=1.0) -> BertConfig:
    """The generator of discriminator `config`: `hidden_fraction` of its width, as Google does.

    hidden = round(hidden_size * hidden_fraction), layers = round(num_hidden_layers *
    layers_fraction), intermediate = 4 * hidden, heads = max(1, hidden // 64); the
    embedding width stays the discriminator's (the generator reads the same tables).
    """
    config = as_bert_config(config)
    hidden = int(round(config.hidden_size * hidden_fraction))
    layers = int(round(config.num_hidden_layers * layers_fraction))
    if hidden <= 0 or layers <= 0:
        raise ConfigError(f"generator hidden_fraction={hidden_fraction} and layers_fraction="
                          f"{layers_fraction} leave hidden_size={hidden}, layers={layers}: "
                          "both must be positive.")
    return config.replace(hidden_size=hidden, num_hidden_layers=layers,
                          intermediate_size=FEED_FORWARD_RATIO * hidden,
                          num_attention_heads=max(1, hidden // HEAD_SIZE),
                          embedding_size=config.embedding_width)
