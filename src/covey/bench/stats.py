"""Latency and throughput figures. Pure functions, so the maths is tested without a server."""

from __future__ import annotations

import math
import resource
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by linear interpolation between closest ranks.

    The same definition as numpy's default (``method="linear"``): with sorted values ``v`` and
    rank ``r = p/100 · (n − 1)``, the answer lies between ``v[floor(r)]`` and ``v[ceil(r)]``.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is outside 0–100")
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds, rounded to 0.1 ms; zeros when nothing was measured."""
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def machine_cpu_seconds() -> float | None:
    """CPU seconds every core of this machine has spent busy since boot (Linux's /proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    import os

    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_ticks(name: str) -> dict[int, int]:
    """pid → user + system clock ticks of every process whose command name is ``name`` (Linux)."""
    from pathlib import Path

    found: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        command, _, rest = text.partition(" (")[2].rpartition(") ")
        if command == name:
            fields = rest.split()
            found[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
    return found


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float | None:
    """CPU seconds spent between two ``process_cpu_ticks`` snapshots (new processes count whole)."""
    if not after:
        return None
    import os

    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / os.sysconf("SC_CLK_TCK")


# --- memory (Linux) ---------------------------------------------------------------------------


def status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
