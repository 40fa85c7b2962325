"""Benchmark of the escalation sweep: stores of 10k, 100k and 1M tickets, a few hundred due.

The sweep asks the store for due tickets through the `tickets_next_escalation` index, so its
cost should follow the number of due tickets, not the number stored. Stores are generated once
under bench/data/ (gitignored) and reused; the due tickets are reset before every timing.

    python -m bench.sweep            # the table
    python -m bench.sweep 10000      # one size
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time as clock
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.escalation import SWEEP_BATCH, escalate_due
from handlers.texts import Texts
from storage import SqliteStore
from storage.sql.rows import DUE_ESCALATIONS

DATA = Path(__file__).resolve().parent / "data"
MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Moscow
STAFF_CHAT = "-1001000000001"
CHUNK = 100_000
REPEATS = 5
_FORMAT = "v1"  # bump when the generated data changes

_COLUMNS = (
    "platform, channel, chat_id, conversation, citizen_id, citizen_name, summary, status, "
    "opened_at, waiting_since, deadline_at, first_answer_at, last_answer_at, closed_at, "
    "escalation_level, next_escalation_at, card_chat_id, card_message_id"
)
_INSERT = f"INSERT INTO tickets ({_COLUMNS}) VALUES ({', '.join('?' * 18)})"


def due_ids(size: int, due: int) -> list[int]:
    """Ticket ids that are due at NOW, spread evenly over the store."""
    step = max(size // due, 1)
    return [1 + k * step for k in range(min(due, size))]


def rows(size: int, due: int) -> Iterator[tuple[Any, ...]]:
    """Tickets as a region accumulates them: mostly closed, some answered, a few waiting."""
    now = NOW.timestamp()
    due_set = set(due_ids(size, due))
    for index in range(1, size + 1):
        opened = now - (size - index) * 30.0  # one every 30 s, the newest just now
        base = ("telegram", "direct", str(index), str(index), str(index), "Житель",
                "Не вывозят мусор во дворе дома")
        card = (STAFF_CHAT, str(index))
        if index in due_set:
            # Waiting, its deadline passed between a minute and a day ago.
            deadline = now - 60.0 * (1 + index % 1440)
            yield (*base, "open", opened, opened, deadline, None, None, None, 0, deadline, *card)
        elif index > size - size // 50:
            # The newest 2 %: waiting, deadlines still ahead.
            deadline = now + 3600.0 + index % 28_800
            yield (*base, "open", opened, opened, deadline, None, None, None, 0, deadline, *card)
        elif index % 10 == 0:
            # Answered, not closed yet.
            answered = opened + 3600.0
            yield (*base, "open", opened, None, None, answered, answered, None, 0, None, *card)
        else:
            answered = opened + 3600.0
            yield (*base, "closed", opened, None, None, answered, answered, answered + 60.0, 0,
                   None, *card)


async def open_store(size: int, due: int, data: Path) -> tuple[SqliteStore, float]:
    """The generated store of `size` tickets, built now if missing; and its build seconds."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"sweep-{size}.sqlite3"
    mark = f"{_FORMAT}:{size}:{due}"
    if path.exists():
        store = SqliteStore(path)
        await store.open()
        if await store.get_state("bench:sweep") == mark:
            return store, 0.0
        await store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = SqliteStore(path)
    await store.open()
    started = clock.perf_counter()
    generated = rows(size, due)
    while True:
        chunk = [row for _, row in zip(range(CHUNK), generated, strict=False)]
        if not chunk:
            break
        async with store.transaction():
            await store.db.executemany(_INSERT, chunk)
    await store.set_state("bench:sweep", mark)
    await store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    await store.db.execute("ANALYZE")
    return store, clock.perf_counter() - started


async def reset(store: SqliteStore, ids: list[int]) -> None:
    """Make the due tickets due again and forget the messages of the last run."""
    async with store.transaction():
        await store.db.executemany(
            "UPDATE tickets SET escalation_level = 0, next_escalation_at = deadline_at "
            "WHERE id = ?",
            [(ticket_id,) for ticket_id in ids],
        )
        await store.db.execute("DELETE FROM outbox")


async def query_plan(store: SqliteStore) -> str:
    """SQLite's plan for the store's own due-escalations statement: an index search."""
    async with store.db.execute(
        f"EXPLAIN QUERY PLAN {DUE_ESCALATIONS}", (NOW.timestamp(), SWEEP_BATCH),
    ) as cur:
        return "; ".join(str(row[-1]) for row in await cur.fetchall())


def uses_index(plan: str) -> bool:
    """The plan searches the next-escalation index up to now, without a scan or a sort.

    The bound matters: `next_escalation_at IS NOT NULL` alone also searches the index, from
    its start, and so reads every waiting ticket, due or not.
    """
    return (
        re.search(r"SEARCH tickets USING (COVERING )?INDEX tickets_next_escalation "
                  r"\([^)]*next_escalation_at<\?", plan) is not None
        and "SCAN" not in plan and "TEMP B-TREE" not in plan
    )


async def bench_one(
    size: int, due: int, data: Path, texts: Texts, calendar: WorkCalendar
) -> dict[str, Any]:
    store, build_s = await open_store(size, due, data)
    config = DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        escalation_chat_id="-1001000000002",
    )
    ids = due_ids(size, due)
    try:
        queries, sweeps, idle = [], [], []
        escalated = 0
        for _ in range(REPEATS):
            await reset(store, ids)
            started = clock.perf_counter()
            await store.due_escalations(NOW, SWEEP_BATCH)
            queries.append(clock.perf_counter() - started)
            started = clock.perf_counter()
            escalated = await escalate_due(store, texts, calendar, config, NOW)
            sweeps.append(clock.perf_counter() - started)
            started = clock.perf_counter()
            await escalate_due(store, texts, calendar, config, NOW)  # nothing due any more
            idle.append(clock.perf_counter() - started)
        plan = await query_plan(store)
    finally:
        await store.close()
    sweep_ms = statistics.median(sweeps) * 1000
    return {
        "tickets": size,
        "due": len(ids),
        "escalated": escalated,
        "build_s": round(build_s, 2),
        "query_ms": round(statistics.median(queries) * 1000, 2),
        "sweep_ms": round(sweep_ms, 1),
        "per_due_ms": round(sweep_ms / max(escalated, 1), 3),
        "idle_sweep_ms": round(statistics.median(idle) * 1000, 2),
        "uses_index": uses_index(plan),
    }


async def bench_sweep(
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), due: int = 300, *,
    data: Path = DATA,
) -> list[dict[str, Any]]:
    """Time the sweep (the due query and the escalations) over stores of each size."""
    texts = Texts("ru")
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    return [await bench_one(size, due, data, texts, calendar) for size in sizes]


def table(results: list[dict[str, Any]]) -> str:
    """The rows as a fixed-width table."""
    if not results:
        return ""
    names = list(results[0])
    widths = [max(len(n), *(len(str(r[n])) for r in results)) for n in names]
    lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True))]
    lines += [
        "  ".join(str(r[n]).rjust(w) for n, w in zip(names, widths, strict=True))
        for r in results
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    chosen = tuple(int(arg) for arg in sys.argv[1:]) or (10_000, 100_000, 1_000_000)
    print(table(asyncio.run(bench_sweep(chosen))))
