"""The suite's references and tiny configs: one home for both.

- Tiny configs: `tiny_bert_config(**overrides)` and `tiny_gpt_config(**overrides)`
  (hidden 32, 2 layers, dropout off, large initial weights so that
  differences show). Tests pass overrides rather than defining their own.
- NumPy references written from the published architectures, sharing no code
  with the package: `layer_norm`, `gelu` (exact erf) and `gelu_tanh`; a BERT
  forward pass over Google-named weights (Google's modeling.py semantics:
  post-LN blocks, exact gelu, -10000 attention-mask adder, tanh pooler, MLM
  transform + tied decoder + output bias, NSP `output_weights [2, hidden]`),
  used to check checkpoint loading. The NumPy GPT-2 lives in
  tests/tfgpt/gpt_testing.py on top of these.
"""

from math import erf

import numpy as np

_erf = np.vectorize(erf)

# Shared by the BERT tests (large initial weights: differences show).
TINY_BERT = dict(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=24, type_vocab_size=2,
                 hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                 initializer_range=0.2)
# Shared by the GPT tests (large initial weights: peaked logits, visible differences).
TINY_GPT = dict(vocab_size=61, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                max_position_embeddings=48, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0, embedding_dropout_prob=0.0,
                initializer_range=0.3)


def tiny_bert_config(**overrides):
    """`BertConfig(**TINY_BERT)` with `overrides` applied."""
    from tfbert import BertConfig
    return BertConfig(**{**TINY_BERT, **overrides})


def tiny_gpt_config(**overrides):
    """`GPTConfig(**TINY_GPT)` with `overrides` applied."""
    from tfgpt import GPTConfig
    return GPTConfig(**{**TINY_GPT, **overrides})


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, gamma, beta, eps=1e-12):
    """Layer norm over the last axis: `[..., h] -> [..., h]`."""
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def random_google_weights(config, rng, heads=True):
    """Random arrays under Google's TF1 variable names for a small config dict."""
    h, i, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    w = lambda *shape: rng.normal(0, 0.2, shape).astype(np.float32)
    g = lambda n: (1 + rng.normal(0, 0.1, n)).astype(np.float32)
    arrays = {"bert/embeddings/word_embeddings": w(v, h),
              "bert/embeddings/position_embeddings": w(config["max_position_embeddings"], h),
              "bert/embeddings/token_type_embeddings": w(config["type_vocab_size"], h),
              "bert/embeddings/LayerNorm/gamma": g(h), "bert/embeddings/LayerNorm/beta": w(h),
              "bert/pooler/dense/kernel": w(h, h), "bert/pooler/dense/bias": w(h)}
    for n in range(config["num_hidden_layers"]):
        p = f"bert/encoder/layer_{n}"
        for name in ("query", "key", "value"):
            arrays[f"{p}/attention/self/{name}/kernel"] = w(h, h)
            arrays[f"{p}/attention/self/{name}/bias"] = w(h)
        arrays.update({f"{p}/attention/output/dense/kernel": w(h, h),
                       f"{p}/attention/output/dense/bias": w(h),
                       f"{p}/attention/output/LayerNorm/gamma": g(h),
                       f"{p}/attention/output/LayerNorm/beta": w(h),
                       f"{p}/intermediate/dense/kernel": w(h, i),
                       f"{p}/intermediate/dense/bias": w(i),
                       f"{p}/output/dense/kernel": w(i, h), f"{p}/output/dense/bias": w(h),
                       f"{p}/output/LayerNorm/gamma": g(h), f"{p}/output/LayerNorm/beta": w(h)})
    if heads:
        arrays.update({"cls/predictions/transform/dense/kernel": w(h, h),
                       "cls/predictions/transform/dense/bias": w(h),
                       "cls/predictions/transform/LayerNorm/gamma": g(h),
                       "cls/predictions/transform/LayerNorm/beta": w(h),
                       "cls/predictions/output_bias": w(v),
                       "cls/seq_relationship/output_weights": w(2, h),
                       "cls/seq_relationship/output_bias": w(2)})
    return arrays


