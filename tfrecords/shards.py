"""TFRecord shard files written under a temporary name, renamed when complete.

Each output is written as `.<name>.partial` in its final folder and renamed
to `<name>` only after every output closed cleanly, so a killed or failed run
leaves no truncated file under a finished name (`*.partial` files of a killed
run may be deleted; the reader skips them). Records go to the outputs in turn
(record i to output `i % num_outputs`), as in Google's script.

A TFRecord file frames each record as: uint64 length, masked CRC-32C of those
8 bytes, the record, masked CRC-32C of the record (little-endian;
tensorflow/core/lib/io/record_writer.cc). `frame_records` builds that framing
for a batch with NumPy (the CRCs four bytes a step over all records at once),
so local files are written without TensorFlow; other file systems (gs://)
go through `tf.io.gfile`.

Example:

    with ShardWriter(["a.tfrecord", "b.tfrecord"]) as writer:
        writer.write(blob, lengths)      # serialized records back to back
    writer.counts                        # records per output
"""

import functools
import os

from absl import logging
import numpy as np

PARTIAL_SUFFIX = ".partial"
# Output buffer per file: records reach the disk in large writes.
_BUFFER_BYTES = 1 << 22
# CRC-32C (Castagnoli), reflected polynomial (RFC 3720, appendix B.4), the CRC
# of TFRecord files (tensorflow/core/lib/hash/crc32c.h).
_CRC32C_POLY = 0x82F63B78
_CRC_INIT = 0xFFFFFFFF
# TFRecord's masked CRC: rotate right by 15 bits, add this (crc32c.h kMaskDelta).
_CRC_MASK_DELTA = 0xA282EAD8
# Framing: 8-byte length + its 4-byte CRC before a record, its 4-byte CRC after.
_HEADER_BYTES, _FOOTER_BYTES = 12, 4
# Records framed in one [n, width] matrix: a few MB, bounded memory.
_FRAME_BATCH = 4096
# The register after k zero bytes from the initial value, for k = 0, 1, ...
# (grown on demand).
_ZERO_RUNS = [_CRC_INIT]


@functools.lru_cache(maxsize=1)
def _crc_tables():
    """(low-half table, high-half table, byte table) of CRC-32C.

    The half tables give the register after four bytes from its 16-bit halves
    ("slicing by 4" with 16-bit indices); the byte table, after one byte.
    """
    byte = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        byte = np.where(byte & 1, (byte >> 1) ^ np.uint32(_CRC32C_POLY), byte >> 1)
    shifted = [byte]  # shifted[k][b]: byte b followed by k zero bytes.
    for _ in range(3):
        shifted.append((shifted[-1] >> 8) ^ byte[shifted[-1] & 0xFF])
    index = np.arange(1 << 16)
    return (shifted[3][index & 0xFF] ^ shifted[2][index >> 8],
            shifted[1][index & 0xFF] ^ shifted[0][index >> 8], byte.tolist())


def _crc_from_zero(words):
    """CRC registers from zero over rows of uint32 words `[n, k]` (little-endian)."""
    low, high, _ = _crc_tables()
    register = np.zeros(len(words), np.uint32)
    for column in range(words.shape[1]):
        register ^= words[:, column]
        register = low[register & 0xFFFF] ^ high[register >> 16]
    return register


def _masked_crc(register_from_zero, lengths):
    """Registers from zero -> TFRecord's masked CRC-32C.

    The CRC is linear: the register from the initial value 0xFFFFFFFF is the
    register from zero XOR that of as many zero bytes from the initial value.
    """
    byte = _crc_tables()[2]
    while len(_ZERO_RUNS) <= lengths.max(initial=0):
        _ZERO_RUNS.append((_ZERO_RUNS[-1] >> 8) ^ byte[_ZERO_RUNS[-1] & 0xFF])
    crc = register_from_zero ^ np.array(_ZERO_RUNS, np.uint32)[lengths] ^ np.uint32(_CRC_INIT)
    return ((crc >> 15) | (crc << 17)) + np.uint32(_CRC_MASK_DELTA)


