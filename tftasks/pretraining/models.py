"""What differs between pretraining BERT and GPT, as one small strategy object per model.

`run` asks the model's recipe (`RECIPES[config.model]`) for its config,
model, loss, input pipelines, optimizer defaults, extra evaluation figures,
pretrained folder and export; everything else is shared.

Example:

    recipe = RECIPES["gpt"]
    model = recipe.build_model(recipe.model_config(config, vocab_size=65,
                                                   preset=embedded_preset("gpt")))
"""

import os

from tftasks.pretraining import baseline, data


class BertRecipe:
    """BERT: MLM + NSP on Google's records; Google's pretrained-folder layout."""

    name = "bert"
    # Where a flag is not given: Google's AdamWeightDecayOptimizer.
    adam_defaults = dict(bias_correction=False, epsilon=1e-6)
    pretrained_hint = "--init_checkpoint"
    signatures = "serving_default: raw text; encode: token ids"

    def model_config(self, config, vocab_size, preset):
        """`BertConfig`: --config_file/--bert_config_file, else --init_checkpoint's, else
        the preset's."""
        from tfbert import BertConfig
        from tfbert.checkpoints import read_checkpoint
        path = config.config_file or config.bert_config_file
        if path:
            return BertConfig.from_json_file(path)
        if config.init_checkpoint:
            return BertConfig.from_json_file(read_checkpoint(config.init_checkpoint)[2])
        return BertConfig(vocab_size=vocab_size, **preset.model_config)

    def build_model(self, model_config):
        from tfbert import BertPretrainer
        return BertPretrainer(model_config)

    def task(self):
        from tfbert.pretrainer import BertPretrainingTask
        return BertPretrainingTask()

    def datasets(self, config):
        return data.bert_datasets(config)

    def eval_extras(self, train_fn, eval_fn, config):
        """The most-frequent-token baseline beside the masked-LM accuracy."""
        accuracy, token = baseline.masked_lm_baseline(
            train_fn, eval_fn, config.max_eval_steps, config.train_batch_size)
        return {"masked_lm_accuracy_baseline": accuracy,
                "most_frequent_masked_token_id": token}

    def tokenizer_files(self, model, merges_file):
        """`(vocab file, merges file)` of the --init_checkpoint folder just loaded."""
        return model.vocab_file, merges_file

    def save_pretrained(self, model, output_dir, vocab_file, merges_file):
        """Google's bert_config.json, bert_model.ckpt.* and vocab.txt (beside ckpt-N)."""
        del merges_file
        model.save_pretrained(output_dir, vocab_file=vocab_file)

    def export(self, model, export_dir, vocab_file, merges_file, config):
        """The encoder SavedModel (raw-text serving_default); returns its folder."""
        from tfbert import BertTokenizer
        from tfbert.export_encoder import EncoderExport
        del merges_file
        tokenizer = BertTokenizer(vocab_file, do_lower_case=config.do_lower_case)
        length = min(config.max_seq_length, model.config.max_position_embeddings)
        return EncoderExport(model.bert, tokenizer, max_seq_length=length).save(export_dir)


class GPTRecipe:
    """GPT: next token on `token_ids` records; Hugging Face's pretrained-folder layout."""

    name = "gpt"
    # Where a flag is not given: PyTorch's AdamW (nanoGPT's recipe).
    adam_defaults = dict(bias_correction=True, epsilon=1e-8)
    pretrained_hint = "tfgpt.generate --checkpoint_dir"
    signatures = "serving_default: prompt -> generated text; logits: token ids"

    def model_config(self, config, vocab_size, preset):
        """`GPTConfig`: --config_file, else --init_checkpoint's config.json, else the preset's."""
        from tfgpt import GPTConfig
        if config.config_file:
            return GPTConfig.from_json_file(config.config_file)
        if config.init_checkpoint:
            return GPTConfig.from_json_file(os.path.join(config.init_checkpoint, "config.json"))
        return GPTConfig(vocab_size=vocab_size, **preset.model_config)

    def build_model(self, model_config):
        from tfgpt import GPTLanguageModel
        return GPTLanguageModel(model_config)

    def task(self):
        from tfgpt import LMTask
        return LMTask()

    def datasets(self, config):
        return data.gpt_datasets(config)

    def eval_extras(self, train_fn, eval_fn, config):
        return {}

    def tokenizer_files(self, model, merges_file):
        """`(vocab.json, merges.txt)` of the --init_checkpoint folder (--merges_file first)."""
        found = {os.path.basename(path): path for path in model.tokenizer_files}
        return found.get("vocab.json"), merges_file or found.get("merges.txt")

    def save_pretrained(self, model, output_dir, vocab_file, merges_file):
        """Hugging Face's config.json, model.safetensors, vocab.json (+ merges.txt)."""
        files = {}
        if vocab_file:
            files["vocab.json"] = vocab_file
            if merges_file:
                files["merges.txt"] = merges_file
        model.save_pretrained(output_dir, tokenizer_files=files)

    def export(self, model, export_dir, vocab_file, merges_file, config):
        """The generator SavedModel (prompt -> text); returns its folder."""
        from tfgpt.export import GeneratorExport
        from tfgpt.tokenization import BytePairTokenizer, CharTokenizer
        del config
        tokenizer = (BytePairTokenizer(vocab_file, merges_file) if merges_file
                     else CharTokenizer(vocab_file))
        return GeneratorExport(model, tokenizer).save(export_dir)


RECIPES = {"bert": BertRecipe(), "gpt": GPTRecipe()}


def adam_kwargs(config, recipe):
    """Bias correction (AdamW only) and epsilon: the config's, else the model's defaults."""
    kwargs = dict(recipe.adam_defaults)
    if config.adam_bias_correction is not None:
        kwargs["bias_correction"] = config.adam_bias_correction
    if config.adam_epsilon is not None:
        kwargs["epsilon"] = config.adam_epsilon
    if config.optimizer != "adamw":
        del kwargs["bias_correction"]
    return kwargs
