"""The embedded default corpus: docstrings of the Python standard library.

`run_pretraining.py` with no flags needs real English text that every
machine already has and that the project does not copy from anywhere: the
docstrings of the standard library's own source files, read with `ast`
(nothing is imported or executed). Each docstring is one document, written in
Google's input format: one sentence per line, a blank line between
documents. Documents are split into a training and a held-out file by a hash
of their text, so the split does not depend on file order.

Example:

    stats = write_corpus("data", max_bytes=2_000_000)
    # data/train.txt, data/heldout.txt
"""

import ast
import hashlib
import os
import re
import sysconfig

# Modules with plenty of prose; their docstrings make the default corpus.
MODULES = (
    "argparse", "asyncio/events", "asyncio/tasks", "calendar", "collections/__init__",
    "configparser", "csv", "dataclasses", "datetime", "decimal", "difflib", "doctest",
    "email/message", "enum", "fractions", "ftplib", "functools", "gettext", "gzip",
    "heapq", "http/client", "http/cookiejar", "http/server", "imaplib", "inspect",
    "ipaddress", "logging/__init__", "logging/handlers", "mailbox", "nntplib", "optparse",
    "pathlib", "pdb", "pickle", "pprint", "pydoc", "random", "shutil", "smtplib",
    "socket", "ssl", "statistics", "string", "subprocess", "tarfile", "tempfile",
    "textwrap", "threading", "tkinter/__init__", "turtle", "typing", "unittest/case",
    "unittest/mock", "urllib/parse", "urllib/request", "uuid", "warnings", "weakref",
    "xml/dom/minidom", "zipfile/__init__", "zipfile",
)
MIN_SENTENCES = 2  # Single-sentence docstrings cannot give next-sentence pairs.
HELDOUT_PERCENT = 10
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


def _docstrings(path):
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                yield doc


def sentences_of(docstring):
    """Prose sentences of a docstring: paragraphs joined, code and tables dropped."""
    sentences, after_literal = [], False
    for paragraph in re.split(r"\n\s*\n", docstring):
        raw = [line for line in paragraph.splitlines() if line.strip()]
        lines = [line.strip() for line in raw]
        # Indented lines, doctests, tables and blocks after "::" are code, not prose.
        is_code = after_literal or any(
            line[:1].isspace() or line.lstrip().startswith((">>>", "...", "$", "|", "+-"))
            for line in raw)
        after_literal = bool(lines) and lines[-1].endswith("::")
        if is_code or not lines:
            continue
        text = " ".join(line for line in lines if line)
        if len(text) < 20 or not re.search(r"[a-z]{3}", text):
            continue
        sentences += [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 3]
    return sentences


def iter_documents(stdlib_dir=None):
    """Yields lists of sentences, one list per docstring, in a fixed order."""
    stdlib_dir = stdlib_dir or sysconfig.get_paths()["stdlib"]
    for module in MODULES:
        path = os.path.join(stdlib_dir, module + ".py")
        for doc in _docstrings(path):
            sentences = sentences_of(doc)
            if len(sentences) >= MIN_SENTENCES:
                yield sentences


def write_corpus(folder, max_bytes=None, stdlib_dir=None):
    """Writes `train.txt` and `heldout.txt` under `folder`; returns counts.

    Returns a dict: documents and bytes per file. `max_bytes` caps the total.
    """
    os.makedirs(folder, exist_ok=True)
    paths = {name: os.path.join(folder, name + ".txt") for name in ("train", "heldout")}
    counts = {name: {"documents": 0, "bytes": 0} for name in paths}
    seen, total = set(), 0
    files = {name: open(path + ".partial", "w", encoding="utf-8") for name, path in paths.items()}
    try:
        for sentences in iter_documents(stdlib_dir):
            text = "\n".join(sentences) + "\n\n"
            digest = hashlib.sha1(text.encode()).digest()
            if digest in seen:
                continue
            seen.add(digest)
            name = "heldout" if digest[0] * 100 // 256 < HELDOUT_PERCENT else "train"
            files[name].write(text)
            counts[name]["documents"] += 1
            counts[name]["bytes"] += len(text.encode())
            total += len(text.encode())
            if max_bytes and total >= max_bytes:
                break
    finally:
        for f in files.values():
            f.close()
    for name, path in paths.items():
        os.replace(path + ".partial", path)
    return {"paths": paths, "counts": counts}
