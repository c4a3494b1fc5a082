"""`kill -9` of `create_pretraining_data` at seeded points, then a rerun of the same command.

Kill points: a seeded share of the reference run's time (same worker count)
from the creation of its `.partial` files to its commit (halved and retried in a fresh folder if a
loaded machine lets the job commit first); then, with 1 worker, the rerun is
killed again the moment its first final shard name appears (during or just
after the commit; run once more if shards are left unrenamed); with 2 workers
it runs to completion. Checked on every poll (every
few ms) while the jobs run and after they die: a file under a final shard name
is complete (byte-identical to the same shard of an uninterrupted run);
unfinished work only exists as `.<name>.partial`. The rerun over the killed
job's leftovers ends with shards byte-identical to the uninterrupted run and
no `.partial` file; the killed job's worker processes exit by themselves.
"""

import json
import os
import random
import sys
import time

import pytest

from tests.reliability import faults
from tests.reliability.faults import jobs  # noqa: F401  (cleanup)
from tests.tfrecords import helpers
from tfrecords import reader
from tfrecords.shards import partial_path, shard_paths

NUM_SHARDS, SEQ, PREDICTIONS = 3, 32, 5
SEEDS = {1: 11, 2: 12}  # of the kill point's share of the writing time, per worker count
ATTEMPTS = 3


def command(inputs, output_dir, num_workers, **extra):
    flags = dict(input_file=inputs["corpus"], vocab_file=inputs["vocab"], output_dir=output_dir,
                 num_shards=NUM_SHARDS, num_workers=num_workers, max_seq_length=SEQ,
                 max_predictions_per_seq=PREDICTIONS, dupe_factor=3, block_bytes=20_000,
                 random_seed=7, progress=False, **extra)
    return [sys.executable, "-m", "tfrecords.create_pretraining_data"] + [
        f"--{k}={v}" for k, v in flags.items()]


class FinalNameWatcher:
    """On each call, checks the output folder: final names hold complete shards.

    `expected` maps final names to their bytes (None: any bytes, for the
    reference run); other files may only be the `.partial` files of those names.
    """

    def __init__(self, folder, expected):
        self.folder, self.expected = folder, expected
        self.partials = {os.path.basename(partial_path(n)) for n in expected}
        self.seen_complete = set()
        self.started = self.committed = None  # monotonic times of the first files

    def __call__(self):
        names = os.listdir(self.folder) if os.path.isdir(self.folder) else []
        if names and self.started is None:
            self.started = time.monotonic()
        for name in names:
            assert name in self.expected or name in self.partials, f"unexpected file {name}"
            if name in self.expected and name not in self.seen_complete:
                self.committed = self.committed or time.monotonic()
                self.seen_complete.add(name)
                if self.expected[name] is None:
                    continue
                with open(os.path.join(self.folder, name), "rb") as f:
                    data = f.read()
                assert data == self.expected[name], (
                    f"{name} appeared under its final name with {len(data)} bytes, "
                    f"not the {len(self.expected[name])} of the complete shard")

    def writing(self):
        return self.started is not None

    def any_final(self):
        return self.committed is not None


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted runs: the shards' bytes (the same for 1 and 2 workers) and, per
    worker count, the seconds from the creation of the .partial files to the commit."""
    folder = tmp_path_factory.mktemp("creation")
    inputs = {"vocab": helpers.write_vocab(folder),
              "corpus": helpers.write_corpus(folder, num_docs=4500, seed=3)}
    shards, seconds = {}, {}
    for num_workers in (1, 2):
        out = str(folder / f"reference-{num_workers}")
        summary = str(folder / f"summary-{num_workers}.json")
        paths = shard_paths(out, "bert", NUM_SHARDS)
        watcher = FinalNameWatcher(out, {os.path.basename(p): None for p in paths})
        log = folder / f"reference-{num_workers}.log"
        process = faults.start(command(inputs, out, num_workers, summary_json=summary), log)
        while process.poll() is None:
            watcher()
            time.sleep(faults.POLL_SECONDS)
        assert process.returncode == 0, log.read_text()[-3000:]
        assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in paths)
        seconds[num_workers] = watcher.committed - watcher.started
        written = {os.path.basename(p): open(p, "rb").read() for p in paths}
        assert written == shards.setdefault("bytes", written), "differs with 2 workers"
    records = json.load(open(summary))["records"]
    # Every record parses with Google's schema (and is read exactly once).
    ds = reader.bert_pretraining_dataset(paths, 512, SEQ, PREDICTIONS, is_training=False)
    assert sum(len(batch["input_ids"]) for batch in ds) == records > 40_000
    return inputs, shards["bytes"], seconds


def kill_while_writing(args, folder, expected, share, log):
    """Kills the job `share` of the reference's writing time in; returns (process, folder)."""
    for attempt in range(ATTEMPTS):
        out = f"{folder}-{attempt}"
        watcher = FinalNameWatcher(out, expected)
        process = faults.start(args(out), log)
        faults.kill_when(process, watcher.writing, share / 2 ** attempt, on_poll=watcher)
        if process.returncode == -9 and not watcher.seen_complete:
            return process, out
        faults.wait_for_session_to_end(process.pid)
    pytest.fail(f"the job committed before every kill point ({ATTEMPTS} tries)")


@pytest.mark.parametrize("num_workers, last_run", [(1, "killed at the commit"),
                                                  (2, "to completion")])
def test_kill_9_never_leaves_a_partial_final_shard_and_the_rerun_is_identical(
        reference, tmp_path, num_workers, last_run):
    inputs, expected, writing_seconds = reference
    args = lambda out: command(inputs, out, num_workers)  # noqa: E731
    delay = random.Random(SEEDS[num_workers]).uniform(0.2, 0.8) * writing_seconds[num_workers]
    killed, out = kill_while_writing(args, str(tmp_path / "out"), expected, delay,
                                     tmp_path / "killed.log")
    assert os.listdir(out), "the killed job left nothing to resume over"

    # The same command again, over the killed job's .partial files.
    watcher = FinalNameWatcher(out, expected)
    rerun = faults.start(args(out), tmp_path / "rerun.log")
    if last_run == "killed at the commit":
        faults.kill_when(rerun, watcher.any_final, on_poll=watcher)
        watcher()
        if sorted(os.listdir(out)) != sorted(expected):  # Killed between two renames.
            assert rerun.returncode == -9 and watcher.seen_complete
            rerun = faults.start(args(out), tmp_path / "rerun-2.log")
    while rerun.poll() is None:
        watcher()
        time.sleep(faults.POLL_SECONDS)
    assert rerun.returncode in (0, -9), (tmp_path / "rerun.log").read_text()[-3000:]
    watcher()
    assert watcher.seen_complete == set(expected)
    assert sorted(os.listdir(out)) == sorted(expected), "leftover .partial files"
    left = faults.wait_for_session_to_end(killed.pid)
    assert not left, f"processes of the killed job still running: {left}"
