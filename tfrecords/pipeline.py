"""Runs a block maker over a stream of blocks, in order, on worker processes.

Results come back in block order whatever the number of workers, so the
output of a seeded run is byte-identical for any `num_workers`. At most
`2 * num_workers` blocks are in flight (two in one process: one being
tokenized by a thread while the other is built): reading stops while the workers are
behind, so memory stays bounded by the block size, not the corpus size.

Workers are spawned, not forked: TensorFlow's threads do not survive a fork.
Each worker builds its own tokenizer once (`maker.setup()`).

Example:

    with BlockMapper(maker, num_workers=2) as mapper:
        for result in mapper.map(iter_blocks(files, 1 << 20)):
            writer.write(result.blob, result.lengths)
"""

import collections
import concurrent.futures
import multiprocessing

# Blocks queued per worker: one running, one waiting, so a worker never idles
# while the main process writes.
IN_FLIGHT_PER_WORKER = 2

_WORKER_MAKER = []


def _init_worker(maker):
    maker.setup()
    _WORKER_MAKER.append(maker)


def _run(block):
    return _WORKER_MAKER[0](block)


def _map_in_process(blocks, maker):
    """One process, two stages: a thread tokenizes the next block (TensorFlow
    releases the GIL in its kernels) while this one builds the current block."""
    maker.setup()
    with concurrent.futures.ThreadPoolExecutor(1) as tokenizer:
        pending = collections.deque()
        for block in blocks:
            pending.append((block, tokenizer.submit(maker.tokenize, block)))
            if len(pending) > 1:
                done, tokenized = pending.popleft()
                yield maker(done, tokenized.result())
        while pending:
            done, tokenized = pending.popleft()
            yield maker(done, tokenized.result())


class BlockMapper:
    """`maker` over blocks on `num_workers` processes (<= 1: this process).

    The worker processes start (and import TensorFlow) as soon as the mapper is
    made, so that they get ready while the caller does its own setup.
    """

    def __init__(self, maker, num_workers=1):
        self.maker, self.num_workers = maker, num_workers
        self._pool = None
        if num_workers > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(num_workers, initializer=_init_worker,
                                      initargs=(maker,))

    def map(self, blocks):
        """Yields `maker(block)` for each block, in order."""
        if self._pool is None:
            yield from _map_in_process(blocks, self.maker)
            return
        pending = collections.deque()
        for block in blocks:
            pending.append(self._pool.apply_async(_run, (block,)))
            if len(pending) >= IN_FLIGHT_PER_WORKER * self.num_workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def close(self):
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def map_blocks(blocks, maker, num_workers=1):
    """Yields `maker(block)` for each block, in order (see `BlockMapper`)."""
    with BlockMapper(maker, num_workers) as mapper:
        yield from mapper.map(blocks)
