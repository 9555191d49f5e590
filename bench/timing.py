"""Timing one small step many times, for the benches that compare single operations."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def run_times(step: Callable[[], object], runs: int) -> list[float]:
    """``step`` run ``runs`` times: each run's wall time in microseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def median_p95(times: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile (nearest rank) of ``times``."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(step: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 in microseconds of ``runs`` runs of ``step``."""
    return median_p95(run_times(step, runs))
