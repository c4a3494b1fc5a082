"""The PyTorch half of `python -m bench t5_buckets`: run by `--torch_python`.

    /work/refvenv/bin/python bench/parity/t5_buckets_torch.py OUT.npy MAX_DISTANCE NB:MD [NB:MD ...]

Never imported by the project (needs torch and transformers). For each
`num_buckets:max_distance` pair and both directions (bidirectional first),
asks transformers' `T5Attention._relative_position_bucket` for the buckets of
every relative position (key - query) in `-MAX_DISTANCE .. MAX_DISTANCE` and
saves them as one int64 array `[pairs, 2, 2 * MAX_DISTANCE + 1]` in OUT.npy.
"""

import sys

import numpy as np


def main(out, max_distance, pairs):
    import torch
    import transformers
    from transformers.models.t5.modeling_t5 import T5Attention
    relative = torch.arange(-max_distance, max_distance + 1)
    buckets = [[T5Attention._relative_position_bucket(relative, bidirectional, num_buckets,
                                                      distance).numpy()
                for bidirectional in (True, False)]
               for num_buckets, distance in pairs]
    np.save(out, np.asarray(buckets, np.int64))
    print(f"torch {torch.__version__}, transformers {transformers.__version__}: wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]),
         [tuple(int(v) for v in pair.split(":")) for pair in sys.argv[3:]])
