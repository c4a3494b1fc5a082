"""Progress line and final summary of the writer CLI (the script's output, not logging).

Example:

    progress = Progress(sys.stderr)
    progress.update(totals)            # totals: dict of counts so far
    progress.finish(totals)
    print(format_summary(summarize(totals, counts, paths, seconds)))
"""

import time

# Seconds between progress updates: on a terminal (one line redrawn) and in a
# log file (one line each, so a log stays short).
TTY_INTERVAL_S = 0.5
LOG_INTERVAL_S = 10.0
_MB = 1e6


def add_stats(totals, stats):
    """Adds a block's counts into `totals` (in place); returns it."""
    for key, value in stats.items():
        totals[key] = totals.get(key, 0) + value
    return totals


class Progress:
    """Records, tokens and input MB/s on one stderr line, throttled."""

    def __init__(self, stream, enabled=True):
        enabled = enabled and stream is not None
        self.stream, self.enabled = stream, enabled
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = self._last = time.monotonic()

    def _line(self, totals):
        seconds = max(time.monotonic() - self.start, 1e-9)
        megabytes = totals.get("input_bytes", 0) / _MB
        return (f"{totals.get('instances', 0):,} records, {totals.get('tokens', 0):,} tokens, "
                f"{megabytes:,.1f} MB read at {megabytes / seconds:,.2f} MB/s, "
                f"{totals.get('instances', 0) / seconds:,.0f} records/s, {seconds:,.1f} s")

    def update(self, totals):
        now = time.monotonic()
        if not self.enabled or now - self._last < (TTY_INTERVAL_S if self.tty else LOG_INTERVAL_S):
            return
        self._last = now
        self.stream.write(("\r" + self._line(totals) + "\033[K") if self.tty
                          else self._line(totals) + "\n")
        self.stream.flush()

    def finish(self, totals):
        if self.enabled:
            self.stream.write(("\r" if self.tty else "") + self._line(totals) + "\n")
            self.stream.flush()


def summarize(totals, counts, paths, seconds):
    """Counts -> a JSON-able summary: per-shard records, masking and NSP fractions."""
    summary = {
        "records": sum(counts), "seconds": round(seconds, 3),
        "records_per_second": round(sum(counts) / max(seconds, 1e-9), 1),
        "shards": [{"path": p, "records": c} for p, c in zip(paths, counts)],
    }
    summary.update(totals)
    real, masked = totals.get("real_tokens", 0), totals.get("masked", 0)
    if real:
        summary["masked_fraction"] = masked / real
    if masked:
        summary["mask_split"] = {k: totals[f"masked_{k}"] / masked
                                 for k in ("as_mask", "kept", "random")}
    if "random_next" in totals and totals.get("instances"):
        summary["random_next_fraction"] = totals["random_next"] / totals["instances"]
    return summary


def format_summary(summary):
    """Summary dict -> the text table the CLI prints at the end."""
    lines = [f"Wrote {summary['records']:,} records in {summary['seconds']:.1f} s "
             f"({summary['records_per_second']:,.0f} records/s) from "
             f"{summary.get('input_bytes', 0) / _MB:,.1f} MB of text, "
             f"{summary.get('documents', 0):,} documents:"]
    lines += [f"  {s['records']:>12,}  {s['path']}" for s in summary["shards"]]
    if "masked_fraction" in summary:
        lines.append(f"Masked tokens: {summary['masked_fraction']:.2%} of "
                     f"{summary['real_tokens']:,} real tokens ([CLS]/[SEP]/padding excluded)")
    if "mask_split" in summary:
        split = summary["mask_split"]
        lines.append(f"  replaced by [MASK] {split['as_mask']:.1%}, kept {split['kept']:.1%}, "
                     f"random token {split['random']:.1%}")
    if "random_next_fraction" in summary:
        lines.append(f"Next sentence: {summary['random_next_fraction']:.1%} random next, "
                     f"{1 - summary['random_next_fraction']:.1%} actual next")
    if summary.get("tail_tokens"):
        lines.append(f"Dropped {summary['tail_tokens']:,} tokens after the last full window")
    if summary.get("dropped_chars"):
        lines.append(f"Dropped {summary['dropped_chars']:,} characters missing from the vocab")
    return "\n".join(lines)
