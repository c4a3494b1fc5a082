"""Runs a block maker over a stream of blocks, in order, on worker processes.

Results come back in block order whatever the number of workers, so the
output of a seeded run is byte-identical for any `num_workers`. At most
`2 * num_workers` blocks are in flight: reading stops while the workers are
behind, so memory stays bounded by the block size, not the corpus size.

Workers are spawned, not forked: TensorFlow's threads do not survive a fork.
Each worker builds its own tokenizer once (`maker.setup()`).

Example:

    for result in map_blocks(iter_blocks(files, 1 << 20), maker, num_workers=2):
        writer.write(result.blob, result.lengths)
"""

import collections
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


def map_blocks(blocks, maker, num_workers=1):
    """Yields `maker(block)` for each block, in order, computed by `num_workers` processes.

    `num_workers <= 1` runs in this process.
    """
    if num_workers <= 1:
        maker.setup()
        for block in blocks:
            yield maker(block)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(num_workers, initializer=_init_worker, initargs=(maker,)) as pool:
        pending = collections.deque()
        for block in blocks:
            pending.append(pool.apply_async(_run, (block,)))
            if len(pending) >= IN_FLIGHT_PER_WORKER * num_workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
