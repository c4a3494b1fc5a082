"""TFRecord shard files written under a temporary name, renamed when complete.

Each output is written as `.<name>.partial` in its final folder and renamed
to `<name>` only after every output closed cleanly, so a killed or failed run
leaves no truncated file under a finished name (`*.partial` files of a killed
run may be deleted; the reader skips them). Records go to the outputs in turn
(record i to output `i % num_outputs`), as in Google's script.

Example:

    with ShardWriter(["a.tfrecord", "b.tfrecord"]) as writer:
        writer.write(blob, lengths)      # serialized records back to back
    writer.counts                        # records per output
"""

import os

from absl import logging
import numpy as np

PARTIAL_SUFFIX = ".partial"


def partial_path(path):
    """The temporary name of an output while it is being written."""
    folder, name = os.path.split(path)
    return os.path.join(folder, "." + name + PARTIAL_SUFFIX)


def shard_paths(output_dir, prefix, num_shards):
    """`<output_dir>/<prefix>-00000-of-00004.tfrecord`, ..."""
    return [os.path.join(output_dir, f"{prefix}-{i:05d}-of-{num_shards:05d}.tfrecord")
            for i in range(num_shards)]


class ShardWriter:
    """Round-robin TFRecord writer over several outputs, committed by rename."""

    def __init__(self, paths):
        import tensorflow as tf  # Deferred: naming shards should not need TensorFlow.
        self._gfile = tf.io.gfile
        self.paths = list(paths)
        if len(set(self.paths)) != len(self.paths):
            raise ValueError(f"output files repeat a name: {self.paths}")
        for path in self.paths:
            folder = os.path.dirname(path)
            if folder:
                self._gfile.makedirs(folder)
        self._writers = [tf.io.TFRecordWriter(partial_path(p)) for p in self.paths]
        self.counts = [0] * len(self.paths)
        self.bytes_written = 0
        self._next = 0

    def write(self, blob, lengths):
        """Writes serialized records: `blob` (uint8 / bytes), `lengths` int `[n]`."""
        data = blob.tobytes() if isinstance(blob, np.ndarray) else bytes(blob)
        ends = np.cumsum(lengths).tolist()
        starts = [0] + ends[:-1]
        num_outputs = len(self._writers)
        for k in range(num_outputs):
            output = (self._next + k) % num_outputs
            write = self._writers[output].write
            mine = range(k, len(ends), num_outputs)
            for i in mine:
                write(data[starts[i]:ends[i]])
            self.counts[output] += len(mine)
        self._next = (self._next + len(ends)) % num_outputs
        self.bytes_written += len(data)

    def commit(self):
        """Closes every output and gives it its final name."""
        for writer in self._writers:
            writer.close()
        for path in self.paths:
            self._gfile.rename(partial_path(path), path, overwrite=True)
        logging.info("wrote %d records to %d file(s)", sum(self.counts), len(self.paths))

    def abort(self):
        """Closes and deletes the partial outputs (a failed run leaves none)."""
        for writer, path in zip(self._writers, self.paths):
            writer.close()
            if self._gfile.exists(partial_path(path)):
                self._gfile.remove(partial_path(path))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False
