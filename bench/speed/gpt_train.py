"""GPT training step, GPT-2-small size, seq 256 (batch `--gpt_batch`, default 8), AdamW.

- ours: `tfgpt.GPTLanguageModel` compiled with AdamW and trained by its
  `train_step` (inputs `token_ids[:, :-1]`, targets `token_ids[:, 1:]`,
  accuracy metric), and under `tfcore.training.Trainer` with `LMTask` on GPT
  records `{"token_ids": [b, 257]}` as `run_pretraining.py --model=gpt` runs it;
- keras-hub: `GPT2CausalLM(GPT2Backbone(...), preprocessor=None)`, random
  init, its default loss and weighted accuracy, AdamW, padding mask all ones;
- HF PyTorch: `GPT2LMHeadModel(labels=input_ids)` + `torch.optim.AdamW`.

Tokens/s = batch x 256 per step; FLOPs: issue #8's formula with the LM head
(hidden x vocab, tied, no transform) on every token.
"""

from bench.speed import common, harness, training

SIZES = {
    "small": dict(hidden=768, layers=12, heads=12, vocab=50257),   # GPT-2 small (124M)
    "tiny": dict(hidden=128, layers=2, heads=2, vocab=4096),        # smoke runs only
}
SEQ = 256
MAX_POSITIONS = 1024
DEFAULT_STEPS = {"small": 2, "tiny": 10}


def gpt_config(size, dropout=0.1):
    from tfgpt import GPTConfig
    s = SIZES[size]
    return GPTConfig(vocab_size=s["vocab"], hidden_size=s["hidden"],
                     num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                     max_position_embeddings=MAX_POSITIONS, hidden_dropout_prob=dropout,
                     attention_probs_dropout_prob=dropout, embedding_dropout_prob=dropout)


def flops_per_token(size):
    s = SIZES[size]
    return common.train_step_flops(s["layers"], s["hidden"], 4 * s["hidden"], s["vocab"], SEQ,
                                   1, 1, head_transform=False)


def keras_hub_lm(size, dtype, dropout=0.1):
    import keras_hub
    s = SIZES[size]
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=s["vocab"], num_layers=s["layers"], num_heads=s["heads"],
        hidden_dim=s["hidden"], intermediate_dim=4 * s["hidden"], dropout=dropout,
        max_sequence_length=MAX_POSITIONS, dtype=dtype)
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)


def _entries(args, size, ids, steps, precision, xla):
    import tensorflow as tf
    from tfcore.optimization import create_optimizer
    from tfgpt import GPTLanguageModel, LMTask
    config = gpt_config(size)
    tokens = args.gpt_batch * SEQ * steps
    label = training.setting_label(precision, xla)
    record = tf.constant(ids)                        # [b, seq + 1]
    x, y = record[:, :-1], record[:, 1:]
    entries = []
    if "fit" in args.ours_loops:
        entries.append(harness.Entry("ours", "ours GPTLanguageModel, fit step", label,
                                     training.fit_builder(
                                         lambda: GPTLanguageModel(config, dtype=precision),
                                         {"token_ids": x}, y, steps=steps, xla=xla,
                                         make_optimizer=lambda: create_optimizer(
                                             "adamw", training.LEARNING_RATE)),
                                     work=tokens))
    if "trainer" in args.ours_loops:
        entries.append(harness.Entry("ours", "ours GPTLanguageModel, Trainer", label,
                                     training.trainer_builder(
                                         lambda: GPTLanguageModel(config, dtype=precision),
                                         LMTask(), {"token_ids": record}, steps, xla),
                                     work=tokens))
    ones = tf.ones_like(x, dtype=tf.bool)
    entries.append(harness.Entry("keras-hub", "keras-hub GPT2CausalLM", label, training.fit_builder(
        lambda: keras_hub_lm(size, precision), {"token_ids": x, "padding_mask": ones}, y,
        tf.ones_like(y, dtype=tf.float32), steps=steps, xla=xla), work=tokens))
    return entries


def run(args, report, ceilings):
    from bench.speed import data
    size, batch = args.gpt_size, args.gpt_batch
    steps = args.steps or DEFAULT_STEPS[size]
    s = SIZES[size]
    ids = data.token_ids(batch, SEQ + 1, s["vocab"])
    torch_spec = {"model": dict(s, intermediate=4 * s["hidden"], max_positions=MAX_POSITIONS),
                  "batch": batch, "seq": SEQ}
    training.compare_and_report(
        args, report, ceilings,
        lambda precision, xla: _entries(args, size, ids, steps, precision, xla),
        ("gpt_train", torch_spec), f"gpt_train:{size}", f"GPT-2-{size} training step",
        f"seq {SEQ}, batch {batch}, vocab {s['vocab']}, dropout 0.1, AdamW lr 1e-4",
        flops_per_token(size), batch * SEQ, steps)
