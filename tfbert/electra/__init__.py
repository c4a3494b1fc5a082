"""ELECTRA (Clark et al., 2020): replaced-token detection on BERT encoders.

- `ElectraDiscriminator`: a BertModel + `ReplacedTokenDetection` -> logits `[b, s]`;
  `export_bert_encoder(folder)` writes it as a Google BERT folder.
- `ElectraGenerator`: a small BertModel + masked-LM head -> vocabulary logits.
- `ElectraPretrainer`: both on shared embeddings; samples replacements from
  the generator and trains on MLM + 50 x replaced-token loss with `fit()`.
- `generator_config(config, hidden_fraction)`: Google's generator sizing.

Weights: Hugging Face `ElectraForPreTraining` / `ElectraForMaskedLM` folders
and Google's ELECTRA TF1 checkpoints (`tfbert.electra.checkpoints`).

Example:

    from tfbert.electra import ElectraDiscriminator
    disc = ElectraDiscriminator.from_pretrained("electra-small-discriminator")
    logits = disc({"input_ids": ids, "input_mask": mask, "segment_ids": segments})
"""

from tfbert.electra.config import generator_config
from tfbert.electra.heads import ReplacedTokenDetection
from tfbert.electra.models import ElectraDiscriminator, ElectraGenerator
from tfbert.electra.pretrainer import ElectraPretrainer, ElectraPretrainingTask

__all__ = ["ElectraDiscriminator", "ElectraGenerator", "ElectraPretrainer",
           "ElectraPretrainingTask", "ReplacedTokenDetection", "generator_config"]
