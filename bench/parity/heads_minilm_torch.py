"""The PyTorch half of `python -m bench heads_minilm`: run by `--torch_python`.

    /work/refvenv/bin/python bench/parity/heads_minilm_torch.py MINILM_FOLDER WORK_DIR

Never imported by the project (needs torch, transformers, safetensors). Reads
WORK_DIR/heads.npz (`qa_weight` [2, hidden], `qa_bias` [2], `ner_weight`
[13, hidden], `ner_bias` [13], `ner_labels`) and WORK_DIR/inputs.npz
(`qa_*` and `ner_*` input_ids / attention_mask / token_type_ids, padded);
puts all-MiniLM-L6-v2's encoder (strictly) under a `BertForQuestionAnswering`
and a `BertForTokenClassification` with those heads; saves them with
`save_pretrained` as WORK_DIR/hf_qa and WORK_DIR/hf_ner (with MiniLM's
tokenizer files) and writes their logits (eval, float32, eager attention) to
WORK_DIR/torch_logits.npz: `start_logits`, `end_logits` [b, s], `ner_logits`
[b, s, 13].
"""

import os
import shutil
import sys

import numpy as np

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                   "special_tokens_map.json")


def with_minilm_encoder(model, minilm):
    """Loads MiniLM's BertModel weights into `model.bert`, strictly but for the pooler.

    Both heads' encoders are built without a pooler (`add_pooling_layer=False`),
    so MiniLM's pooler weights are the only ones left over.
    """
    from safetensors.torch import load_file
    state = load_file(os.path.join(minilm, "model.safetensors"))
    state.pop("embeddings.position_ids", None)  # a non-persistent buffer in current transformers
    unused = sorted(k for k in state if k not in model.bert.state_dict())
    assert unused == ["pooler.dense.bias", "pooler.dense.weight"], unused
    model.bert.load_state_dict({k: v for k, v in state.items() if k not in unused}, strict=True)
    return model


def save(model, minilm, folder):
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        if os.path.exists(os.path.join(minilm, name)):
            shutil.copyfile(os.path.join(minilm, name), os.path.join(folder, name))


def batch(inputs, prefix):
    import torch
    return {name: torch.from_numpy(inputs[f"{prefix}_{name}"].astype(np.int64))
            for name in ("input_ids", "attention_mask", "token_type_ids")}


def main(minilm, work):
    import torch
    import transformers
    torch.set_grad_enabled(False)
    heads, inputs = np.load(os.path.join(work, "heads.npz")), np.load(os.path.join(work, "inputs.npz"))
    labels = [str(label) for label in heads["ner_labels"]]
    config = transformers.BertConfig.from_pretrained(minilm, attn_implementation="eager")
    qa = with_minilm_encoder(transformers.BertForQuestionAnswering(config), minilm).eval()
    qa.qa_outputs.weight.copy_(torch.from_numpy(heads["qa_weight"]))
    qa.qa_outputs.bias.copy_(torch.from_numpy(heads["qa_bias"]))
    ner_config = transformers.BertConfig.from_pretrained(
        minilm, attn_implementation="eager", num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={k: i for i, k in enumerate(labels)})
    ner = with_minilm_encoder(transformers.BertForTokenClassification(ner_config), minilm).eval()
    ner.classifier.weight.copy_(torch.from_numpy(heads["ner_weight"]))
    ner.classifier.bias.copy_(torch.from_numpy(heads["ner_bias"]))
    save(qa, minilm, os.path.join(work, "hf_qa"))
    save(ner, minilm, os.path.join(work, "hf_ner"))
    qa_out = qa(**batch(inputs, "qa"))
    ner_out = ner(**batch(inputs, "ner"))
    np.savez(os.path.join(work, "torch_logits.npz"),
             start_logits=qa_out.start_logits.float().numpy(),
             end_logits=qa_out.end_logits.float().numpy(),
             ner_logits=ner_out.logits.float().numpy())
    print(f"torch {torch.__version__}, transformers {transformers.__version__}: "
          f"wrote {work}/hf_qa, hf_ner, torch_logits.npz")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
