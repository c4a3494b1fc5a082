"""Atomic writes that honour the umask: a file or folder appears complete or not at all.

`tempfile.mkstemp` creates files 0600 and `mkdtemp` folders 0700, whatever
the umask; renamed into place they would stay unreadable for a serving
container or a teammate running as another user. Everything written here
ends with the permissions `open()` and `os.makedirs` would have given it:
files `0o666 & ~umask`, folders `0o777 & ~umask`.

Example:

    write_json_atomically("out/metrics.json", {"eval": {"accuracy": 0.9}})
    with atomic_folder("out/saved_model") as tmp:
        tf.saved_model.save(module, tmp)
"""

import contextlib
import json
import os
import shutil
import tempfile
import threading

_UMASK_LOCK = threading.Lock()


def current_umask():
    """The process umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def publish_permissions(path):
    """Gives `path` (and, for a folder, everything under it) the umask's default modes.

    Files written by `open()` inside a staging folder already have them; the
    folders `mkdtemp` made and the files `mkstemp` made do not.
    """
    mask = current_umask()
    if not os.path.isdir(path):
        os.chmod(path, 0o666 & ~mask)
        return
    os.chmod(path, 0o777 & ~mask)
    for root, folders, _ in os.walk(path):
        for name in folders:
            os.chmod(os.path.join(root, name), 0o777 & ~mask)


def write_text_atomically(path, text):
    """Writes `text` (UTF-8) to a temporary file beside `path`, then renames it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        publish_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json_atomically(path, obj):
    """`obj` as indented, key-sorted JSON, written with `write_text_atomically`."""
    write_text_atomically(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def atomic_folder(folder, prefix=".tmp-"):
    """Yields a staging folder beside `folder`; on success it replaces `folder` whole.

    An earlier `folder` is removed only after the new one is in place under a
    temporary name, so a crash leaves either the old or the new folder. On an
    exception nothing under `folder` changes and the staging folder is deleted.
    """
    folder = os.path.abspath(folder)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield tmp
        publish_permissions(tmp)
        if os.path.exists(folder):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.replace(folder, os.path.join(old, os.path.basename(folder)))
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def files_into_folder(folder, last=()):
    """Yields a staging folder; on success its files move into `folder` one by one.

    For file sets that share a folder with other files (a checkpoint beside a
    config): names in `last` move last (an `.index` that makes a TF checkpoint
    readable, a weights file that makes a Hugging Face folder loadable).
    """
    folder = os.path.abspath(folder)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-save-", dir=parent)
    try:
        yield tmp
        os.makedirs(folder, exist_ok=True)
        is_last = lambda name: any(name.endswith(suffix) for suffix in last)
        for entry in sorted(os.listdir(tmp), key=is_last):
            publish_permissions(os.path.join(tmp, entry))
            os.replace(os.path.join(tmp, entry), os.path.join(folder, entry))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- Hugging Face weights

# The weight files of a Hugging Face model folder, in the order they are looked for.
HF_SAFETENSORS = "model.safetensors"
HF_SAFETENSORS_INDEX = "model.safetensors.index.json"
HF_TORCH_FILE = "pytorch_model.bin"
HF_WEIGHT_FILES = (HF_SAFETENSORS, HF_SAFETENSORS_INDEX, HF_TORCH_FILE)


def has_hf_weights(folder):
    """Whether `folder` holds one of `HF_WEIGHT_FILES`."""
    return any(os.path.exists(os.path.join(folder, name)) for name in HF_WEIGHT_FILES)


def read_safetensors(path):
    """`{key: array}` of one `.safetensors` file; floating tensors come back float32."""
    import tensorflow as tf  # here, not at the top: configs import this module without TF
    from safetensors import safe_open
    arrays = {}
    with safe_open(path, framework="tf") as f:  # "tf" also reads bfloat16
        for key in f.keys():
            tensor = f.get_tensor(key)
            arrays[key] = (tf.cast(tensor, tf.float32) if tensor.dtype.is_floating
                           else tensor).numpy()
    return arrays


def _read_torch_file(folder):
    """`{key: array}` of `pytorch_model.bin` (floating tensors float32); needs torch."""
    path = os.path.join(folder, HF_TORCH_FILE)
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{path} is a PyTorch pickle and needs torch to read; install torch, or "
            f"convert it to {HF_SAFETENSORS}.") from None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float().numpy() if v.is_floating_point() else v.numpy()
            for k, v in state.items()}


def read_hf_weights(folder, model_name="model"):
    """`{key: array}` from a Hugging Face folder's weights, floating tensors as float32.

    Reads `model.safetensors`, else the shards named by
    `model.safetensors.index.json`, else `pytorch_model.bin` (with torch).
    `model_name` ("BERT", "GPT-2") names the folder's model in the
    FileNotFoundError raised when none of the three is there.

    Example: `arrays = read_hf_weights("gpt2", "GPT-2")`.
    """
    single = os.path.join(folder, HF_SAFETENSORS)
    if os.path.exists(single):
        return read_safetensors(single)
    index = os.path.join(folder, HF_SAFETENSORS_INDEX)
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        arrays = {}
        for shard in shards:
            arrays.update(read_safetensors(os.path.join(folder, shard)))
        return arrays
    if not os.path.exists(os.path.join(folder, HF_TORCH_FILE)):
        raise FileNotFoundError(f"No {model_name} weights in {folder}: looked for "
                                f"{HF_SAFETENSORS}, {HF_SAFETENSORS_INDEX} and {HF_TORCH_FILE}.")
    return _read_torch_file(folder)
