"""Paired, alternating measurements: a ratio per pair, then the median and spread of the ratios.

The machine's load moves absolute times; a ratio of two runs made back to back (their order
swapped every pair) moves much less. Every benchmark here prints its figures through `report`.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Paired:
    label: str
    ratios: list[float]
    subject: list[float]
    floor: list[float]

    def line(self, unit: str = "s", scale: float = 1.0) -> str:
        ratios = sorted(self.ratios)
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios * 3)
        return (
            f"{self.label:<44} ratio {statistics.median(ratios):5.2f}x"
            f"  (IQR {q1:.2f}-{q3:.2f}, min {ratios[0]:.2f}, max {ratios[-1]:.2f}, n={len(ratios)})"
            f"  median {statistics.median(self.subject) * scale:.1f} {unit}"
            f" vs floor {statistics.median(self.floor) * scale:.1f} {unit}"
        )


def paired(
    label: str,
    subject: Callable[[], float],
    floor: Callable[[], float],
    pairs: int,
    *,
    warmup: int = 1,
) -> Paired:
    """Run `subject` and `floor` `pairs` times each, alternating which goes first.

    Each callable returns its own measure (seconds, or a rate); the ratio is subject/floor, so
    for times above 1.0 is slower than the floor, and for rates above 1.0 is faster.
    """
    for _ in range(warmup):
        subject()
        floor()
    ratios, subjects, floors = [], [], []
    for index in range(pairs):
        if index % 2:
            b = floor()
            a = subject()
        else:
            a = subject()
            b = floor()
        subjects.append(a)
        floors.append(b)
        ratios.append(a / b)
    return Paired(label, ratios, subjects, floors)


class CpuTally:
    """CPU seconds, recorded beside the wall-clock measure `paired` times, for a second ratio.

    On a loaded machine a run's wall time counts the time other processes held the CPUs; its CPU
    time (`resource.getrusage` of the child, `time.process_time` of this process) hardly moves
    with load, so its ratio shows a change that the wall-clock ratio's spread would hide. Call
    `record(side, seconds)` from inside each measured callable; `paired_line` pairs them in the
    order `paired` made them (the warm-up runs dropped)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {"subject": [], "floor": []}

    def record(self, side: str, seconds: float) -> None:
        self.seconds[side].append(seconds)

    def paired(self, label: str, warmup: int = 1) -> Paired:
        subject, floor = self.seconds["subject"][warmup:], self.seconds["floor"][warmup:]
        return Paired(label, [a / b for a, b in zip(subject, floor, strict=True)], subject, floor)


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average: unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
