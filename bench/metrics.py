"""Metrics: a /metrics scrape with a million tickets in the store (target < 50 ms), and what
METRICS_PORT costs a burst of citizens (target: under 5% of throughput).

The scrape is timed over HTTP against the real server (bot/metrics.py), on SQLite and, when
the test server is reachable, on PostgreSQL. The store holds what the figures read: a million
tickets (one in a hundred open, half of those waiting, some past their deadline), two sent
outbox rows and one handled inbox row each, and a few pending of both. It is filled by SQL in
the database itself (a few seconds), apart from bench/bigstore.py's full store, which the
figures do not need.

The throughput runs alternate: without METRICS_PORT, with it (scraped every second meanwhile,
a busier Prometheus than any), and so on; medians compared.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp

from bench.proc import BotProcess
from bench.throughput import ticket_cards
from bench.world import (
    FIRST_CITIZEN,
    BenchError,
    citizens_answered,
    desk_env,
    fake_telegram,
    push_citizens,
    until,
    wait_ready,
)
from bot.metrics import Monitoring
from storage import SqliteStore, store_from_url
from storage.base import Store
from tests.harness import installed

log = logging.getLogger(__name__)

SCRAPES = 50
PENDING_OUTBOX = 200
PENDING_INBOX = 20

# Rows as the desk writes them, made by the database from a series of numbers: tickets, then
# their outbox and inbox rows. `?` are the size and the time now (UNIX seconds).
_TICKETS = (
    "INSERT INTO tickets (id, platform, channel, chat_id, conversation, citizen_id, "
    "citizen_name, status, opened_at, waiting_since, deadline_at, first_answer_at, closed_at) "
    "SELECT n, 'telegram', 'direct', CAST(n AS TEXT), CAST(n AS TEXT), CAST(n AS TEXT), 'А', "
    "CASE WHEN n > {size} - {size} / 100 THEN 'open' ELSE 'closed' END, "
    "{now} - 86400.0 * 730 * ({size} - n) / {size}, "
    "CASE WHEN n > {size} - {size} / 100 AND n % 2 = 0 THEN {now} - 3600 END, "
    "CASE WHEN n > {size} - {size} / 100 AND n % 2 = 0 "
    "THEN {now} + CASE WHEN n % 10 = 0 THEN -600 ELSE 7200 END END, "
    "CASE WHEN n > {size} - {size} / 100 AND n % 2 = 0 THEN NULL ELSE {now} - 1 END, "
    "CASE WHEN n > {size} - {size} / 100 THEN NULL ELSE {now} - 1 END "
    "FROM {series}"
)
_OUTBOX = (
    "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, status, attempts, "
    "not_before, created_at) "
    "SELECT 'telegram', CAST(n / 2 AS TEXT), 'ack', n / 2, '{{}}', "
    "CASE WHEN n > 2 * {size} - {pending} THEN 'pending' ELSE 'sent' END, 1, {now}, "
    "{now} - 86400.0 * 730 * (2 * {size} - n) / (2 * {size}) FROM {series2}"
)
_INBOX = (
    "INSERT INTO inbox (platform, source, payload, received_at, done) "
    "SELECT 'telegram', 'telegram:' || CAST(n AS TEXT), '{{}}', "
    "{now} - 86400.0 * 730 * ({size} - n) / {size}, "
    "CASE WHEN n > {size} - {pending} THEN 0 ELSE 1 END FROM {series}"
)
SQLITE_SERIES = ("(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                 "WHERE n < {count}) SELECT n FROM s)")
PG_SERIES = "generate_series(1, {count}) AS s(n)"


@dataclass(slots=True)
class Scrapes:
    """Scrape times on one store, in milliseconds."""

    backend: str
    tickets: int
    fill_seconds: float
    times_ms: list[float] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def worst(self) -> float:
        return max(self.times_ms)


@dataclass(frozen=True, slots=True)
class Overhead:
    """Citizens' updates a second without METRICS_PORT and with it, each run, and the desk's
    CPU milliseconds per update: on a machine shared with other work the rate swings with
    the neighbours' load, the CPU an update costs much less."""

    off: list[float]
    on: list[float]
    cpu_off: list[float]
    cpu_on: list[float]

    @property
    def cost(self) -> float:
        """The share of throughput metrics cost (negative: none measurable)."""
        return 1 - statistics.median(self.on) / statistics.median(self.off)

    @property
    def cpu_cost(self) -> float:
        """The share of CPU per update metrics add."""
        return statistics.median(self.cpu_on) / statistics.median(self.cpu_off) - 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def statements(series: str, size: int, now: float) -> list[str]:
    one = series.format(count=size)
    two = series.format(count=2 * size)
    return [
        _TICKETS.format(size=size, now=now, series=one),
        _OUTBOX.format(size=size, now=now, pending=PENDING_OUTBOX, series2=two),
        _INBOX.format(size=size, now=now, pending=PENDING_INBOX, series=one),
    ]


