"""Several scripts' absl flags in one test process.

Each script (run_classifier.py, run_squad.py, run_ner.py, extract_features.py)
defines its flags on absl's global FLAGS when imported, and they share names
(--init_checkpoint, --max_seq_length with different defaults, ...): a second
import would raise DuplicateFlagError. `import_scripts()` (conftest.py, before
the test modules are collected) imports each one with the others' flags moved
aside and keeps every script's own flag objects; `use_script_flags(name)`
puts one script's flags in place (conftest.py does it for each test module
that imported a script), so `FLAGS(argv)` and `script.run()` see exactly
that script's flags, defaults and help.

Example:

    import_scripts()            # once, before `import run_squad` in a test module
    use_script_flags("run_squad")
    flags.FLAGS(["run_squad.py", "--doc_stride=64"])
"""

import importlib
import sys

from absl import flags

SCRIPTS = ("run_classifier", "run_squad", "run_ner", "extract_features", "run_translation")

# script module name -> {flag name: Flag}
_SCRIPT_FLAGS = {}


def _move_aside():
    names = {name for script in _SCRIPT_FLAGS.values() for name in script}
    for name in names:
        if name in flags.FLAGS:
            delattr(flags.FLAGS, name)


def import_scripts(repo_root):
    """Imports every script of `SCRIPTS` (from `repo_root`), each with only its own flags."""
    if repo_root not in sys.path:
        sys.path.insert(0, repo_root)
    for name in SCRIPTS:
        if name in _SCRIPT_FLAGS:
            continue
        _move_aside()
        before = set(flags.FLAGS)
        importlib.import_module(name)
        _SCRIPT_FLAGS[name] = {n: flags.FLAGS[n] for n in set(flags.FLAGS) - before}


def use_script_flags(name):
    """Puts script `name`'s flags (and no other script's) on absl's FLAGS."""
    _move_aside()
    for flag_name, flag in _SCRIPT_FLAGS[name].items():
        flags.FLAGS[flag_name] = flag
        flags.FLAGS.register_flag_by_module(name, flag)
