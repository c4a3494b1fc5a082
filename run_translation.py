r"""Train a Transformer translation model from parallel text; BLEU/chrF; a raw-text SavedModel.

    python run_translation.py \
        --train_source=multi30k/train.de.gz --train_target=multi30k/train.en.gz \
        --eval_source=multi30k/val.de --eval_target=multi30k/val.en \
        --test_source=multi30k/test_2016_flickr.de --test_target=multi30k/test_2016_flickr.en \
        --output_dir=out --dtype=bfloat16 --max_train_seconds=1500

Parallel text is two files with one sentence per line (.gz accepted) or one
TSV (`source<TAB>target`). A joint SentencePiece vocabulary (`--vocab_size`,
unigram) is trained on the training text (or `--spm_model_file`), the pairs
are written as TFRecord shards (`source_ids`, `target_ids`), and an
encoder-decoder (`--hidden_size`, `--num_encoder_layers`, ..., positions
`--position_embedding=sinusoidal|learned|relative|shaw`) is trained with
label smoothing, Adam and the inverse-square-root schedule on token-budget
batches (`--max_tokens`, length-bucketed), under `--strategy` and `--dtype`.
Training stops at `--num_train_steps` or after `--max_train_seconds`; the
same command resumes from the last checkpoint. Evaluation translates with
beam search (`--num_beams`, `--length_penalty`) and prints sacreBLEU (cased,
detokenized, with its signature) and chrF. The flags become a
`tftasks.translation.TranslationConfig` (same names) and
`tftasks.translation.run(config)` does the work.

Under --output_dir: spm.model, data/, seq2seq_config.json, checkpoints,
train/ (TensorBoard), eval_translations.txt, test_translations.txt,
metrics.json, flags.txt and saved_model/ (`serving_default(text) -> translation`).
"""

from absl import flags

from tfcore.cli import config_from_flags, define_tpu_flags, define_training_flags

FLAGS = flags.FLAGS
flags.DEFINE_string("train_source", None, "Training sources: one sentence per line, or a TSV.")
flags.DEFINE_string("train_target", None, "Training targets, line i translating source line i.")
flags.DEFINE_string("eval_source", None, "Evaluation sources (BLEU after training).")
flags.DEFINE_string("eval_target", None, "Evaluation references.")
flags.DEFINE_string("test_source", None, "Test sources (BLEU, test_translations.txt).")
flags.DEFINE_string("test_target", None, "Test references.")
flags.DEFINE_integer("max_train_rows", None, "Read at most this many training pairs.")
flags.DEFINE_string("output_dir", None, "Vocabulary, records, checkpoints, results, saved_model/.")
flags.DEFINE_string("spm_model_file", None, "An existing SentencePiece model (default: train one).")
flags.DEFINE_integer("vocab_size", 8000, "Pieces of the joint SentencePiece vocabulary.")
flags.DEFINE_enum("spm_model_type", "unigram", ["unigram", "bpe"], "SentencePiece algorithm.")
flags.DEFINE_integer("max_source_length", 128, "Longest source in ids (longer pairs dropped).")
flags.DEFINE_integer("max_target_length", 128, "Longest target in ids (longer pairs dropped).")
flags.DEFINE_string("model_config_file", None, "A Seq2SeqConfig JSON instead of the size flags.")
flags.DEFINE_integer("hidden_size", 256, "Model width.")
flags.DEFINE_integer("num_encoder_layers", 3, "Encoder blocks.")
flags.DEFINE_integer("num_decoder_layers", 3, "Decoder blocks.")
flags.DEFINE_integer("num_attention_heads", 4, "Attention heads.")
flags.DEFINE_integer("intermediate_size", 1024, "Feed-forward width.")
flags.DEFINE_string("hidden_act", "relu", "Feed-forward activation.")
flags.DEFINE_float("dropout", 0.1, "Dropout on embeddings and residual branches.")
flags.DEFINE_float("attention_dropout", 0.1, "Dropout on attention probabilities.")
flags.DEFINE_string("position_embedding", "sinusoidal",
                    "sinusoidal, learned, relative (T5 buckets) or shaw (clipped relative keys).")
flags.DEFINE_string("sinusoidal_layout", "concatenated", "concatenated [sin | cos] or interleaved.")
flags.DEFINE_bool("norm_first", False, "Pre-LN blocks (default: post-LN, as the paper).")
flags.DEFINE_bool("do_train", True, "Train.")
flags.DEFINE_bool("do_eval", True, "Translate and score --eval_source.")
flags.DEFINE_bool("do_predict", True, "Translate and score --test_source.")
flags.DEFINE_bool("do_export", True, "Write saved_model/.")
flags.DEFINE_integer("max_tokens", 4096, "Tokens per global batch (batch size x longest side).")
flags.DEFINE_integer("num_train_steps", 4000, "Training steps.")
flags.DEFINE_float("max_train_seconds", None, "Stop training after this many seconds.")
flags.DEFINE_float("learning_rate", 1e-3, "Peak learning rate (after warmup).")
flags.DEFINE_integer("num_warmup_steps", 800, "Linear warmup, then inverse square root decay.")
flags.DEFINE_float("label_smoothing", 0.1, "Label smoothing of the token cross-entropy.")
flags.DEFINE_integer("save_checkpoints_steps", 500, "Steps between checkpoints.")
flags.DEFINE_integer("shuffle_buffer", 30000, "Pairs shuffled before bucketing.")
flags.DEFINE_integer("num_beams", 4, "Beam size (1: greedy).")
flags.DEFINE_float("length_penalty", 1.0, "Beam score / length ** length_penalty.")
flags.DEFINE_integer("max_decode_length", 128, "Most new tokens per translation.")
flags.DEFINE_integer("decode_batch_size", 64, "Sentences per decoding batch.")
define_tpu_flags()
define_training_flags(defaults={"clip_norm": 0.0, "weight_decay": 0.0})


def main(_):
    from tftasks.common.program import exit_on_failure, print_summary, run_task
    from tftasks.translation.config import TranslationConfig
    from tftasks.translation.runner import run

    config = config_from_flags(TranslationConfig)
    results = exit_on_failure("run_translation.py",
                              lambda: run_task("run_translation.py", run, config))
    print_summary(results, (), ("train", "eval", "test"))


if __name__ == "__main__":
    from tfcore.cli import run_main
    run_main(main)
