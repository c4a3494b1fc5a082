"""Google's extract_features.py output: one JSON line per example, written atomically.

Schema (keys in this order, `json.dumps` defaults, as Google writes it):

    {"linex_index": 0, "features": [
        {"token": "[CLS]", "layers": [{"index": -1, "values": [0.123456, ...]},
                                       {"index": -2, "values": [...]}, ...]},
        ...]}

one entry per real token ([CLS] and [SEP] included, no padding), one layer
entry per `--layers` index in the order given, values rounded with Python's
`round(x, 6)`.

Example:

    with atomic_lines("out.jsonl") as f:
        f.write(json_line(feature, vectors, (-1, -2)))   # vectors [layers, tokens, hidden]
"""

import contextlib
import json
import os
import tempfile

from tfcore.io import publish_permissions

# Google rounds every value to 6 decimals (round(float(x), 6)).
DECIMALS = 6


def json_line(feature, vectors, layer_indexes):
    """One example's line: `vectors` float `[len(layer_indexes), tokens, hidden]` (numpy)."""
    rounded = [[[round(x, DECIMALS) for x in token] for token in layer]
               for layer in vectors.tolist()]
    features = [{"token": token,
                 "layers": [{"index": index, "values": rounded[j][i]}
                            for j, index in enumerate(layer_indexes)]}
                for i, token in enumerate(feature.tokens)]
    return json.dumps({"linex_index": feature.unique_id, "features": features}) + "\n"


@contextlib.contextmanager
def atomic_lines(path):
    """A text file object beside `path`, renamed onto it when the block ends without error.

    On an error the partial file is removed and an existing `path` is left
    as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        publish_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