def fill_sqlite(path: Path, size: int) -> None:
    import sqlite3  # noqa: PLC0415 - the bench's own bulk load, beside the store

    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN")
        for sql in statements(SQLITE_SERIES, size, time.time()):
            db.execute(sql)
        db.execute("COMMIT")
        db.execute("ANALYZE")
    finally:
        db.close()


async def fill_postgres(url: str, size: int) -> None:
    import asyncpg  # noqa: PLC0415

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            for sql in statements(PG_SERIES, size, time.time()):
                await conn.execute(sql)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def plans(store: Store, backend: str) -> list[str]:
    """The query plans of the figures' statement, to see every part goes by an index."""
    from storage.sql.figures import FIGURES  # noqa: PLC0415

    now = time.time()
    if backend == "sqlite":
        assert isinstance(store, SqliteStore)
        rows = await store._fetchall(f"EXPLAIN QUERY PLAN {FIGURES}", (now,))  # noqa: SLF001
        return [str(r[-1]) for r in rows]
    sql = f"EXPLAIN {FIGURES}"
    rows = await store._fetchall(sql, (now,))  # type: ignore[attr-defined]  # noqa: SLF001
    return [str(r[0]) for r in rows]


async def time_scrapes(store: Store, result: Scrapes) -> Scrapes:
    monitoring = Monitoring(store, "127.0.0.1", free_port())
    await monitoring.start()
    url = f"http://127.0.0.1:{monitoring.port}/metrics"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(SCRAPES):
                started = time.perf_counter()
                async with http.get(url) as answer:
                    body = await answer.text()
                result.times_ms.append(1000 * (time.perf_counter() - started))
                if "frontdesk_store_up 1.0" not in body:
                    raise BenchError("the store gave the scrape no figures")
        result.plans = await plans(store, result.backend)
    finally:
        await monitoring.stop()
    return result


async def scrape_sqlite(size: int, workdir: Path) -> Scrapes:
    path = workdir / f"metrics-{size}.sqlite3"
    await installed(path)
    started = time.monotonic()
    await asyncio.to_thread(fill_sqlite, path, size)
    result = Scrapes("sqlite", size, time.monotonic() - started)
    store = SqliteStore(path)
    await store.open()
    try:
        return await time_scrapes(store, result)
    finally:
        await store.close()
        path.unlink(missing_ok=True)


async def scrape_postgres(size: int) -> Scrapes | None:
    from tests.pg import fresh_schema, unreachable  # noqa: PLC0415

    if unreachable() is not None:
        return None
    async with fresh_schema() as url:
        store = store_from_url(url)
        await store.open()
        try:
            started = time.monotonic()
            await fill_postgres(url, size)
            result = Scrapes("postgresql", size, time.monotonic() - started)
            return await time_scrapes(store, result)
        finally:
            await store.close()


async def burst(citizens: int, workdir: Path, *, metrics: bool) -> tuple[float, float]:
    """One burst of first messages: updates a second until every answer and card went, and
    the desk's CPU milliseconds per update meanwhile."""
    async with fake_telegram() as tg:
        db = workdir / f"desk-{time.monotonic_ns()}.sqlite3"
        await installed(db)
        env = desk_env(tg.base_url, db)
        port = free_port()
        if metrics:
            env["METRICS_PORT"] = str(port)
        proc = await BotProcess.spawn(["-m", "bot"], env, workdir)
        scraper: asyncio.Task[None] | None = None
        try:
            await wait_ready(tg, proc)
            await asyncio.sleep(0.3)
            if metrics:
                scraper = asyncio.create_task(scrape_every_second(port))
            cpu_before = proc.cpu_seconds()
            started = time.monotonic()
            push_citizens(tg, FIRST_CITIZEN, citizens)
            await until(
                lambda: citizens_answered(tg) >= citizens and ticket_cards(tg) >= citizens,
                max(60.0, citizens / 20), f"{citizens} answers and cards", proc,
            )
            cpu_ms = 1000 * (proc.cpu_seconds() - cpu_before) / citizens
        finally:
            if scraper is not None:
                scraper.cancel()
            code = await proc.stop(timeout=60.0)  # a loaded machine drains slowly
        if code != 0:
            raise BenchError(f"desk exited with {code}:\n{proc.log_tail()}")
        last: float = max(r["at"] for r in tg.sent())
        return citizens / (last - started), cpu_ms


