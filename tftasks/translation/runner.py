"""One translation run: vocabulary, records, training, BLEU/chrF, SavedModel.

`run(config)` is what `run_translation.py` calls; Python users call it the
same way. Under `config.output_dir`:

- `spm.model` (a joint SentencePiece vocabulary trained on the training
  text, unless `spm_model_file` is given) and `data/train-*.tfrecord`;
  both are reused when the command is run again;
- `seq2seq_config.json`, checkpoints `ckpt-N` (a rerun resumes, as
  run_pretraining does), TensorBoard events under `train/`;
- `eval_translations.txt` / `test_translations.txt` (beam search,
  detokenized) and their sacreBLEU / chrF in `metrics.json`, with the
  signatures;
- `saved_model/`: `serving_default(text) -> translation`.

Example:

    results = run(TranslationConfig(train_source="train.de", train_target="train.en",
                                    test_source="test.de", test_target="test.en",
                                    output_dir="out", num_train_steps=2000))
    results["test"]["bleu"]
"""

import json
import os
import sys
import time

from absl import logging

from tfcore.io import write_json_atomically, write_text_atomically

SPM_FILE = "spm.model"
CONFIG_FILE = "seq2seq_config.json"
RECORDS = "data"


def _vocabulary(config, pairs):
    """The SentencePiece model file: given, already trained here, or trained now."""
    from tftasks.translation.vocab import train_sentencepiece
    if config.spm_model_file:
        return config.spm_model_file
    path = os.path.join(config.output_dir, SPM_FILE)
    if not os.path.exists(path):
        texts = [text for pair in pairs for text in pair]
        train_sentencepiece(texts, path, vocab_size=config.vocab_size,
                            model_type=config.spm_model_type, seed=config.seed)
    return path


def _records(config, pairs, tokenizer):
    """Training shards (written once; reused by a rerun)."""
    from tftasks.translation.records import format_summary, write_records
    folder = os.path.join(config.output_dir, RECORDS)
    pattern = os.path.join(folder, "train-*.tfrecord")
    summary_path = os.path.join(folder, "summary.json")
    if not os.path.exists(summary_path):
        summary = write_records(pairs, folder, tokenizer.encode, prefix="train", num_shards=4,
                                max_source_length=config.max_source_length,
                                max_target_length=config.max_target_length)
        print(format_summary(summary), flush=True)
        write_json_atomically(summary_path, summary)
    return pattern


def model_config(config, vocab_size):
    """The Seq2SeqConfig of a run: `model_config_file`, or built from the flags."""
    from tfseq2seq.config import Seq2SeqConfig
    if config.model_config_file:
        return Seq2SeqConfig.from_json_file(config.model_config_file)
    return Seq2SeqConfig(
        vocab_size=vocab_size, hidden_size=config.hidden_size,
        num_hidden_layers=config.num_encoder_layers,
        num_decoder_layers=config.num_decoder_layers,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size, hidden_act=config.hidden_act,
        hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.attention_dropout,
        max_position_embeddings=max(config.max_source_length, config.max_target_length,
                                    config.max_decode_length) + 1,
        position_embedding=config.position_embedding,
        sinusoidal_layout=config.sinusoidal_layout, norm_first=config.norm_first,
        # Vaswani et al.: embeddings ~ N(0, d^-1/2) times sqrt(d), unit variance.
        initializer_range=config.hidden_size ** -0.5, pad_token_id=0, eos_token_id=1)


def _train(config, model, strategy, pattern):
    import keras

    from tfcore import reporting, training
    from tfcore.optimization import WarmupDecaySchedule
    from tfseq2seq.task import TranslationTask
    from tftasks.translation.batching import token_batches
    from tftasks.translation.records import read_pairs

    with strategy.scope():
        schedule = WarmupDecaySchedule(config.learning_rate, config.num_train_steps,
                                       config.num_warmup_steps, decay_type="inverse_sqrt")
        optimizer = keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)
    trainer = training.Trainer(model, optimizer, TranslationTask(model.config.pad_token_id),
                               strategy, clip_norm=config.clip_norm or None,
                               steps_per_execution=config.steps_per_execution,
                               jit_compile=config.jit_compile)
    replicas = strategy.num_replicas_in_sync
    longest = max(config.max_source_length, config.max_target_length)

    def dataset_fn(context):
        pairs = read_pairs(pattern, is_training=True, input_context=context, seed=config.seed)
        return token_batches(pairs, max_tokens=config.max_tokens // replicas,
                             max_length=longest, shuffle_buffer=config.shuffle_buffer,
                             seed=config.seed)

    reporter = reporting.TrainingReporter(config.num_train_steps,
                                          os.path.join(config.output_dir, "train"),
                                          tokens_per_step=config.max_tokens,
                                          learning_rate=schedule)
    started = time.time()
    metrics = trainer.fit(dataset_fn, config.num_train_steps, config.output_dir,
                          config.save_checkpoints_steps, config.keep_checkpoint_max,
                          on_execution=reporter, max_seconds=config.max_train_seconds)
    reporter.close()
    return {"global_step": int(trainer.step), "train_seconds": time.time() - started,
            **{k: float(v) for k, v in metrics.items()}}, trainer


