"""The PyTorch half of `python -m bench extract_features_hf`: run by `--torch_python`.

    /work/refvenv/bin/python bench/parity/extract_features_torch.py MODEL_FOLDER INPUT_TXT OUT_NPZ

Never imported by the project (needs torch and transformers). Tokenizes each
line of INPUT_TXT with Hugging Face's `BertTokenizer` (the folder's casing,
truncation to 128), runs `BertModel(output_hidden_states=True)` on the
padded batch (eval, float32, eager attention) and writes OUT_NPZ: `tokens`
(every real token of every line, in order), `lengths` [lines], and
`hidden_states` [4, tokens, hidden]: `hidden_states[-1]`, `[-2]`, `[-3]`,
`[-4]` at the real tokens.
"""

import sys

import numpy as np

LAYERS = (-1, -2, -3, -4)
MAX_SEQ_LENGTH = 128


def main(folder, input_txt, out_npz):
    import torch
    import transformers
    torch.set_grad_enabled(False)
    with open(input_txt, encoding="utf-8") as f:
        lines = f.read().split("\n")[:-1]
    tokenizer = transformers.BertTokenizer.from_pretrained(folder)
    batch = tokenizer(lines, padding=True, truncation=True, max_length=MAX_SEQ_LENGTH,
                      return_tensors="pt", return_token_type_ids=True)
    model = transformers.BertModel.from_pretrained(folder, attn_implementation="eager",
                                                   dtype=torch.float32).eval()
    states = model(**batch, output_hidden_states=True).hidden_states
    mask = batch["attention_mask"].bool()
    tokens = [t for ids, m in zip(batch["input_ids"], mask)
              for t in tokenizer.convert_ids_to_tokens(ids[m].tolist())]
    np.savez(out_npz, tokens=np.array(tokens), lengths=mask.sum(1).numpy(),
             hidden_states=np.stack([states[i][mask].float().numpy() for i in LAYERS]))
    print(f"torch {torch.__version__}, transformers {transformers.__version__}: "
          f"{len(lines)} lines, {len(tokens)} tokens")


if __name__ == "__main__":
    main(*sys.argv[1:4])
