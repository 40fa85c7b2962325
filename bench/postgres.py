"""PostgreSQL: one desk on it against SQLite, several desks sharing it, and a takeover.

The same burst of citizens, PACING=off, against the local fake Bot API: on a SQLite file,
then on a fresh PostgreSQL schema with 1, 2 and 3 desks (`python -m bot` processes; one
polls, one handles the inbox, every desk sends). After each burst the schema is read back: a ticket
per citizen, one acknowledgement row per ticket, distinct numbers, nothing left unsent.
Then the takeover: of two desks the one polling is SIGKILLed, a citizen writes, and the
time until the other desk polls and until that citizen's acknowledgement reaches the fake
is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.proc import BotProcess
from bench.throughput import ticket_cards
from bench.world import (
    FIRST_CITIZEN,
    STAFF_CHAT,
    BenchError,
    citizen_text,
    citizens_answered,
    fake_telegram,
    push_citizens,
    spawn_desk,
    until,
    wait_ready,
)
from bot.pump import STANDBY
from tests.fakes.telegram import FakeTelegram
from tests.pg import PG_URL, unreachable

log = logging.getLogger(__name__)

TOOK = "took the role poll:telegram"  # storage.postgres.sharing, the desk that polls
STANDS_BY = "this one stands by"  # bot.pump, each of the others, of each role it has not
DESKS = (1, 2, 3)
KILLS = 3  # takeovers measured, each on a fresh schema
TAKEOVER_TARGET = 10.0  # seconds from the kill to the new citizen's acknowledgement
_TICKS = os.sysconf("SC_CLK_TCK")
# The server's own processes that work for every session: the WAL and the checkpoints.
_SERVER_HELPERS = ("walwriter", "checkpointer", "background writer")


@dataclass(frozen=True, slots=True)
class Schema:
    """A throwaway schema on the server: the desks' URL, and the bench's own session."""

    name: str
    url: str  # search_path and application_name set to the schema: the desks' sessions
    conn: asyncpg.Connection  # not named after the schema: its work is not counted


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[Schema]:
    """A new, empty schema, dropped with everything in it after (killed desks' sessions cut)."""
    if (why := unreachable()) is not None:
        raise BenchError(f"PostgreSQL is not reachable at {PG_URL} ({why})")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
        sep = "&" if "?" in PG_URL else "?"
        try:
            yield Schema(name, f"{PG_URL}{sep}search_path={name}&application_name={name}", conn)
        finally:
            await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = $1", name)
            await conn.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()


async def server_ticks(schema: Schema) -> dict[int, int]:
    """CPU ticks so far of the server processes working for the desks: their sessions, and
    the WAL writer, checkpointer and background writer (shared with any other user)."""
    pids = await schema.conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 "
        "OR backend_type = ANY($2::text[])", schema.name, list(_SERVER_HELPERS))
    ticks = {}
    for row in pids:
        with contextlib.suppress(OSError):  # gone meanwhile, or the server on another host
            fields = Path(f"/proc/{row['pid']}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[row["pid"]] = int(fields[11]) + int(fields[12])
    return ticks


def server_seconds(before: dict[int, int], after: dict[int, int]) -> float | None:
    """CPU between two samples; a session opened in between counts from its start."""
    if not after:
        return None  # /proc shows no server process: it runs elsewhere
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / _TICKS


@dataclass(frozen=True, slots=True)
class Stored:
    """What the desks left in the schema."""

    tickets: int
    citizens: int  # distinct citizens among the tickets
    one_ack_each: bool  # one acknowledgement row per ticket, none without a ticket
    unsettled: int  # outbox rows not sent and inbox rows not done

    def sound(self, citizens: int) -> bool:
        return (self.tickets == self.citizens == citizens and self.one_ack_each
                and not self.unsettled)


@dataclass(frozen=True, slots=True)
class Burst:
    """One burst handled by `desks` desks on one store."""

    store: str  # "SQLite" or "PostgreSQL"
    desks: int
    updates: int
    seconds: float  # from the first push to the last expected message arriving at the fake
    desk_cpu_seconds: float  # all the desks' processes together
    desk_cpu_split: tuple[float, ...]  # each desk's share of it, the one polling first
    server_cpu_seconds: float | None  # PostgreSQL's processes; None on SQLite
    fake_cpu_seconds: float  # the bench process (the fake server, mostly)
    answered: int  # distinct citizens who got a message back
    repeated: int  # acknowledgements and cards on the wire more than once
    distinct_numbers: int  # distinct ticket numbers on the cards
    stored: Stored | None  # the schema read back afterwards (PostgreSQL only)
    log_problems: tuple[str, ...]  # distinct WARNING/ERROR lines of the desks' logs, to the end
    stop_problems: tuple[str, ...]  # more of them written while the desks stopped (SIGTERM)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms_per_update(self) -> float:
        return 1000 * self.desk_cpu_seconds / self.updates

    @property
    def server_ms_per_update(self) -> float | None:
        if self.server_cpu_seconds is None:
            return None
        return 1000 * self.server_cpu_seconds / self.updates

    @property
    def fake_busy(self) -> float:
        return self.fake_cpu_seconds / self.seconds

    @property
    def sound(self) -> bool:
        """Nothing lost, nothing made twice."""
        if self.answered != self.updates or self.distinct_numbers != self.updates:
            return False
        return self.stored is None or self.stored.sound(self.updates)


@dataclass(frozen=True, slots=True)
class Takeover:
    """The desk polling SIGKILLed: seconds until the other polls, until a new citizen's ack."""

    took_s: float
    ack_s: float


@dataclass(frozen=True, slots=True)
class PostgresBench:
    citizens: int
    sqlite: Burst
    shared: list[Burst]  # 1, 2, 3 desks on PostgreSQL
    takeovers: list[Takeover]

    def takeover(self, what: str) -> tuple[float, float]:
        """Median and max of `took_s` or `ack_s`."""
        values = [getattr(t, what) for t in self.takeovers]
        return statistics.median(values), max(values)


def read_log(desk: BotProcess) -> str:
    return desk.log.read_text(encoding="utf-8", errors="replace")


def log_problems(desks: Sequence[BotProcess]) -> tuple[str, ...]:
    """Each distinct warning or error of the desks, its time cut off."""
    seen: dict[str, None] = {}
    for desk in desks:
        for line in read_log(desk).splitlines():
            if " WARNING " in line or " ERROR " in line or line.startswith("Traceback"):
                seen[line.split(" ", 1)[-1]] = None
    return tuple(seen)


def card_numbers(tg: FakeTelegram) -> Counter[str]:
    """Ticket cards in the staff chat by their number (`№12`)."""
    numbers: Counter[str] = Counter()
    for record in tg.sent(STAFF_CHAT):
        text = record["message"].get("text") or ""
        if text.startswith("№") and "Ответить до" in text:
            numbers[text.split(" ", 1)[0]] += 1
    return numbers


def acknowledged(tg: FakeTelegram) -> Counter[int]:
    """Messages to each citizen (private chats)."""
    return Counter(r["chat_id"] for r in tg.sent() if r["chat_id"] > 0)


def everyone_served(tg: FakeTelegram, citizens: int) -> bool:
    """Every citizen answered and every ticket carded: the counts first, they are cheap."""
    return (citizens_answered(tg) >= citizens and ticket_cards(tg) >= citizens
            and len(acknowledged(tg)) >= citizens and len(card_numbers(tg)) >= citizens)


async def start_desks(
    tg: FakeTelegram, workdir: Path, count: int, url: str | None
) -> list[BotProcess]:
    """`count` desks on the store, ready: one polls, the others stand by."""
    desks: list[BotProcess] = []
    try:
        for _ in range(count):
            db = workdir / f"desk-{time.monotonic_ns()}.sqlite3"
            desks.append(await spawn_desk(tg, db, workdir, database_url=url))
        await wait_ready(tg, desks[0])
        if url is not None:
            await until(lambda: [TOOK in read_log(d) for d in desks].count(True) == 1
                        and sum(STANDS_BY in read_log(d) for d in desks) == count - 1,
                        60, f"one of {count} desks polling, the others standing by", desks)
    except BaseException:
        await stop_desks(desks)
        raise
    await asyncio.sleep(0.3)  # let start-up work (the first sweep) finish
    return desks


async def stop_desks(desks: Sequence[BotProcess]) -> list[int]:
    """SIGTERM to each at once; their exit codes."""
    return list(await asyncio.gather(*(d.stop() for d in desks)))


async def read_back(schema: Schema) -> Stored:
    """What the desks left in the schema."""
    q = schema.name
    tickets = await schema.conn.fetch(f"SELECT id, citizen_id FROM {q}.tickets")
    acks = await schema.conn.fetch(
        f"SELECT ticket_id, COUNT(*) AS n FROM {q}.outbox WHERE purpose = 'ack' "
        "GROUP BY ticket_id")
    unsent = await schema.conn.fetchval(f"SELECT COUNT(*) FROM {q}.outbox WHERE status <> 'sent'")
    waiting = await schema.conn.fetchval(f"SELECT COUNT(*) FROM {q}.inbox WHERE done = 0")
    ids = {r["id"] for r in tickets}
    return Stored(
        tickets=len(tickets), citizens=len({r["citizen_id"] for r in tickets}),
        one_ack_each={r["ticket_id"] for r in acks} == ids and all(r["n"] == 1 for r in acks),
        unsettled=int(unsent) + int(waiting),
    )


async def measure_burst(
    citizens: int, desks: int, workdir: Path, schema: Schema | None
) -> Burst:
    """Start the desks idle, push `citizens` first messages at once, wait for every answer."""
    async with fake_telegram() as tg:
        procs = await start_desks(tg, workdir, desks, schema.url if schema else None)
        try:
            ticks = await server_ticks(schema) if schema else {}
            cpu_before, fake_before = [p.cpu_seconds() for p in procs], time.process_time()
            started = time.monotonic()
            push_citizens(tg, FIRST_CITIZEN, citizens)
            await until(lambda: everyone_served(tg, citizens), max(60.0, citizens / 10),
                        f"{citizens} answers and cards", procs)
            cpu = [p.cpu_seconds() - before for p, before in zip(procs, cpu_before, strict=True)]
            fake_cpu = time.process_time() - fake_before
            server = server_seconds(ticks, await server_ticks(schema)) if schema else None
            during = log_problems(procs)
        finally:
            codes = await stop_desks(procs)
        if any(codes):
            raise BenchError(f"desks exited with {codes}:\n{procs[0].log_tail()}")
        wire = list(acknowledged(tg).values()) + list(card_numbers(tg).values())
        return Burst(
            store="PostgreSQL" if schema else "SQLite", desks=desks, updates=citizens,
            seconds=max(r["at"] for r in tg.sent()) - started,
            desk_cpu_seconds=sum(cpu), desk_cpu_split=_split(procs, cpu),
            server_cpu_seconds=server, fake_cpu_seconds=fake_cpu,
            answered=len(acknowledged(tg)), repeated=sum(1 for n in wire if n > 1),
            distinct_numbers=len(card_numbers(tg)),
            stored=await read_back(schema) if schema else None,
            log_problems=during,
            stop_problems=tuple(p for p in log_problems(procs) if p not in during),
        )


def _split(procs: Sequence[BotProcess], cpu: Sequence[float]) -> tuple[float, ...]:
    """Each desk's share of the desks' CPU, the one polling first."""
    polling = [TOOK in read_log(p) for p in procs]
    ordered = sorted(zip(polling, cpu, strict=True), key=lambda pc: not pc[0])
    total = sum(cpu) or 1.0
    return tuple(c / total for _, c in ordered)


async def measure_takeover(workdir: Path) -> Takeover:
    """Two desks; SIGKILL the one polling, a citizen writes at once; time both answers."""
    async with fake_telegram() as tg, fresh_schema() as schema:
        desks = await start_desks(tg, workdir, 2, schema.url)
        leader = next(d for d in desks if TOOK in read_log(d))
        other = next(d for d in desks if d is not leader)
        citizen = FIRST_CITIZEN
        try:
            # The standby looks every STANDBY seconds: killed at a fixed moment after the
            # start, each takeover would see the same phase of its looks.
            await asyncio.sleep(random.uniform(0, STANDBY))
            leader.proc.kill()
            killed = time.monotonic()
            tg.push_update(tg.private_text(citizen, citizen_text(citizen), first_name="Анна"))
            took: float | None = None
            while took is None or not tg.sent(citizen):
                if took is None and TOOK in read_log(other):
                    took = time.monotonic() - killed
                if other.failed() or time.monotonic() - killed > 60:
                    raise BenchError(f"no takeover within 60 s:\n{other.log_tail()}")
                await asyncio.sleep(0.005)
            ack = tg.sent(citizen)[0]["at"] - killed
            await leader.proc.wait()
        finally:
            codes = await stop_desks(desks)
        if codes[desks.index(other)] != 0:
            raise BenchError(f"the desk that took over exited with {codes}:\n"
                             f"{other.log_tail()}")
        return Takeover(took_s=took, ack_s=ack)


async def bench_postgres(citizens: int, workdir: Path, kills: int = KILLS) -> PostgresBench:
    """SQLite, then 1, 2, 3 desks on PostgreSQL (a fresh schema each), then the takeovers."""
    sqlite = await measure_burst(citizens, 1, workdir, None)
    _log_burst(sqlite)
    shared = []
    for desks in DESKS:
        async with fresh_schema() as schema:
            burst = await measure_burst(citizens, desks, workdir, schema)
        _log_burst(burst)
        shared.append(burst)
    takeovers = []
    for kill in range(1, kills + 1):
        takeover = await measure_takeover(workdir)
        log.info("takeover %d/%d: the other desk polls %.2f s after the kill, the new "
                 "citizen's acknowledgement %.2f s after it", kill, kills, takeover.took_s,
                 takeover.ack_s)
        takeovers.append(takeover)
    return PostgresBench(citizens, sqlite, shared, takeovers)


def _log_burst(b: Burst) -> None:
    server = "" if b.server_ms_per_update is None else (
        f", server {b.server_ms_per_update:.2f} ms CPU/update")
    log.info("postgres: %s, %d desk(s): %.0f updates/s (%.2f s, desks %.2f ms CPU/update%s, "
             "fake busy %.0f%%, CPU split %s); answered %d/%d, %d distinct numbers, %d "
             "repeated on the wire, store %s, %d log problems (+%d at the stop)", b.store,
             b.desks, b.rate, b.seconds, b.cpu_ms_per_update, server, 100 * b.fake_busy,
             "/".join(f"{share:.0%}" for share in b.desk_cpu_split), b.answered, b.updates,
             b.distinct_numbers, b.repeated, b.stored, len(b.log_problems),
             len(b.stop_problems))
    for line in (b.log_problems + b.stop_problems)[:6]:
        log.warning("  desk log: %s", line[:300])