def _restore(model, output_dir):
    """Loads the latest checkpoint of `output_dir` into `model` (for eval/predict only)."""
    import tensorflow as tf
    latest = tf.train.latest_checkpoint(output_dir)
    if latest is None:
        raise FileNotFoundError(f"No checkpoint in {output_dir}: train first (--do_train).")
    tf.train.Checkpoint(model=model).restore(latest).expect_partial()
    return latest


def translate_lines(model, source_tokenizer, target_tokenizer, lines, config):
    """Beam-search translations of `lines` (batches sorted by length), in the input order."""
    import tensorflow as tf
    encoded = [source_tokenizer.encode(line)[:config.max_source_length] for line in lines]
    for ids in encoded:
        if ids and ids[-1] != source_tokenizer.eos_id:
            ids[-1] = source_tokenizer.eos_id
    order = sorted(range(len(lines)), key=lambda i: len(encoded[i]))
    results = [None] * len(lines)
    done = 0
    for start in range(0, len(order), config.decode_batch_size):
        rows = order[start:start + config.decode_batch_size]
        ids = tf.ragged.constant([encoded[i] for i in rows], dtype=tf.int32)
        tokens = model.generate(ids, max_new_tokens=config.max_decode_length,
                                num_beams=config.num_beams,
                                length_penalty=config.length_penalty,
                                jit_compile=False).numpy()  # one shape per batch: no XLA
        for row, token_ids in zip(rows, tokens):
            results[row] = target_tokenizer.decode([int(t) for t in token_ids])
        done += len(rows)
        print(f"\rtranslated {done}/{len(lines)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def _score(config, model, tokenizer, side):
    from tftasks.translation.corpus import read_parallel, split_pairs
    from tftasks.translation.scoring import corpus_scores, format_scores
    sources, references = split_pairs(read_parallel(getattr(config, f"{side}_source"),
                                                    getattr(config, f"{side}_target")))
    started = time.time()
    hypotheses = translate_lines(model, tokenizer, tokenizer, sources, config)
    seconds = time.time() - started
    path = os.path.join(config.output_dir, f"{side}_translations.txt")
    write_text_atomically(path, "".join(h + "\n" for h in hypotheses))
    scores = corpus_scores(hypotheses, references)
    scores["decode_seconds"] = seconds
    scores["sentences_per_second"] = len(sources) / max(seconds, 1e-9)
    print(f"{side}: {format_scores(scores)}", flush=True)
    return scores, path


def run(config, record=None):
    """Runs what `config` (a TranslationConfig) asks; returns the results dict (metrics.json)."""
    config.validate()
    from tfcore import distribute, experiment
    from tfseq2seq.config import Seq2SeqConfig
    from tfseq2seq.model import Seq2SeqModel
    from tfseq2seq.tokenization import SentencePieceTokenizer
    from tftasks.translation.corpus import read_parallel

    started = time.time()
    experiment.configure_runtime(config.dtype, config.deterministic, config.seed)
    strategy = distribute.get_strategy("tpu" if config.use_tpu else config.strategy,
                                       config.tpu_name)
    os.makedirs(config.output_dir, exist_ok=True)
    if record is not None:
        record(config.output_dir)
    files, results = {}, {}
    pairs = None
    if config.do_train:
        pairs = read_parallel(config.train_source, config.train_target, config.max_train_rows)
    spm_path = _vocabulary(config, pairs or [])
    if not os.path.exists(spm_path):
        raise FileNotFoundError(f"No SentencePiece model at {spm_path}: train first "
                                "(--do_train) or pass --spm_model_file.")
    tokenizer = SentencePieceTokenizer(spm_path)
    files["spm_model"] = spm_path
    config_path = os.path.join(config.output_dir, CONFIG_FILE)
    seq2seq_config = (model_config(config, tokenizer.vocab_size)
                      if not os.path.exists(config_path) or config.model_config_file
                      else Seq2SeqConfig.from_json_file(config_path))
    seq2seq_config.to_json_file(config_path)
    files["model_config"] = config_path
    with strategy.scope():
        model = Seq2SeqModel(seq2seq_config, label_smoothing=config.label_smoothing)
    if config.do_train:
        pattern = _records(config, pairs, tokenizer)
        results["train"], _ = _train(config, model, strategy, pattern)
        files["checkpoints"] = config.output_dir
    else:
        _restore(model, config.output_dir)
    for side, wanted in (("eval", config.do_eval), ("test", config.do_predict)):
        if wanted and getattr(config, f"{side}_source"):
            results[side], files[f"{side}_translations"] = _score(config, model, tokenizer, side)
    if config.do_export:
        from tfseq2seq.export import TranslationExport
        export = TranslationExport(model, tokenizer, num_beams=config.num_beams,
                                   length_penalty=config.length_penalty,
                                   max_new_tokens=config.max_decode_length,
                                   max_source_length=config.max_source_length)
        files["saved_model"] = export.save(os.path.join(config.output_dir, "saved_model"))
    results["seconds"] = time.time() - started
    results["files"] = files
    metrics_path = os.path.join(config.output_dir, "metrics.json")
    write_json_atomically(metrics_path, results)
    files["metrics"] = metrics_path
    logging.info("metrics: %s", json.dumps({k: v for k, v in results.items() if k != "files"}))
    return results
