"""Streams a text corpus in Google's format as bounded blocks of documents.

Input format (google-research/bert `create_pretraining_data.py`): one
sentence per line, a blank line between documents. A document never spans two
files here (Google's would run on into the next file when a file does not end
with a blank line).

The corpus is never held whole: documents are grouped into blocks of about
`block_bytes` of text, in input order. A block is the unit of work of a
worker, the window from which a random next segment is drawn, and the buffer
within which instances are shuffled. A document longer than a block is cut at
a sentence boundary into documents of at most about one block, so memory stays
bounded whatever the input.

Bad input raises `InputError` naming the file (and line): a pattern that
matches nothing, an empty file or one with no text, bytes that are not UTF-8.

With `input_format="text"` (GPT records only) each file is one document
taken verbatim, newlines and blank lines included, as nanoGPT and GPT-2
training read raw text: a document is then a one-element list holding a piece
of the file, pieces are cut after a newline, and `Block.document_ends` says
which piece ends its file (only there does an end-of-text id follow).

Example:

    files = expand_input_patterns("data/*.txt,more/part-*")
    for block in iter_blocks(files, block_bytes=1 << 20):
        block.index, block.documents   # documents: list of lists of sentences
"""

import dataclasses
import glob
import os


class InputError(ValueError):
    """Bad input text: the message names the file, and the line where it helps."""


@dataclasses.dataclass
class Block:
    """A run of documents. `documents`: list of lists of stripped lines (or one raw piece).

    `document_ends[i]` is False where document i continues in the next one (a
    piece of a raw text file); None means every document ends.
    """
    index: int
    documents: list
    num_bytes: int
    document_ends: list = None

    def ends(self):
        """-> list of bool, one per document."""
        return self.document_ends or [True] * len(self.documents)


def _glob(pattern):
    if "://" in pattern:  # gs:// and other file systems through TensorFlow.
        import tensorflow as tf
        return tf.io.gfile.glob(pattern), tf.io.gfile.isdir, lambda p: tf.io.gfile.stat(p).length
    # Local files without importing TensorFlow (worker processes start meanwhile).
    return glob.glob(pattern), os.path.isdir, os.path.getsize


def expand_input_patterns(input_file):
    """Comma-separated glob patterns -> sorted file list per pattern, in order.

    Raises `InputError` for a pattern that matches nothing, a directory or an
    empty file.
    """
    patterns = [p.strip() for p in input_file.split(",") if p.strip()]
    if not patterns:
        raise InputError(f"--input_file names no files: {input_file!r}")
    files = []
    for pattern in patterns:
        matches, is_dir, size = _glob(pattern)
        if not matches:
            raise InputError(f"input pattern {pattern!r} matched no files")
        for path in sorted(matches):
            if is_dir(path):
                raise InputError(f"input {path!r} is a directory, expected a text file")
            if size(path) == 0:
                raise InputError(f"input file {path!r} is empty")
            files.append(path)
    return files


def _open(path):
    # Local files through the built-in reader: GFile's line iteration is
    # several times slower; GFile still serves gs:// and other schemes.
    if "://" in path:
        import tensorflow as tf
        return tf.io.gfile.GFile(path, "rb")
    return open(path, "rb")


def _decode(raw, path, line_number):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}:{line_number}: bytes that are not UTF-8 at column {e.start + 1} "
            f"({raw[e.start:e.start + 4]!r}); the input must be UTF-8 text") from None


def iter_documents(path, max_document_bytes):
    """Yields `(lines, num_bytes)` per document of one file, long ones cut."""
    lines, size, any_text = [], 0, False
    with _open(path) as f:
        for line_number, raw in enumerate(f, 1):
            line = _decode(raw, path, line_number).strip()
            if not line:
                if lines:
                    yield lines, size
                lines, size = [], 0
                continue
            lines.append(line)
            size += len(raw)
            any_text = True
            if size >= max_document_bytes:
                yield lines, size
                lines, size = [], 0
    if lines:
        yield lines, size
    if not any_text:
        raise InputError(f"input file {path!r} has no text (only blank lines)")


def iter_text_pieces(path, max_piece_bytes):
    """Yields `([text], num_bytes, ends_file)`: one file verbatim, cut after newlines."""
    pieces, size, any_text = [], 0, False
    with _open(path) as f:
        for line_number, raw in enumerate(f, 1):
            text = _decode(raw, path, line_number)
            pieces.append(text)
            size += len(raw)
            any_text = any_text or bool(text.strip())
            if size >= max_piece_bytes:
                yield ["".join(pieces)], size, False
                pieces, size = [], 0
    if not any_text:
        raise InputError(f"input file {path!r} has no text (only white space)")
    yield ["".join(pieces)], size, True


INPUT_FORMATS = ("sentences", "text")


def iter_blocks(files, block_bytes, input_format="sentences"):
    """Yields `Block`s of about `block_bytes` of text, in order.

    `input_format`: "sentences" (Google's: whole documents of stripped lines)
    or "text" (each file verbatim, see the module docstring).
    """
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {INPUT_FORMATS}, got {input_format!r}")
    raw = input_format == "text"
    index, documents, ends, size = 0, [], [], 0
    for path in files:
        pieces = (iter_text_pieces(path, block_bytes) if raw else
                  ((lines, n, True) for lines, n in iter_documents(path, block_bytes)))
        for lines, num_bytes, ends_document in pieces:
            documents.append(lines)
            ends.append(ends_document)
            size += num_bytes
            if size >= block_bytes:
                yield Block(index, documents, size, ends if raw else None)
                index, documents, ends, size = index + 1, [], [], 0
    if documents:
        yield Block(index, documents, size, ends if raw else None)
