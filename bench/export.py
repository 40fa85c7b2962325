"""The export of a month of tickets (1M by default) beside a running desk: time and peak RSS.

The store is filled by bulk SQL (tickets of both platforms and channels, departments, ratings,
interim answers, two citizen's messages each, the audit trail's answers and closings), the
desk is started on it and left at rest,
and `python -m bot export` is run against it while the desk holds it, to CSV and to xlsx.
Target (issue 17): the export's peak RSS within 50 MB of the desk's at rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.proc import BotProcess, base_env
from bench.world import BenchError, fake_telegram, spawn_desk, wait_ready
from storage import SqliteStore

log = logging.getLogger(__name__)

KIB = 1024
BATCH = 50_000
REST_SECONDS = 3.0  # the desk idles after its first getUpdates before its RSS is read
EXPORT_TIMEOUT = 3600.0
# November 2026 in Moscow (UTC+3), spread evenly over the tickets.
MONTH_START = datetime(2026, 10, 31, 21, 0, tzinfo=UTC).timestamp()
MONTH = 30 * 86400
TEXT = "Здравствуйте! Третий день не горит фонарь у дома 5 по улице Ленина; «когда починят?»"


@dataclass(slots=True)
class ExportRun:
    kind: str  # csv or xlsx
    tickets: int
    seconds: float
    peak_rss_kib: int
    file_mb: float


@dataclass(slots=True)
class ExportBench:
    tickets: int
    fill_seconds: float
    desk_rest_kib: int  # VmRSS of the desk at rest on the same store
    runs: list[ExportRun]

    def notes(self) -> list[str]:
        rest = self.desk_rest_kib / KIB
        lines = [f"Export: {self.tickets:,} tickets (filled in {self.fill_seconds:.0f} s); "
                 f"the desk at rest on the store: RSS {rest:.1f} MiB."]
        for r in self.runs:
            peak = r.peak_rss_kib / KIB
            verdict = "ok" if peak <= rest + 50 else "OVER"
            lines.append(
                f"Export to {r.kind}: {r.tickets:,} rows in {r.seconds:.1f} s "
                f"({r.tickets / max(r.seconds, 1e-9):,.0f}/s), {r.file_mb:.0f} MB; peak RSS "
                f"{peak:.1f} MiB, {peak - rest:+.1f} MiB against the desk at rest "
                f"(target within +50): {verdict}."
            )
        return lines


def fill(path: Path, size: int) -> None:
    """`size` tickets opened over November 2026, two citizen's messages each."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        for first in range(1, size + 1, BATCH):
            numbers = range(first, min(first + BATCH, size + 1))
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO tickets (id, platform, channel, chat_id, conversation, citizen_id, "
                "citizen_name, citizen_link, summary, status, opened_at, first_answer_at, "
                "last_answer_at, closed_at, interim_count, category) "
                "VALUES (?, ?, ?, ?, ?, ?, 'Анна Петрова', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_ticket(n, size) for n in numbers],
            )
            db.executemany(
                "INSERT INTO messages (ticket_id, direction, text, created_at) "
                "VALUES (?, 'in', ?, ?)",
                [(n, f"{TEXT} ({part})", _opened(n, size) + part)
                 for n in numbers for part in (1, 2)],
            )
            db.executemany(
                "INSERT INTO ratings (ticket_id, score, rated_at, first_rated_at) "
                "VALUES (?, ?, ?, ?)",
                [(n, 1 + n % 5, _opened(n, size) + 9000, _opened(n, size) + 9000)
                 for n in numbers if n % 3 == 0],
            )
            db.executemany(
                "INSERT INTO audit (at, action, actor, staff_id, staff_name, ticket_id) "
                "VALUES (?, ?, 'staff', ?, ?, ?)",
                [entry for n in numbers for entry in _audit(n, size)],
            )
            db.execute("COMMIT")
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()


def _audit(n: int, size: int) -> list[tuple[object, ...]]:
    """The staff's answer and closing of ticket `n`, as the desk records them."""
    row = _ticket(n, size)
    answered, closed = row[10], row[12]  # first_answer_at, closed_at
    staff = (str(5_000_000 + n % 20), f"Сотрудник {n % 20}")
    made = [(answered, "answered", *staff, n)] if answered is not None else []
    return made + ([(closed, "closed", *staff, n)] if closed is not None else [])


def _opened(number: int, size: int) -> float:
    return MONTH_START + MONTH * (number - 0.5) / size


def _ticket(n: int, size: int) -> tuple[object, ...]:
    opened = _opened(n, size)
    is_open = n % 100 == 0
    answered = None if is_open else opened + 3600 * (1 + n % 30)
    vk = n % 4 == 0
    return (
        n, "vk" if vk else "telegram", "comment" if n % 7 == 0 else "direct",
        str(100_000_000 + n), str(n), str(100_000_000 + n),
        f"https://vk.com/id{n}" if vk else f"https://t.me/citizen{n}", TEXT[:60],
        "open" if is_open else "closed", opened, answered, answered,
        None if is_open else opened + 200_000, n % 11 == 0, "housing" if n % 2 else None,
    )


async def _export(workdir: Path, db: Path, kind: str) -> ExportRun:
    out = workdir / f"export.{kind}"
    env = base_env(DATABASE_URL=f"sqlite:///{db}", TIMEZONE="Europe/Moscow")
    started = time.monotonic()
    proc = await BotProcess.spawn(
        ["-m", "bot", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)],
        env, workdir,
    )
    peak = 0
    while proc.proc.returncode is None:
        with contextlib.suppress(OSError, LookupError):  # gone between look and read
            peak = max(peak, proc.status_kib("VmHWM"))
        try:
            await asyncio.wait_for(proc.proc.wait(), 0.05)
        except TimeoutError:
            if time.monotonic() - started > EXPORT_TIMEOUT:
                await proc.stop()
                raise BenchError(f"export to {kind} took over {EXPORT_TIMEOUT:.0f} s") from None
    seconds = time.monotonic() - started
    if proc.proc.returncode != 0:
        raise BenchError(f"export to {kind} exited {proc.proc.returncode}:\n{proc.log_tail()}")
    words = proc.log_tail(1).split()
    rows = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
    size = out.stat().st_size / 1e6
    out.unlink()
    log.info("export to %s: %d rows in %.1f s, peak RSS %.1f MiB", kind, rows, seconds,
             peak / KIB)
    return ExportRun(kind, rows, seconds, peak, size)


async def bench_export(size: int, workdir: Path) -> ExportBench:
    """Fill, start the desk on the store, export beside it to CSV and xlsx."""
    db = workdir / f"export-{size}.sqlite3"
    store = SqliteStore(db)
    await store.open()  # the schema exactly as the migrations make it
    await store.close()
    started = time.monotonic()
    await asyncio.to_thread(fill, db, size)
    filled = time.monotonic() - started
    log.info("export store: %d tickets in %.0f s", size, filled)
    try:
        async with fake_telegram() as tg:
            desk = await spawn_desk(tg, db, workdir)
            try:
                await wait_ready(tg, desk)
                await asyncio.sleep(REST_SECONDS)
                rest = desk.status_kib("VmRSS")
                runs = [await _export(workdir, db, kind) for kind in ("csv", "xlsx")]
            finally:
                await desk.stop(timeout=30)
    finally:
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock")):
            path.unlink(missing_ok=True)
    return ExportBench(size, filled, rest, runs)
