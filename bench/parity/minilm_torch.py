"""The PyTorch half of `python -m bench minilm_references`: run by `--torch_python`.

    /work/refvenv/bin/python bench/parity/minilm_torch.py MINILM_FOLDER OUT_DIR

Never imported by the project (it needs torch, transformers, safetensors and
optionally sentence-transformers; no absl). bench/parity/minilm_references.py
starts it and documents what it writes: references of all-MiniLM-L6-v2 from
Hugging Face's BertModel and BertForPreTraining (seeded random heads), and the
same weights under Google's TF1 variable names as an .npz.
"""

import json
import os
import shutil
import sys

import numpy as np

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the riverbank.",
    "In 1969, Apollo 11 landed on the Moon, and Neil Armstrong became the first person to walk on its surface.",
    "She ordered a café au lait and a croissant at the little bistro on Rue de Rivoli.",
    "Machine learning models often require large amounts of labelled data to generalise well to unseen examples.",
    "Please call me back at 555-0199 before 5:30 p.m. tomorrow; it's urgent!",
    "The committee's decision, announced on Tuesday, surprised almost everyone who had followed the debate closely.",
    "Water boils at 100 degrees Celsius at sea level, but at lower temperatures on high mountains.",
    "Despite the heavy rain, thousands of fans waited outside the stadium for hours to catch a glimpse of the band.",
    "ok",
    "Hello, world!",
    "What time is it?",
    "I love reading books about history.",
    "The naïve résumé was written by a façade designer from Zürich.",
    "東京は日本の首都です。 Tokyo is the capital of Japan.",
    "He paid $3,499.99 for the laptop, which was 15% off the original price.",
    "Is this the real life? Is this just fantasy?",
    "Photosynthesis converts light energy into chemical energy stored in glucose molecules.",
    "The cat sat on the mat.",
    "My flight departs from Terminal 2 at 06:45 and arrives in São Paulo around noon local time.",
    "Don't count your chickens before they hatch.",
    "According to the report, global temperatures have risen by approximately 1.1°C since pre-industrial times.",
    "A man is playing a guitar.",
    "A woman is slicing an onion in the kitchen.",
    "The stock market fell sharply after the central bank unexpectedly raised interest rates by 0.75 percentage points.",
    "Children were playing football in the park while their parents chatted on the benches nearby.",
    "E-mail: support@example.com — reply within 24h.",
    "Crème brûlée is a classic French dessert with a caramelised sugar crust.",
    "The mitochondria is the powerhouse of the cell.",
    "Why do birds suddenly appear every time you are near?",
    "Researchers at the university published a paper describing a new algorithm for sorting very large datasets.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness.",
    "Turn left at the second traffic light, then go straight for about 300 metres.",
    "The Q3 revenue was €12.4M, up 8% year-over-year.",
    "Björk and Sigur Rós are famous musicians from Iceland.",
    "Thank you very much!",
    "The recipe calls for two cups of flour, one teaspoon of baking soda, and a pinch of salt.",
    "Several studies have shown that regular physical exercise can reduce the risk of heart disease, "
    "improve mental health, and help people maintain a healthy body weight as they grow older, although "
    "the exact amount of exercise needed remains a topic of ongoing scientific debate among researchers "
    "and doctors around the world.",
    "Good morning.",
    "Can you recommend a good Italian restaurant downtown?",
    "The train to Paris (TGV 6201) was delayed by 45 minutes due to a signal failure.",
]
N_PRETRAIN, N_MASKED, SEED = 8, 5, 1234
GOOGLE_CONFIG_KEYS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                      "intermediate_size", "hidden_act", "hidden_dropout_prob",
                      "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
                      "initializer_range"]


def google_arrays(model):
    """BertForPreTraining state -> {Google TF1 variable name: float32 array}."""
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    out = {}

    def dense(g, t):
        out[g + "/kernel"] = sd[t + ".weight"].T.copy()  # torch [out, in] -> Google [in, out]
        out[g + "/bias"] = sd[t + ".bias"]

    def ln(g, t):
        out[g + "/gamma"], out[g + "/beta"] = sd[t + ".weight"], sd[t + ".bias"]

    for n in ["word", "position", "token_type"]:
        out[f"bert/embeddings/{n}_embeddings"] = sd[f"bert.embeddings.{n}_embeddings.weight"]
    ln("bert/embeddings/LayerNorm", "bert.embeddings.LayerNorm")
    for i in range(model.config.num_hidden_layers):
        g, t = f"bert/encoder/layer_{i}", f"bert.encoder.layer.{i}"
        for n in ["query", "key", "value"]:
            dense(f"{g}/attention/self/{n}", f"{t}.attention.self.{n}")
        dense(f"{g}/attention/output/dense", f"{t}.attention.output.dense")
        ln(f"{g}/attention/output/LayerNorm", f"{t}.attention.output.LayerNorm")
        dense(f"{g}/intermediate/dense", f"{t}.intermediate.dense")
        dense(f"{g}/output/dense", f"{t}.output.dense")
        ln(f"{g}/output/LayerNorm", f"{t}.output.LayerNorm")
    dense("bert/pooler/dense", "bert.pooler.dense")
    dense("cls/predictions/transform/dense", "cls.predictions.transform.dense")
    ln("cls/predictions/transform/LayerNorm", "cls.predictions.transform.LayerNorm")
    out["cls/predictions/output_bias"] = sd["cls.predictions.bias"]
    out["cls/seq_relationship/output_weights"] = sd["cls.seq_relationship.weight"]  # [2, hidden]
    out["cls/seq_relationship/output_bias"] = sd["cls.seq_relationship.bias"]
    return out


