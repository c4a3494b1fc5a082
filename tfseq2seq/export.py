"""The translation SavedModel: raw text in, translations out (tokenizers and beam search in the graph).

`serving_default(text: string [b]) -> {"translation": string [b],
"token_ids": int32 [b, L], "score": float32 [b]}`. Sources longer than
`max_source_length` ids are cut there (the end token kept); invalid UTF-8
is replaced (U+FFFD) by the tokenizer, an empty string translates its end
token alone. The decode loop is `tfseq2seq.generation`'s, traced once for
any batch and length; only tensorflow and tensorflow_text are needed to
load it (`tf.saved_model.load`, TF Serving, `saved_model_cli`).

Example:

    TranslationExport(model, source_tokenizer, target_tokenizer, num_beams=4).save("out/saved_model")
    translate = tf.saved_model.load("out/saved_model").signatures["serving_default"]
    translate(text=tf.constant(["Ein Hund rennt."]))["translation"]
"""

import tensorflow as tf

from tfcore.export import ServingModule, save_atomically, text_spec
from tfseq2seq.generation import beam_search_loop, sample_loop
from tfcore.samplers import get_sampler


class TranslationExport(ServingModule):
    """A Seq2SeqModel with its source and target tokenizers (see module doc)."""

    def __init__(self, model, source_tokenizer, target_tokenizer=None, num_beams=4,
                 length_penalty=1.0, max_new_tokens=128, max_source_length=256,
                 force_eos_at_max_length=False):
        super().__init__()
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer or source_tokenizer
        self.num_beams, self.length_penalty = int(num_beams), float(length_penalty)
        self.max_new_tokens = int(max_new_tokens)
        self.max_source_length = int(min(max_source_length, _source_limit(model.config)))
        self.force_eos = bool(force_eos_at_max_length)

    def _decode(self, ids):
        c = self.model.config
        suppress = tf.constant([c.pad_token_id], tf.int32)
        if self.num_beams > 1:
            tokens, _, scores = beam_search_loop(
                self.model, ids, self.max_new_tokens, self.num_beams, self.length_penalty,
                False, suppress, self.force_eos)
            return tokens, scores
        tokens, _ = sample_loop(self.model, ids, self.max_new_tokens, get_sampler("greedy"),
                                1.0, 0, suppress, self.force_eos)
        return tokens, tf.zeros([tf.shape(ids)[0]], tf.float32)

    @tf.function(input_signature=[text_spec("text")])
    def serve(self, text):
        ids = self.source_tokenizer.tokenize(text)
        # Keep the first max_source_length - 1 ids and the end token.
        keep = self.max_source_length - 1
        body = ids[:, :-1][:, :keep]
        ids = tf.concat([body, ids[:, -1:]], axis=1)
        dense = ids.to_tensor(default_value=self.model.config.pad_token_id)
        tokens, scores = self._decode(dense)
        return {"translation": self.target_tokenizer.detokenize(tokens), "token_ids": tokens,
                "score": scores}

    def save(self, export_dir):
        """Writes the SavedModel atomically; returns its path."""
        return save_atomically(self, export_dir, signatures={"serving_default": self.serve})


def _source_limit(config):
    """The longest source the model's positions allow (relative positions: unlimited)."""
    if config.position_embedding in ("learned", "sinusoidal"):
        return config.max_position_embeddings
    return 1 << 20
