"""Client of the PyTorch peer (`torch_peer.py`, run by `--torch_python`)."""

import json
import os
import subprocess
import sys


SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_peer.py")


class PeerError(RuntimeError):
    pass


class TorchPeer:
    """One long-lived subprocess; `request(cmd=..., ...)` sends a command, returns its reply."""

    def __init__(self, python, threads, omp_wait="passive"):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        if omp_wait != "default":
            # libgomp's threads spin-wait for each other by default: on this shared 2-vCPU
            # machine that made 2-thread generate 4-8x slower than PASSIVE (1 thread: no effect).
            env["OMP_WAIT_POLICY"] = omp_wait.upper()
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen([python, SERVER, str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=sys.stderr, text=True, env=env)
        self.versions = self._read()
        self.versions["omp_wait"] = env.get("OMP_WAIT_POLICY", "default")

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise PeerError(f"the PyTorch peer exited (status {self.proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise PeerError(reply["error"])
        return reply

    def request(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.request(cmd="quit")
            except (PeerError, BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_PEER = {}


def get(args):
    """The process's peer, started on first use; None with --no-torch or no --torch_python."""
    if args.no_torch:
        return None
    if "peer" not in _PEER:
        if not os.path.exists(args.torch_python):
            print(f"no PyTorch peer: --torch_python={args.torch_python} not found (a Python "
                  "with torch and transformers; --no-torch to skip the peer)", flush=True)
            _PEER["peer"] = None
        else:
            _PEER["peer"] = TorchPeer(args.torch_python, args.threads, args.torch_omp_wait)
            v = _PEER["peer"].versions
            print(f"PyTorch peer: torch {v['torch']}, transformers {v['transformers']}, "
                  f"{v['threads']} thread(s), OMP_WAIT_POLICY={v['omp_wait']}", flush=True)
    return _PEER["peer"]


def versions():
    peer = _PEER.get("peer")
    return peer.versions if peer else None


def close():
    peer = _PEER.pop("peer", None)
    if peer:
        peer.close()


_NAMES = {"n": 0}


def builder(args, task, spec, run_cmd, warmup, warmup_repeats=1):
    """An `Entry.builder` for the PyTorch peer: builds `task` there, times `run_cmd`."""

    def build():
        peer = get(args)
        if peer is None:
            raise PeerError("the PyTorch peer is not available")
        _NAMES["n"] += 1
        name = f"{task}-{_NAMES['n']}"
        peer.request(cmd="build", name=name, task=task, warmup=warmup,
                     warmup_repeats=warmup_repeats, **spec)

        def run():
            reply = peer.request(cmd="run", name=name, **run_cmd)
            return reply["latencies"] if "latencies" in reply else [reply["seconds"]]

        return run, lambda: peer.request(cmd="drop", name=name)

    return build
