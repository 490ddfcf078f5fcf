"""The harness the benchmark scripts share: interleaved rounds, medians, a verdict table.

Each side of a comparison is a function that runs once and returns its timed
phases in seconds (``{"forward": 0.4, "backward": 0.2}``). ``interleave`` runs
the sides back to back in every round, so a change in machine load hits them
alike; a ratio is taken round by round (``paired_ratios``) and its median
judged against a target by ``Check``.
"""
from __future__ import annotations

import gc
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

Phases = dict[str, float]
Samples = dict[str, dict[str, list[float]]]  # side -> phase -> seconds per round


def interleave(
    sides: dict[str, Callable[[], Phases]], rounds: int, gc_enabled: bool = True, warmup: int = 1
) -> Samples:
    """Run every side once per round, starting with a different one each round.

    The first ``warmup`` rounds are dropped. Before each run the collector is
    emptied (``gc.collect()``); with ``gc_enabled=False`` it stays off for the
    run, so only the interpreter's own work is timed.
    """
    names = list(sides)
    samples: Samples = {name: defaultdict(list) for name in names}
    for round_index in range(warmup + rounds):
        first = round_index % len(names)
        for name in names[first:] + names[:first]:
            phases = run_after_collect(sides[name], gc_enabled)
            if round_index >= warmup:
                for phase, seconds in phases.items():
                    samples[name][phase].append(seconds)
    return samples


def run_after_collect(run: Callable[[], Phases], gc_enabled: bool) -> Phases:
    """One run, starting from an empty collector, with the collector on or off."""
    gc.collect()
    if gc_enabled:
        return run()
    gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Seconds per call of ``fn``, over ``repeat`` calls in a row (results dropped inside)."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def per_call(fn: Callable[[], object], repeat: int = 1) -> Callable[[], Phases]:
    """A side for ``interleave`` whose one phase, "step", is ``timed(fn, repeat)``."""
    return lambda: {"step": timed(fn, repeat)}


def paired_ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """numerator / denominator round by round: runs of one round share the machine's load."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def spread(samples: list[float], unit: Callable[[float], str] | None = None) -> str:
    """The median with its interquartile range, e.g. ``12.3 ms [12.1 ms-12.9 ms]``."""
    unit = unit or format_seconds
    if len(samples) < 2:
        return unit(samples[0])
    q1, q2, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return f"{unit(q2)} [{unit(q1)}-{unit(q3)}]"


def format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(ratio: float) -> str:
    return f"{ratio:.4g}x"


@dataclass
class Check:
    """A ratio (median of per-round ratios) against a target: ``>= target`` or ``<=``."""

    name: str
    ratios: list[float]
    target: float
    at_least: bool = True

    @property
    def ratio(self) -> float:
        return median(self.ratios)

    @property
    def passed(self) -> bool:
        return self.ratio >= self.target if self.at_least else self.ratio <= self.target

    def row(self) -> list[str]:
        sign = ">=" if self.at_least else "<="
        verdict = "PASS" if self.passed else "FAIL"
        return [self.name, spread(self.ratios, format_ratio), f"{sign} {self.target:.3g}x", verdict]


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain-text table, columns padded to their widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for cells in (header, ["-" * w for w in widths], *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip())


def print_checks(checks: list[Check]) -> bool:
    """The verdict table; True when every check passed."""
    print_table("Targets (ratio: median [IQR] of per-round ratios)", ["check", "ratio", "target", "verdict"],
                [c.row() for c in checks])
    return all(c.passed for c in checks)