async def scrape_every_second(port: int) -> None:
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                    await answer.read()
            except aiohttp.ClientError as exc:
                log.warning("scrape failed: %s", exc)
            await asyncio.sleep(1.0)


async def overhead(citizens: int, repeats: int, workdir: Path) -> Overhead:
    cost = Overhead([], [], [], [])
    for round_ in range(1, repeats + 1):
        for metrics, rates, cpus in ((False, cost.off, cost.cpu_off),
                                     (True, cost.on, cost.cpu_on)):
            rate, cpu_ms = await burst(citizens, workdir, metrics=metrics)
            rates.append(rate)
            cpus.append(cpu_ms)
            log.info("metrics overhead %d/%d, METRICS_PORT %s: %.0f updates/s, %.2f ms CPU "
                     "an update", round_, repeats, "set" if metrics else "unset", rate, cpu_ms)
    return cost


def counting_cost(updates: int = 100_000) -> float:
    """Microseconds of CPU the counters take for one citizen's update as the desk counts it:
    a ticket opened, its acknowledgement and card sent, an answer sent and counted."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    from bot.delivery import DeliveryResult  # noqa: PLC0415
    from bot.metrics import DeskCounters  # noqa: PLC0415
    from storage.values import Platform  # noqa: PLC0415

    counters = DeskCounters(CollectorRegistry())
    sent = DeliveryResult.sent("1")
    started = time.process_time()
    for _ in range(updates):
        counters.opened("telegram", "direct", None)
        for _ in range(3):
            counters.delivered(Platform.TELEGRAM, sent)
        counters.first_answer("telegram", timedelta(minutes=20))
    return 1e6 * (time.process_time() - started) / updates


async def bench_metrics(tickets: int, citizens: int, repeats: int, workdir: Path) -> list[str]:
    """The figures, as notes for the results."""
    notes = []
    for scrapes in (await scrape_sqlite(tickets, workdir), await scrape_postgres(tickets)):
        if scrapes is None:
            notes.append("Metrics scrape on PostgreSQL skipped: the test server is unreachable.")
            continue
        log.info("metrics scrape, %s, %s tickets (filled in %.0f s): median %.1f ms, "
                 "worst %.1f ms; plan: %s", scrapes.backend, f"{scrapes.tickets:,}",
                 scrapes.fill_seconds, scrapes.median, scrapes.worst, " | ".join(scrapes.plans))
        notes.append(
            f"Metrics scrape, {scrapes.backend}, {scrapes.tickets:,} tickets: median "
            f"{scrapes.median:.1f} ms, worst {scrapes.worst:.1f} ms of {SCRAPES} "
            f"(target < 50 ms)."
        )
    cost = await overhead(citizens, repeats, workdir)
    micro = counting_cost()
    log.info("metrics: counting one update costs %.1f µs of CPU", micro)
    notes.append(
        f"Metrics overhead on throughput ({citizens} citizens, {repeats} rounds, scraped every "
        f"second): {statistics.median(cost.off):.0f} updates/s without METRICS_PORT, "
        f"{statistics.median(cost.on):.0f} with it: it costs {100 * cost.cost:.1f}% of throughput "
        f"(target < 5%; below 0: none measurable); "
        f"the desk's CPU an update {statistics.median(cost.cpu_off):.2f} ms and "
        f"{statistics.median(cost.cpu_on):.2f} ms: {100 * cost.cpu_cost:+.1f}% "
        f"(runs: {', '.join(f'{c:.2f}' for c in cost.cpu_off)} and "
        f"{', '.join(f'{c:.2f}' for c in cost.cpu_on)}); the counters themselves take "
        f"{micro:.1f} µs of CPU for an update."
    )
    return notes