def bert_forward(arrays, config, input_ids, segment_ids, input_mask, positions=None):
    """Returns dict: sequence_output, pooled_output (+ MLM/NSP logits if positions given)."""
    a = {k: v.astype(np.float64) for k, v in arrays.items()}
    heads, seq = config["num_attention_heads"], input_ids.shape[1]
    x = (a["bert/embeddings/word_embeddings"][input_ids]
         + a["bert/embeddings/position_embeddings"][:seq]
         + a["bert/embeddings/token_type_embeddings"][segment_ids])
    x = layer_norm(x, a["bert/embeddings/LayerNorm/gamma"], a["bert/embeddings/LayerNorm/beta"])
    adder = (1.0 - input_mask[:, None, None, :]) * -10000.0
    b, _, h = x.shape
    d = h // heads
    for n in range(config["num_hidden_layers"]):
        p = f"bert/encoder/layer_{n}"
        proj = lambda t, name: (t @ a[f"{p}/attention/self/{name}/kernel"]
                                + a[f"{p}/attention/self/{name}/bias"]
                                ).reshape(b, seq, heads, d).transpose(0, 2, 1, 3)
        q, k, v = proj(x, "query"), proj(x, "key"), proj(x, "value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + adder
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, seq, h)
        attn = ctx @ a[f"{p}/attention/output/dense/kernel"] + a[f"{p}/attention/output/dense/bias"]
        x = layer_norm(x + attn, a[f"{p}/attention/output/LayerNorm/gamma"],
                       a[f"{p}/attention/output/LayerNorm/beta"])
        inner = gelu(x @ a[f"{p}/intermediate/dense/kernel"] + a[f"{p}/intermediate/dense/bias"])
        out = inner @ a[f"{p}/output/dense/kernel"] + a[f"{p}/output/dense/bias"]
        x = layer_norm(x + out, a[f"{p}/output/LayerNorm/gamma"], a[f"{p}/output/LayerNorm/beta"])
    pooled = np.tanh(x[:, 0] @ a["bert/pooler/dense/kernel"] + a["bert/pooler/dense/bias"])
    result = {"sequence_output": x, "pooled_output": pooled}
    if positions is not None:
        t = np.take_along_axis(x, positions[..., None], 1)
        t = gelu(t @ a["cls/predictions/transform/dense/kernel"]
                 + a["cls/predictions/transform/dense/bias"])
        t = layer_norm(t, a["cls/predictions/transform/LayerNorm/gamma"],
                       a["cls/predictions/transform/LayerNorm/beta"])
        result["masked_lm_logits"] = (t @ a["bert/embeddings/word_embeddings"].T
                                      + a["cls/predictions/output_bias"])
        result["next_sentence_logits"] = (pooled @ a["cls/seq_relationship/output_weights"].T
                                          + a["cls/seq_relationship/output_bias"])
    return result


def google_to_hf(arrays, prefix="bert."):
    """Renames Google arrays to Hugging Face keys ([out, in] Linear weights)."""
    out = {}
    for name, value in arrays.items():
        key = name.replace("bert/encoder/layer_", "bert/encoder/layer/").replace("/", ".")
        key = key.replace("cls.seq_relationship.output_weights", "cls.seq_relationship.weight")
        key = key.replace("cls.seq_relationship.output_bias", "cls.seq_relationship.bias")
        key = key.replace("cls.predictions.output_bias", "cls.predictions.bias")
        if key.endswith(".kernel"):
            key, value = key[:-len("kernel")] + "weight", value.T
        key = key.replace(".gamma", ".weight").replace(".beta", ".bias")
        if key.endswith("_embeddings"):
            key += ".weight"
        if key.startswith("bert."):
            key = prefix + key[len("bert."):]
        out[key] = np.ascontiguousarray(value)
    return out
