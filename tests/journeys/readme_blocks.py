"""The README's code blocks, as a test runs them.

A fenced block whose info string starts with `python` or `bash` is run; one
whose info string also says `not-run` is not (the sentence before it says
what it needs). Blocks run in document order, each in a fresh process, in one
working folder that holds what a clone of the repository gives a user: the
`run_*.py` scripts and `examples/`.
"""

import os
import re
import subprocess
import sys

FENCE = re.compile(r"^```(\S*)([^\n]*)\n(.*?)^```", re.M | re.S)
RUNNABLE = ("python", "bash")


def readme_blocks(readme_path):
    """`[(line, language, code)]` of the runnable blocks, in document order."""
    with open(readme_path, encoding="utf-8") as f:
        text = f.read()
    blocks = []
    for match in FENCE.finditer(text):
        language, options, code = match.group(1), match.group(2).split(), match.group(3)
        if language in RUNNABLE and "not-run" not in options:
            blocks.append((text.count("\n", 0, match.start()) + 1, language, code))
    return blocks


def prepare_folder(folder, repo_root):
    """Links the scripts and examples of the repository into `folder`."""
    for name in sorted(os.listdir(repo_root)):
        if (name.startswith("run_") and name.endswith(".py")) or name == "examples":
            os.symlink(os.path.join(repo_root, name), os.path.join(folder, name))


def run_block(language, code, folder, timeout=900):
    """Runs one block in `folder`; returns the CompletedProcess (stdout and stderr as text)."""
    # The process sees the installed package only, as a user's shell would.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    if language == "python":
        args = [sys.executable, "-c", code]
    else:
        args = ["bash", "-e", "-o", "pipefail", "-c", code]
    return subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