def _frame_batch(data, lengths):
    """Records -> `(rows, first)`: row i frames record i from column `first[i]` on."""
    n = len(lengths)
    width = -(-int(lengths.max(initial=0)) // 4) * 4
    rows = np.zeros((n, _HEADER_BYTES + width + _FOOTER_BYTES), np.uint8)
    # Records end at the same column: the zeros before them leave a zero register.
    body = rows[:, _HEADER_BYTES:_HEADER_BYTES + width]
    body[np.arange(width) >= (width - lengths)[:, None]] = data
    crc = _masked_crc(_crc_from_zero(body.view("<u4")), lengths)
    rows[:, _HEADER_BYTES + width:] = crc.astype("<u4").view(np.uint8).reshape(n, 4)
    header = np.empty((n, _HEADER_BYTES), np.uint8)
    header[:, :8] = lengths.astype("<u8").view(np.uint8).reshape(n, 8)
    header[:, 8:] = _masked_crc(_crc_from_zero(header[:, :8].view("<u4")),
                                np.full(n, 8)).astype("<u4").view(np.uint8).reshape(n, 4)
    first = width - lengths
    rows[np.arange(n)[:, None], first[:, None] + np.arange(_HEADER_BYTES)] = header
    return rows, first


def frame_records(blob, lengths, outputs=None, num_outputs=1):
    """Serialized records -> the TFRecord file bytes holding them, per output.

    Args:
      blob: uint8 array (or bytes) of the records back to back.
      lengths: int `[n]` record lengths.
      outputs: int `[n]` output of each record in `[0, num_outputs)` (None: 0).

    Returns:
      list of `num_outputs` uint8 arrays: each output's records framed, in order.
    """
    blob = np.frombuffer(blob, np.uint8) if isinstance(blob, (bytes, bytearray)) else blob
    lengths = np.asarray(lengths, np.int64)
    outputs = np.zeros(len(lengths), np.int64) if outputs is None else np.asarray(outputs)
    pieces = [[] for _ in range(num_outputs)]
    ends = np.cumsum(lengths)
    for first in range(0, len(lengths), _FRAME_BATCH):
        part = lengths[first:first + _FRAME_BATCH]
        start = int(ends[first] - part[0])
        rows, columns = _frame_batch(blob[start:start + int(part.sum())], part)
        keep = np.arange(rows.shape[1]) >= columns[:, None]
        part_outputs = outputs[first:first + _FRAME_BATCH]
        for k in range(num_outputs):
            if num_outputs == 1:
                pieces[k].append(rows[keep])
            else:
                mine = part_outputs == k
                pieces[k].append(rows[mine][keep[mine]])
    return [np.concatenate(p) if p else np.zeros(0, np.uint8) for p in pieces]


def partial_path(path):
    """The temporary name of an output while it is being written."""
    folder, name = os.path.split(path)
    return os.path.join(folder, "." + name + PARTIAL_SUFFIX)


def shard_paths(output_dir, prefix, num_shards):
    """`<output_dir>/<prefix>-00000-of-00004.tfrecord`, ..."""
    return [os.path.join(output_dir, f"{prefix}-{i:05d}-of-{num_shards:05d}.tfrecord")
            for i in range(num_shards)]


class _FileSystem:
    """The writer's file operations on `path`'s file system: local files with
    Python's own (no TensorFlow), others (gs://, ...) through `tf.io.gfile`."""

    def __init__(self, path):
        self._gfile = None
        if "://" in path:
            import tensorflow as tf
            self._gfile = tf.io.gfile

    def makedirs(self, folder):
        if self._gfile:
            self._gfile.makedirs(folder)
        else:
            os.makedirs(folder, exist_ok=True)

    def open(self, path):
        """-> an output with `write(bytes-like)` and `close()`."""
        if self._gfile:
            return _GFileOutput(self._gfile.GFile(path, "wb"))
        return open(path, "wb", buffering=_BUFFER_BYTES)

    def rename(self, source, target):
        if self._gfile:
            self._gfile.rename(source, target, overwrite=True)
        else:
            os.replace(source, target)

    def remove_if_exists(self, path):
        exists = self._gfile.exists if self._gfile else os.path.exists
        if exists(path):
            (self._gfile.remove if self._gfile else os.remove)(path)


class _GFileOutput:
    """A GFile that also takes memoryviews (GFile.write takes bytes and str)."""

    def __init__(self, output):
        self._output = output

    def write(self, data):
        self._output.write(bytes(data))

    def close(self):
        self._output.close()


class ShardWriter:
    """Round-robin TFRecord writer over several outputs, committed by rename.

    The TFRecord framing (lengths, CRCs) is `frame_records`: local outputs are
    plain files, written without TensorFlow.
    """

    def __init__(self, paths):
        self.paths = list(paths)
        if len(set(self.paths)) != len(self.paths):
            raise ValueError(f"output files repeat a name: {self.paths}")
        self._fs = [_FileSystem(p) for p in self.paths]
        for fs, path in zip(self._fs, self.paths):
            folder = os.path.dirname(path)
            if folder:
                fs.makedirs(folder)
        self._files = []
        for fs, path in zip(self._fs, self.paths):
            self._files.append(fs.open(partial_path(path)))
        self.counts = [0] * len(self.paths)
        self.bytes_written = 0
        self._next = 0

    def write(self, blob, lengths):
        """Writes serialized records: `blob` (uint8 / bytes), `lengths` int `[n]`."""
        lengths = np.asarray(lengths, np.int64)
        num_outputs = len(self._files)
        outputs = (self._next + np.arange(len(lengths))) % num_outputs
        framed = frame_records(blob, lengths, outputs, num_outputs)
        for output, data in zip(self._files, framed):
            if data.size:
                output.write(data.data)
        self.counts = [c + int(k) for c, k in zip(
            self.counts, np.bincount(outputs, minlength=num_outputs))]
        self._next = (self._next + len(lengths)) % num_outputs
        self.bytes_written += int(lengths.sum())

    def _close(self):
        files, self._files = self._files, []
        for f in files:
            f.close()

    def commit(self):
        """Closes every output and gives it its final name."""
        self._close()
        for fs, path in zip(self._fs, self.paths):
            fs.rename(partial_path(path), path)
        logging.info("wrote %d records to %d file(s)", sum(self.counts), len(self.paths))

    def abort(self):
        """Closes and deletes the partial outputs (a failed run leaves none)."""
        self._close()
        for fs, path in zip(self._fs, self.paths):
            fs.remove_if_exists(partial_path(path))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False
