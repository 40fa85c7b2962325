"""Throughput: N citizens write at once; Frontdesk against a bare aiogram echo bot."""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bench.world import (
    FIRST_CITIZEN,
    STAFF_CHAT,
    BenchError,
    citizens_answered,
    fake_telegram,
    push_citizens,
    spawn_desk,
    spawn_echo,
    until,
    wait_ready,
)

if TYPE_CHECKING:
    from tests.fakes.telegram import FakeTelegram

log = logging.getLogger(__name__)

Kind = Literal["desk", "echo"]


@dataclass(frozen=True, slots=True)
class Run:
    """One burst handled by one bot."""

    kind: Kind
    updates: int
    seconds: float  # from the first push to the last expected message arriving at the fake
    cpu_seconds: float  # the bot process's CPU over the same span
    fake_cpu_seconds: float  # this process's CPU (the fake server, mostly) over the same span
    startup: float  # seconds from spawn to the first getUpdates
    citizens_answered: int  # distinct citizens who got a message back
    cards: int  # messages in the staff chat

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms_per_update(self) -> float:
        return 1000 * self.cpu_seconds / self.updates

    @property
    def fake_busy(self) -> float:
        """Share of the span the fake server's process was on a CPU: near 1, it was the limit."""
        return self.fake_cpu_seconds / self.seconds


@dataclass(frozen=True, slots=True)
class Throughput:
    """Alternating runs of both bots; medians compared."""

    runs: list[Run]

    def median(self, kind: Kind) -> float:
        return statistics.median(r.rate for r in self.runs if r.kind == kind)

    @property
    def ratio(self) -> float:
        return self.median("desk") / self.median("echo")


async def measure(kind: Kind, citizens: int, workdir: Path) -> Run:
    """Start the bot idle, push `citizens` first messages at once, wait for every answer."""
    expected_cards = citizens if kind == "desk" else 0
    async with fake_telegram() as tg:
        if kind == "desk":
            proc = await spawn_desk(tg, workdir / f"desk-{time.monotonic_ns()}.sqlite3", workdir)
        else:
            proc = await spawn_echo(tg, workdir)
        try:
            startup = await wait_ready(tg, proc)
            await asyncio.sleep(0.3)  # let start-up work (the first sweep) finish
            cpu_before, fake_before = proc.cpu_seconds(), time.process_time()
            started = time.monotonic()
            push_citizens(tg, FIRST_CITIZEN, citizens)
            await until(
                lambda: citizens_answered(tg) >= citizens
                and ticket_cards(tg) >= expected_cards,
                max(60.0, citizens / 20), f"{citizens} answers and {expected_cards} cards",
                proc,
            )
            cpu = proc.cpu_seconds() - cpu_before
            fake_cpu = time.process_time() - fake_before
        finally:
            code = await proc.stop()
        if code != 0:
            raise BenchError(f"{kind} bot exited with {code}:\n{proc.log_tail()}")
        records = tg.sent()
        answered = {r["chat_id"] for r in records if r["chat_id"] > 0}
        return Run(
            kind=kind,
            updates=citizens,
            seconds=max(r["at"] for r in records) - started,
            cpu_seconds=cpu,
            fake_cpu_seconds=fake_cpu,
            startup=startup,
            citizens_answered=len(answered),
            cards=ticket_cards(tg),
        )


def ticket_cards(tg: FakeTelegram) -> int:
    """Cards in the staff chat: not the suggestion of an incident the citizens' one complaint
    makes (they all write of the same street lamp), nor anything else the desk says there."""
    return sum((r["message"].get("text") or "").count("Ответить до") for r in tg.sent(STAFF_CHAT))


async def bench_throughput(citizens: int, repeats: int, workdir: Path) -> Throughput:
    """echo, desk, echo, desk …: alternating, so drift on the machine hits both alike."""
    runs = []
    for round_ in range(1, repeats + 1):
        for kind in ("echo", "desk"):
            run = await measure(kind, citizens, workdir)
            log.info("throughput %d/%d %s: %.0f updates/s (%.2f s, %.2f ms CPU/update, "
                     "fake server busy %.0f%%)", round_, repeats, kind, run.rate, run.seconds,
                     run.cpu_ms_per_update, 100 * run.fake_busy)
            runs.append(run)
    return Throughput(runs)
