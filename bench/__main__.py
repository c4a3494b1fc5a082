"""`python -m bench NAME [--flags]`: runs one benchmark; `python -m bench --list` lists them.

    python -m bench --list                        # every NAME with one line
    python -m bench ceiling                       # the machine's matmul and memory ceilings
    python -m bench bert_train --size=mini        # ours vs keras-hub vs HF PyTorch
    python -m bench all --threads=1 --write       # every speed comparison -> RESULTS.md
    python -m bench writer_speed --google_dir=/tmp/google_bert
    python -m bench unchanged --output=before.json

Names and their modules are in bench/registry.py; `python -m bench NAME
--help` prints a benchmark's flags.
"""

import importlib
import sys

from absl import app
from absl import flags

from bench import registry

LIST_WORDS = ("--list", "list", "help", "--help", "-h")


def main(argv=None):
    argv = sys.argv if argv is None else argv
    if len(argv) < 2 or argv[1] in LIST_WORDS:
        print(registry.listing())
        return
    name = argv[1]
    if name not in registry.BENCHMARKS:
        sys.exit(f"python -m bench: unknown benchmark {name!r}; `python -m bench --list` "
                 "lists them")
    module = importlib.import_module(registry.module_of(name))
    if hasattr(module, "define_flags"):  # a module others import defines its flags on demand
        module.define_flags()
    # --help shows the benchmark's doc and the flags of bench's modules it loaded.
    sys.modules["__main__"].__doc__ = module.__doc__
    for loaded in [m for n, m in sorted(sys.modules.items()) if n.startswith("bench.")]:
        flags.adopt_module_key_flags(loaded)
    app.run(module.main, argv=[f"python -m bench {name}"] + list(argv[2:]))


if __name__ == "__main__":
    main()
