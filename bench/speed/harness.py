"""Interleaved timing of several sides in one process, settings groups, best-per-side tables.

An `Entry` is one side (ours, keras-hub, HF PyTorch) in one setting (precision,
XLA). Its `builder()` builds and warms up the model and returns
`(run, release)`: `run()` times one repetition and returns a list of seconds
(one value for a training or generation repetition, one per call for serving).

`interleave(entries, repeats)` builds every entry, then runs repetition r of
each in a rotated order (A B C, B C A, C A B, ...), so slow spells of the
shared machine fall on every side alike. `compare(...)` runs one such group
per setting, then, unless told not to, a final group of each side's best
setting (its fastest repetition decides), rebuilt, whose medians give the
headline ratios.
"""

import gc
import time
import traceback

import numpy as np

from bench.speed import common

FAMILIES = ("ours", "keras-hub", "HF PyTorch")


class Entry:
    """One side in one setting. `work` = tokens (or calls) per measured value."""

    def __init__(self, family, side, setting, builder, work=1.0, **meta):
        self.family, self.side, self.setting = family, side, setting
        self.builder, self.work, self.meta = builder, work, meta
        self.samples, self.error, self.build_seconds = [], None, None
        self.group = setting  # entries of one interleaved group compare with each other
        self._run = self._release = None

    @property
    def label(self):
        return f"{self.side} [{self.setting}]"

    def clone(self):
        return Entry(self.family, self.side, self.setting, self.builder, self.work, **self.meta)

    def build(self):
        start = time.perf_counter()
        try:
            self._run, self._release = self.builder()
        except Exception as e:  # noqa: BLE001  (one failing side must not stop the others)
            traceback.print_exc()
            self.error = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            print(f"  {self.label}: FAILED to build: {self.error}", flush=True)
            return
        self.build_seconds = time.perf_counter() - start
        print(f"  {self.label}: built + warm-up {self.build_seconds:.1f} s", flush=True)

    def run(self):
        try:
            values = self._run()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            self.error = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            print(f"  {self.label}: FAILED: {self.error}", flush=True)
            return []
        self.samples.extend(values)
        return values

    def release(self):
        if self._release:
            try:
                self._release()
            except Exception:  # noqa: BLE001
                traceback.print_exc()
        self._run = self._release = None
        gc.collect()

    # ---------------------------------------------------------- figures

    def rates(self):
        """Work per second of every measured value (tokens/s, calls/s)."""
        return [self.work / s for s in self.samples]

    def rate_stats(self):
        return common.summarize(self.rates()) if self.samples else None


def interleave(entries, repeats, title):
    """Builds `entries`, runs `repeats` rotated rounds, releases them; returns the entries."""
    print(f"\n== {title} ==", flush=True)
    common.check_pressure("before building")
    for entry in entries:
        entry.build()
    live = [e for e in entries if e.error is None]
    # One untimed round after every build: tracing a new tf.function makes the runtime
    # re-instantiate the functions already built on their next call (measured: 13.7 s
    # for the first call of a warmed-up Trainer step after another model was traced).
    for entry in live:
        entry.run()
        entry.samples.clear()
    common.check_pressure("before timing")
    for r in range(repeats):
        order = live[r % len(live):] + live[:r % len(live)] if live else []
        parts = []
        for entry in order:
            if entry.error is not None:
                continue
            values = entry.run()
            if values:
                parts.append(f"{entry.label} {np.median(values):.3f}s")
        print(f"  round {r + 1}/{repeats}: " + "; ".join(parts), flush=True)
    common.check_pressure("after timing")
    for entry in entries:
        entry.release()
    _release_tf()
    return entries


def _release_tf():
    import keras
    keras.backend.clear_session()
    gc.collect()


def best_per_family(entries, key):
    """`{family: entry}` with the highest `key(entry)` among entries that ran."""
    best = {}
    for entry in entries:
        if entry.error is not None or not entry.samples:
            continue
        if entry.family not in best or key(entry) > key(best[entry.family]):
            best[entry.family] = entry
    return best


