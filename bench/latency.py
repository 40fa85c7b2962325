"""Latency: a steady stream of first messages; push to acknowledgement, as the fake sees it."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
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
from tests.fakes.telegram import FakeTelegram

log = logging.getLogger(__name__)

WARM_UP = 50


@dataclass(frozen=True, slots=True)
class Latency:
    """Acknowledgement latencies at a steady rate, in milliseconds."""

    rate: float  # asked for, messages a second
    seconds: float
    achieved_rate: float  # what the pacing loop actually pushed
    max_push_lag_ms: float  # how far behind its schedule the pacing loop ever was
    samples: list[float]

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile."""
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def paced_push(
    tg: FakeTelegram, rate: float, seconds: float
) -> tuple[dict[int, float], float]:
    """Push one new citizen's message every 1/rate s on an absolute schedule (no drift).

    Returns push times by chat id and the worst lag behind the schedule.
    """
    total = int(rate * seconds)
    first = FIRST_CITIZEN + WARM_UP
    pushed: dict[int, float] = {}
    lag = 0.0
    start = time.monotonic() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pushed.update(push_citizens(tg, first + i, 1))
        lag = max(lag, pushed[first + i] - due)
    return pushed, lag


async def bench_latency(rate: float, seconds: float, workdir: Path) -> Latency:
    """Warm up with a few messages, then a steady `rate` for `seconds`; every ack timed."""
    async with fake_telegram() as tg:
        proc = await spawn_desk(tg, workdir / f"latency-{time.monotonic_ns()}.sqlite3", workdir)
        try:
            await wait_ready(tg, proc)
            push_citizens(tg, FIRST_CITIZEN, WARM_UP)
            await until(lambda: citizens_answered(tg) >= WARM_UP, 60, "warm-up acks", proc)
            log.info("latency: %.0f messages/s for %.0f s", rate, seconds)
            pushed, lag = await paced_push(tg, rate, seconds)
            expected = WARM_UP + len(pushed)
            await until(lambda: citizens_answered(tg) >= expected, 120, "every ack", proc)
        finally:
            await proc.stop()
    acked: dict[int, float] = {}
    for request in tg.calls("sendMessage"):
        chat_id = int(request.params.get("chat_id", 0))
        if chat_id in pushed and chat_id not in acked:
            acked[chat_id] = request.at
    if len(acked) != len(pushed):
        raise BenchError(f"{len(pushed) - len(acked)} of {len(pushed)} messages got no ack")
    times = sorted(pushed.values())
    span = times[-1] - times[0]
    return Latency(
        rate=rate,
        seconds=seconds,
        achieved_rate=(len(times) - 1) / span if span > 0 else float(len(times)),
        max_push_lag_ms=1000 * lag,
        samples=[1000 * (acked[c] - pushed[c]) for c in pushed],
    )
