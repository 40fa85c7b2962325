"""Soak: always-new citizens at a steady rate for minutes; how RSS grows per thousand of them.

State kept per citizen or chat must be forgotten once they go quiet, or a year's citizens (or one
storm's hundred thousand) pile up in memory. After a warm-up long enough for every such
structure to reach its steady size, RSS is sampled while new citizens keep coming; the slope
of RSS over citizens served is the growth per thousand (flat, within noise, is the target).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.world import (
    FIRST_CITIZEN,
    BenchError,
    citizens_answered,
    fake_telegram,
    push_citizens,
    spawn_desk,
    until,
    wait_ready,
)

log = logging.getLogger(__name__)

SAMPLE_EVERY = 5.0  # seconds


@dataclass(slots=True)
class Soak:
    """RSS of the desk against the number of new citizens served so far."""

    rate: float
    warm_up: float
    seconds: float
    samples: list[tuple[int, int]] = field(default_factory=list)  # (citizens pushed, RSS KiB)
    answered: int = 0
    pushed: int = 0

    @property
    def kib_per_thousand(self) -> float:
        """Least-squares slope of RSS over citizens, in KiB per 1,000 citizens."""
        n = len(self.samples)
        if n < 2:
            return float("nan")
        xs = [float(x) for x, _ in self.samples]
        ys = [float(y) for _, y in self.samples]
        mx, my = sum(xs) / n, sum(ys) / n
        var = sum((x - mx) ** 2 for x in xs)
        cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
        return 1000 * cov / var if var else float("nan")

    @property
    def second_half_kib_per_thousand(self) -> float:
        """RSS growth over the later half of the citizens measured, in KiB per 1,000.

        A one-off step (SQLite's page cache filling to its bound, the allocator taking a new
        arena) shows in the slope over the whole run; growth per citizen shows in both halves.
        """
        if len(self.samples) < 3:
            return float("nan")
        middle = self.samples[0][0] + self.measured_citizens / 2
        start = next(s for s in self.samples if s[0] >= middle)
        end = self.samples[-1]
        return 1000 * (end[1] - start[1]) / (end[0] - start[0]) if end[0] > start[0] else 0.0

    @property
    def measured_citizens(self) -> int:
        return self.samples[-1][0] - self.samples[0][0] if self.samples else 0


async def bench_soak(rate: float, warm_up: float, seconds: float, workdir: Path) -> Soak:
    """`rate` new citizens a second: `warm_up` seconds, then `seconds` with RSS sampled."""
    result = Soak(rate, warm_up, seconds)
    async with fake_telegram() as tg:
        proc = await spawn_desk(tg, workdir / f"soak-{time.monotonic_ns()}.sqlite3", workdir)
        try:
            await wait_ready(tg, proc)
            log.info("soak: %.0f new citizens/s, %.0f s warm-up, %.0f s measured",
                     rate, warm_up, seconds)
            start = time.monotonic() + 0.05
            measure_from = start + warm_up
            next_sample = measure_from
            total = int(rate * (warm_up + seconds))
            for i in range(total):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                push_citizens(tg, FIRST_CITIZEN + i, 1)
                result.pushed = i + 1
                if time.monotonic() >= next_sample:
                    result.samples.append((result.pushed, proc.status_kib("VmRSS")))
                    next_sample += SAMPLE_EVERY
                if proc.failed():
                    raise BenchError(f"the desk exited during the soak:\n{proc.log_tail()}")
            await until(lambda: citizens_answered(tg) >= result.pushed, 120, "every ack", proc)
            result.samples.append((result.pushed, proc.status_kib("VmRSS")))
            result.answered = citizens_answered(tg)
        finally:
            await proc.stop()
    log.info("soak: %d citizens measured, RSS %+.0f KiB per 1,000 (%+.0f over the later half)",
             result.measured_citizens, result.kib_per_thousand,
             result.second_half_kib_per_thousand)
    return result
