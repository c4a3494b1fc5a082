"""BERT pretraining step (MLM + NSP), seq 128, batch 16, 20 masked positions, AdamW.

- ours: `tfbert.BertPretrainer` with `compile(AdamW)` trained by its
  `train_step` (`model.fit`'s step), and the same model under
  `tfcore.training.Trainer` as run_pretraining.py runs it (clipping 1.0);
- keras-hub: `BertMaskedLM(BertBackbone(...), preprocessor=None)`, random
  init, its default loss and weighted accuracy, AdamW (MLM only: keras-hub
  has no NSP head; pooler + NSP are < 0.1% of the FLOPs);
- HF PyTorch: `BertForPreTraining` + `torch.optim.AdamW` (its MLM head runs
  on all 128 positions, not only the 20 masked ones: more work per token,
  counted as the same tokens).

Tokens/s = batch x seq per step. Model FLOPs per step: issue #8's formula
(`common.train_step_flops`) with the MLM head on the masked positions.
"""

from bench.speed import common, harness, training

SIZES = {
    # google-research/bert: BERT-Base and BERT-Mini (L=4, H=256) configurations.
    "base": dict(hidden=768, layers=12, heads=12, intermediate=3072),
    "mini": dict(hidden=256, layers=4, heads=4, intermediate=1024),
    "tiny": dict(hidden=64, layers=2, heads=2, intermediate=256),
}
VOCAB = 30522  # uncased BERT WordPiece vocabulary
SEQ, BATCH, PREDICTIONS = 128, 16, 20
DEFAULT_STEPS = {"base": 3, "mini": 20, "tiny": 20}


def bert_config(size):
    from tfbert import BertConfig
    s = SIZES[size]
    return BertConfig(vocab_size=VOCAB, hidden_size=s["hidden"], num_hidden_layers=s["layers"],
                      num_attention_heads=s["heads"], intermediate_size=s["intermediate"],
                      type_vocab_size=2)


def flops_per_token(size, batch=BATCH):
    s = SIZES[size]
    tokens = batch * SEQ
    return common.train_step_flops(s["layers"], s["hidden"], s["intermediate"], VOCAB, SEQ,
                                   tokens, batch * PREDICTIONS) / tokens


def _entries(args, size, features, steps, precision, xla):
    import keras_hub
    import tensorflow as tf
    from tfbert import BertPretrainer
    from tfbert.pretrainer import BertPretrainingTask
    from tfcore.optimization import create_optimizer
    config, s = bert_config(size), SIZES[size]
    tokens = BATCH * SEQ * steps
    label = training.setting_label(precision, xla)
    tensors = {k: tf.constant(v) for k, v in features.items()}
    entries = []
    if "fit" in args.ours_loops:
        entries.append(harness.Entry("ours", "ours BertPretrainer, fit step", label, training.fit_builder(
            lambda: BertPretrainer(config, dtype=precision), tensors, steps=steps, xla=xla,
            make_optimizer=lambda: create_optimizer("adamw", training.LEARNING_RATE)),
            work=tokens))
    if "trainer" in args.ours_loops:
        entries.append(harness.Entry("ours", "ours BertPretrainer, Trainer", label,
                                     training.trainer_builder(
                                         lambda: BertPretrainer(config, dtype=precision),
                                         BertPretrainingTask(), tensors, steps, xla),
                                     work=tokens))

    def keras_hub_model():
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=VOCAB, num_layers=s["layers"], num_heads=s["heads"],
            hidden_dim=s["hidden"], intermediate_dim=s["intermediate"],
            max_sequence_length=config.max_position_embeddings, num_segments=2, dtype=precision)
        return keras_hub.models.BertMaskedLM(backbone=backbone, preprocessor=None)

    x = {"token_ids": tensors["input_ids"], "segment_ids": tensors["segment_ids"],
         "padding_mask": tf.cast(tensors["input_mask"], tf.bool),
         "mask_positions": tensors["masked_lm_positions"]}
    entries.append(harness.Entry("keras-hub", "keras-hub BertMaskedLM", label, training.fit_builder(
        keras_hub_model, x, tensors["masked_lm_ids"], tensors["masked_lm_weights"],
        steps=steps, xla=xla), work=tokens))
    return entries


def run_size(args, report, ceilings, size):
    from bench.speed import data
    steps = args.steps or DEFAULT_STEPS[size]
    features = data.bert_pretraining_batch(BATCH, SEQ, PREDICTIONS, VOCAB)
    torch_spec = {"model": dict(SIZES[size], vocab=VOCAB), "batch": BATCH, "seq": SEQ,
                  "predictions": PREDICTIONS}
    training.compare_and_report(
        args, report, ceilings,
        lambda precision, xla: _entries(args, size, features, steps, precision, xla),
        ("bert_train", torch_spec), f"bert_train:{size}", f"BERT-{size} pretraining step",
        f"seq {SEQ}, batch {BATCH}, {PREDICTIONS} masked positions, AdamW lr 1e-4",
        flops_per_token(size), BATCH * SEQ, steps,
        notes=["", "keras-hub `BertMaskedLM` has no NSP head; HF `BertForPreTraining` runs its "
               "MLM head on all positions (counted as the same tokens and FLOPs)."])


def run(args, report, ceilings):
    for size in args.size:
        run_size(args, report, ceilings, size)