def step_torch(path, out_dir):
    """Writes the references of the MiniLM folder `path` under `out_dir` (module doc)."""
    import torch
    import transformers
    from safetensors.torch import load_file
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    torch.set_grad_enabled(False)
    # transformers >= 5: BertTokenizer is the Rust one; the slow Python one is BertTokenizerLegacy.
    slow = BertTokenizerLegacy.from_pretrained(path)
    fast = transformers.BertTokenizer.from_pretrained(path)
    for s in SENTENCES:
        a, b = slow(s)["input_ids"], fast(s)["input_ids"]
        if a != b:
            print(f"TOKENIZER DIFF slow vs fast on {s!r}:\n  {slow.convert_ids_to_tokens(a)}\n"
                  f"  {fast.convert_ids_to_tokens(b)}")
    enc = slow(SENTENCES, padding="longest", truncation=True, max_length=256, return_tensors="pt",
               return_token_type_ids=True)  # the legacy class omits them by default
    feats = {k: enc[k] for k in ["input_ids", "attention_mask", "token_type_ids"]}

    model, info = transformers.BertModel.from_pretrained(
        path, output_loading_info=True, attn_implementation="eager", dtype=torch.float32)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    res = model(**feats)
    hidden, pooled = res.last_hidden_state.float(), res.pooler_output.float()
    mask = feats["attention_mask"].unsqueeze(-1).float()
    emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    emb = torch.nn.functional.normalize(emb, p=2, dim=1)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers not installed: embedding not cross-checked")
    else:
        st = SentenceTransformer(path, device="cpu")
        st_emb = st.encode(SENTENCES, convert_to_numpy=True)
        err = np.abs(st_emb - emb.numpy()).max()
        print(f"max |embedding - SentenceTransformer.encode| = {err:.2e}")
        assert err < 1e-5, err
    os.makedirs(out_dir, exist_ok=True)
    ints = {k: v.numpy().astype(np.int32) for k, v in feats.items()}
    np.savez(os.path.join(out_dir, "minilm_reference.npz"), sentences=np.array(SENTENCES, dtype=str),
             last_hidden_state=hidden.numpy(), pooler_output=pooled.numpy(), embedding=emb.numpy(),
             **ints)

    # BertForPreTraining: MiniLM encoder (strict) + seeded non-trivial random heads.
    config = transformers.BertConfig.from_pretrained(path, attn_implementation="eager")
    pt = transformers.BertForPreTraining(config)
    sd = load_file(os.path.join(path, "model.safetensors"))
    sd.pop("embeddings.position_ids", None)  # a non-persistent buffer in current transformers
    pt.bert.load_state_dict(sd, strict=True)
    torch.manual_seed(SEED)
    p = pt.cls.predictions
    for w in [p.transform.dense.weight, pt.cls.seq_relationship.weight]:
        w.copy_(torch.randn_like(w) * 0.02)
    p.transform.LayerNorm.weight.copy_(1 + 0.05 * torch.randn_like(p.transform.LayerNorm.weight))
    for b in [p.transform.dense.bias, p.transform.LayerNorm.bias, p.bias,
              pt.cls.seq_relationship.bias]:
        b.copy_(0.05 * torch.randn_like(b))
    # The MLM decoder is tied to the word embeddings and shares the output bias.
    assert p.decoder.weight.data_ptr() == pt.bert.embeddings.word_embeddings.weight.data_ptr()
    assert torch.equal(p.decoder.bias, p.bias)
    pt.eval()
    pf = {k: v[:N_PRETRAIN] for k, v in feats.items()}
    po = pt(**pf)
    lens = pf["attention_mask"].sum(1).numpy()
    rng = np.random.RandomState(SEED)
    # Positions among the real word pieces (not [CLS]/[SEP]); sentences 0-7 all have >= 5.
    positions = np.stack([np.sort(rng.choice(np.arange(1, n - 1), N_MASKED, replace=False))
                          for n in lens]).astype(np.int32)
    logits = po.prediction_logits.numpy()
    mlm = np.take_along_axis(logits, positions[:, :, None].astype(np.int64), axis=1)
    assert np.allclose(pt.bert(**pf).last_hidden_state.numpy(), hidden[:N_PRETRAIN].numpy(),
                       atol=1e-5)
    np.savez(os.path.join(out_dir, "minilm_pretraining_reference.npz"),
             **{"pt_" + k: v[:N_PRETRAIN] for k, v in ints.items()},
             masked_lm_positions=positions, masked_lm_logits=mlm.astype(np.float32),
             seq_relationship_logits=po.seq_relationship_logits.numpy().astype(np.float32))

    gdir = os.path.join(out_dir, "minilm_google")
    os.makedirs(gdir, exist_ok=True)
    cfg = {k: getattr(config, k) for k in GOOGLE_CONFIG_KEYS}
    with open(os.path.join(gdir, "bert_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    shutil.copyfile(os.path.join(path, "vocab.txt"), os.path.join(gdir, "vocab.txt"))
    arrays = google_arrays(pt)
    for name in ["bert/embeddings/LayerNorm/gamma", "cls/predictions/output_bias"]:
        arrays[name + "/adam_m"] = rng.normal(0, 1e-3, arrays[name].shape).astype(np.float32)
        arrays[name + "/adam_v"] = rng.uniform(0, 1e-6, arrays[name].shape).astype(np.float32)
    arrays["global_step"] = np.array(100000, dtype=np.int64)
    np.savez(os.path.join(out_dir, "minilm_google_arrays.npz"), **arrays)
    print(f"wrote {out_dir}; {len(arrays)} Google variables")


if __name__ == "__main__":
    step_torch(sys.argv[1], sys.argv[2])
