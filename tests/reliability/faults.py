"""Fault injection for the reliability tests: SIGKILL at chosen points, process cleanup.

- `start(args, log)`: a command in its own session (so that every process it
  spawns can be found, waited for and cleaned up), output to a log file.
- `kill_when(process, ready, delay)`: polls until `ready()` holds, waits
  `delay` seconds more (polling on), then SIGKILLs the process (not its
  children: the workers of a killed job are orphaned, as with `kill -9`).
- `wait_for_session_to_end(pid)`: every process of the killed job's session
  exits by itself (no orphaned workers are left behind).
- `jobs`: an autouse fixture (import it into a test module) that SIGKILLs
  whatever a failed test left running among the jobs it started.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.testing import REPO_ROOT

# Seconds between checks of the files a running job writes.
POLL_SECONDS = 0.005
_STARTED = []


def environment():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO_ROOT)


def start(args, log):
    """Starts `args` in a new session (its pid is the session id); output to `log`."""
    with open(log, "w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                                   env=environment(), start_new_session=True)
    _STARTED.append(process.pid)
    return process


@pytest.fixture(autouse=True)
def jobs():
    """Kills the sessions of the jobs a test started (only those) when it ends."""
    yield
    while _STARTED:
        for pid in session_processes(_STARTED.pop()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def kill_when(process, ready, delay=0.0, on_poll=None, timeout=300):
    """SIGKILLs `process` `delay` seconds after `ready()` first holds.

    `on_poll()` runs on every poll, before and after `ready()`. Returns True if
    the process was killed, False if it ended first.
    """
    deadline = time.monotonic() + timeout
    fire_at = None
    while process.poll() is None:
        if on_poll:
            on_poll()
        now = time.monotonic()
        if fire_at is None and ready():
            fire_at = now + delay
        if fire_at is not None and now >= fire_at:
            process.send_signal(signal.SIGKILL)
            process.wait()
            if on_poll:
                on_poll()
            return True
        assert now < deadline, "the job never reached the kill point"
        time.sleep(POLL_SECONDS)
    return False


def session_processes(session_id):
    """Pids of the live (not zombie) processes of a session."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":  # fields: state ppid pgrp session
            pids.append(int(name))
    return pids


def wait_for_session_to_end(session_id, timeout=120):
    """Returns the pids still alive after `timeout` s (and SIGKILLs them: cleanup)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = session_processes(session_id)
        if not left:
            return []
        time.sleep(0.1)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left