def compare(groups, repeats, title, final=True):
    """Runs each `(setting_title, entries)` group, then the best of each family together.

    Returns `(all_entries, final_entries)`; `final_entries` is empty when no
    final group was run (one group only, or `final=False`).
    """
    ran = []
    for setting_title, entries in groups:
        for entry in entries:
            entry.group = setting_title
        ran += interleave(entries, repeats, f"{title}: {setting_title}")
    # The fastest repetition picks each side's setting: on a shared machine a slow
    # repetition measures the neighbours, and the groups ran at different times.
    best = best_per_family(ran, lambda e: e.rate_stats()["max"])
    finals = []
    if final and len(groups) > 1 and len(best) > 1:
        finals = [best[f].clone() for f in FAMILIES if f in best]
        for entry in finals:
            entry.group = "final"
        interleave(finals, repeats, f"{title}: each side's best setting, head to head")
    return ran, finals


# ---------------------------------------------------------------- tables

def ratio(a, b):
    return a / b if a and b else float("nan")


def _range(s):
    return f"{common.fmt(s['median'])} ({common.fmt(s['min'])}-{common.fmt(s['max'])})"


def failed_row(entry, blanks):
    """A table row for an entry without samples: its error, then `blanks` empty cells."""
    return [entry.side, entry.setting,
            f"failed: {entry.error}" if entry.error else "no samples"] + [""] * blanks


def group_figures(entries, figure):
    """`{id(entry): {family: figure(peer)}}` over the peers in each entry's group that ran."""
    by_group = {}
    for e in entries:
        if e.error is None and e.samples:
            by_group.setdefault(e.group, {})[e.family] = figure(e)
    return {id(e): by_group.get(e.group, {}) for e in entries}


def throughput_table(entries, extras=(), unit="tok/s"):
    """Every entry: median rate (min-max), ratios to keras-hub and HF in the SAME group.

    `extras`: `(header, fn(entry, median_rate) -> str)` columns appended to each row.
    """
    medians = group_figures(entries, lambda e: e.rate_stats()["median"])
    rows = []
    for e in entries:
        if e.error is not None or not e.samples:
            rows.append(failed_row(e, 2 + len(extras)))
            continue
        s = e.rate_stats()
        peers = medians[id(e)]
        rows.append([e.side, e.setting, _range(s),
                     common.fmt(ratio(s["median"], peers.get("keras-hub")), 2),
                     common.fmt(ratio(s["median"], peers.get("HF PyTorch")), 2)]
                    + [fn(e, s["median"]) for _, fn in extras])
    header = ["side", "setting", f"{unit} median (min-max)", "x keras-hub (same setting)",
              "x HF (same setting)"] + [h for h, _ in extras]
    return common.markdown_table(header, rows)


def headline(entries, finals, extras=(), unit="tok/s"):
    """Best setting per family with ratios; from the final group when there is one."""
    best = best_per_family(finals or entries, lambda e: e.rate_stats()["median"])
    if not best:
        return ["No side produced a result."]
    medians = {f: e.rate_stats()["median"] for f, e in best.items()}
    rows = []
    for family in FAMILIES:
        if family not in best:
            continue
        e = best[family]
        s = e.rate_stats()
        rows.append([family, f"{e.side} [{e.setting}]",
                     f"{_range(s)}, spread {100 * s['spread']:.0f}%",
                     common.fmt(ratio(s["median"], medians.get("keras-hub")), 2),
                     common.fmt(ratio(s["median"], medians.get("HF PyTorch")), 2)]
                    + [fn(e, s["median"]) for _, fn in extras])
    header = ["side", "best setting", f"{unit} median (min-max, spread)", "x keras-hub best",
              "x HF best"] + [h for h, _ in extras]
    where = ("head to head: each side's best setting rebuilt and interleaved" if finals
             else "best medians of the setting groups")
    return [f"Best per side ({where}):", ""] + common.markdown_table(header, rows)


def throughput_lines(entries, finals, extras=()):
    """The headline table, then every setting's row: the body of a throughput block."""
    return (headline(entries, finals, extras)
            + ["", "Every setting (ratios within its interleaved group):", ""]
            + throughput_table(entries + finals, extras))


def flops_extras(flops_per_token, ceilings):
    """`% bf16 ceiling` and model GFLOP/s columns for a tokens/s rate."""
    bf16 = ceilings["bfloat16"]
    return [("% bf16 ceiling", lambda e, rate: f"{100 * rate * flops_per_token / 1e9 / bf16:.1f}%"),
            ("model GFLOP/s", lambda e, rate: common.fmt(rate * flops_per_token / 1e9, 0))]
