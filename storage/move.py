"""A desk's SQLite store copied into an empty PostgreSQL store, value for value.

Both schemas have the same tables and columns (storage/migrations and its postgresql/), so
every row goes over as it is: tickets keep their numbers, pending outbox rows stay pending,
the polling positions (table `state`) go on where the old store stopped. The whole copy is
one PostgreSQL transaction: a failure at any row leaves the target as empty as it was. The
source is read in batches through a cursor, in one snapshot, so memory stays the same for a
store of any size; its lock file is held throughout, so a desk cannot start on it meanwhile.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import asyncpg

from storage.base import StoreError
from storage.lockfile import StoreLock, in_use
from storage.postgres import PgStore
from storage.postgres.sharing import ALIVE, NOW
from storage.sqlite import SqliteStore, sqlite_path

# Every table of a desk, each after the tables its foreign keys point to.
TABLES = (
    "incidents", "tickets", "messages", "refs", "ratings", "incident_apart", "incident_refs",
    "outbox", "citizens", "state", "inbox", "audit",
)
# The store's own bookkeeping, not the desk's: each store keeps its own.
_NOT_MOVED = frozenset({"schema_version", "sqlite_sequence"})
BATCH = 5_000  # rows read and written at a time

# (table, rows copied so far, rows it has): called before a table and after each batch.
Progress = Callable[[str, int, int], None]


class MoveError(StoreError):
    """The move was refused or failed, and nothing was written to the target; one line."""


@dataclass(frozen=True, slots=True)
class Moved:
    """What went over: rows per table, equal on both sides, and the ticket numbering."""

    source: str  # the SQLite file
    target: str  # the PostgreSQL store, without its password
    counts: dict[str, int]
    last_ticket: int  # the highest ticket number issued (0: none yet)

    @property
    def next_ticket(self) -> int:
        return self.last_ticket + 1


def _quiet(table: str, done: int, total: int) -> None:
    """No progress shown."""


async def move_store(
    source_url: str, target_url: str, progress: Progress | None = None, *, batch: int = BATCH
) -> Moved:
    """Copy the stopped desk at `source_url` (sqlite) into the empty store at `target_url`.

    Raises MoveError with one line when the source is not a desk's store or its desk is
    running, the target cannot be reached or is not empty, or a row cannot be written.
    """
    try:
        path = sqlite_path(source_url)
    except StoreError as exc:
        raise MoveError(f"--from: {exc}") from None
    await _check_desk(path)
    source = await _open_source(path)
    try:
        target = await _open_target(target_url)
        try:
            return await _Copy(source, target, progress or _quiet, batch).run()
        finally:
            await target.close()
    finally:
        await source.close()


async def _check_desk(path: str) -> None:
    """A desk's store, looked at read-only: opening a file that is not one would make it one."""
    if path == ":memory:" or not Path(path).is_file():
        raise MoveError(f"--from: no SQLite file at {path}")
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        async with aiosqlite.connect(uri, uri=True) as db:
            rows = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    except sqlite3.Error as exc:
        raise MoveError(f"--from: {path} is not a SQLite database ({exc})") from None
    if not {"schema_version", "tickets"} <= {str(row[0]) for row in rows}:
        raise MoveError(f"--from: {path} holds no desk's store (no tickets table); "
                        "is it the desk's file?")


async def _open_source(path: str) -> SqliteStore:
    """The source, held by this process alone (and brought up to date, as a desk would)."""
    store = SqliteStore(path, exclusive=True)
    try:
        await store.open()
    except StoreError as exc:
        if in_use(path) is not None:
            holder = StoreLock(path).path.read_text(encoding="utf-8").strip() or "unknown"
            raise MoveError(f"--from: the desk on {store.location} is running (pid {holder}); "
                            "stop it first: a desk moves while it is stopped") from None
        raise MoveError(f"--from: {str(exc).removeprefix('DATABASE_URL: ')}") from None
    return store


async def _open_target(url: str) -> PgStore:
    """The target, with the schema created where there is none."""
    store = PgStore.from_url(url)
    try:
        await store.open()
    except StoreError as exc:
        raise MoveError(f"--to: {str(exc).removeprefix('DATABASE_URL: ')}") from None
    return store


def _first_line(exc: BaseException) -> str:
    """The server's message without its DETAIL, which may quote a row (a citizen's text)."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class _Copy:
    """One move: the source's snapshot read table by table into one target transaction."""

    def __init__(self, source: SqliteStore, target: PgStore, progress: Progress,
                 batch: int) -> None:
        self._db = source.db
        self._source = source.location
        self._target = target
        self._progress = progress
        self._batch = batch
        self._at = "the start"  # what is being copied, for the message of a failure

    async def run(self) -> Moved:
        await self._db.execute_fetchall("BEGIN")  # one snapshot for the rows and their counts
        try:
            async with self._target.pool.acquire() as conn:
                return await self._in_transaction(conn)
        except MoveError:
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise MoveError(f"copying {self._at} failed, nothing was written to the target: "
                            f"{_first_line(exc)}") from exc
        except sqlite3.Error as exc:  # its message may quote a value: only SQLite's code
            raise MoveError(f"reading {self._at} from the source failed "
                            f"({exc.sqlite_errorname or type(exc).__name__}); nothing was "
                            "written to the target") from exc
        except (TypeError, ValueError) as exc:  # a value the column's type cannot hold
            raise MoveError(f"copying {self._at} failed, nothing was written to the target: "
                            f"a value does not fit its column ({type(exc).__name__})") from exc
        finally:
            with contextlib.suppress(sqlite3.Error):  # read only: nothing to keep
                await self._db.execute_fetchall("ROLLBACK")

    async def _in_transaction(self, conn: asyncpg.Connection) -> Moved:
        async with conn.transaction():
            # No desk can write between the look and the copy.
            await conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
            await self._refuse_unless_empty(conn)
            columns = await self._columns(conn)
            counts: dict[str, int] = {}
            for table in TABLES:
                self._at = table
                counts[table] = await self._copy_table(conn, table, columns[table])
            self._at = "the numbering"
            last_ticket = await self._continue_numbering(conn, columns)
            await self._verify(conn, counts)
        return Moved(self._source, self._target.location, counts, last_ticket)

    async def _refuse_unless_empty(self, conn: asyncpg.Connection) -> None:
        alive = await conn.fetchval(
            f"SELECT COUNT(*) FROM desks WHERE seen_at >= {NOW} - $1", ALIVE
        )
        if alive:
            raise MoveError(f"--to: {alive} desk(s) are running on the store at "
                            f"{self._target.location}; move-store copies into an empty store "
                            "that no desk uses, nothing was written")
        held = []
        for table in TABLES:
            rows = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
            if rows:
                held.append(f"{table}: {rows}")
        if held:
            raise MoveError(f"--to: the store at {self._target.location} is not empty "
                            f"({', '.join(held)}); move-store copies into an empty store "
                            "only, nothing was written")

    async def _columns(self, conn: asyncpg.Connection) -> dict[str, list[str]]:
        """Each table's columns as the source has them, every one of them in the target."""
        found = {str(r[0]) for r in await self._db.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )} - _NOT_MOVED
        unknown = sorted(found - set(TABLES))
        if unknown:
            raise MoveError(f"--from: the store has a table this Frontdesk does not know "
                            f"({', '.join(unknown)}); move it with the Frontdesk that made it")
        there = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
        target = {(str(r[0]), str(r[1])) for r in there}
        columns: dict[str, list[str]] = {}
        for table in TABLES:
            rows = await self._db.execute_fetchall(
                "SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,)
            )
            columns[table] = [str(r[0]) for r in rows]
            missing = [c for c in columns[table] if (table, c) not in target]
            if missing:
                raise MoveError(f"--to: table {table} has no column {missing[0]}; the target "
                                "is not a store of this Frontdesk")
        return columns

    async def _copy_table(self, conn: asyncpg.Connection, table: str,
                          columns: Sequence[str]) -> int:
        [(total,)] = await self._db.execute_fetchall(f"SELECT COUNT(*) FROM {table}")
        self._progress(table, 0, total)
        done = 0
        async with self._db.execute(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"
        ) as cursor:
            while rows := list(await cursor.fetchmany(self._batch)):
                await conn.copy_records_to_table(table, records=rows, columns=list(columns))
                done += len(rows)
                self._progress(table, done, total)
        if done != total:
            raise MoveError(f"{table}: read {done} rows of {total}; nothing was written")
        return int(done)

    async def _continue_numbering(
        self, conn: asyncpg.Connection, columns: dict[str, list[str]]
    ) -> int:
        """Each identity set past the highest id the source issued; the last ticket number.

        The tickets' AUTOINCREMENT remembers numbers whose rows are gone: past those too,
        so no number is ever given twice.
        """
        issued: dict[str, int] = {
            str(r[0]): int(r[1]) for r in await self._db.execute_fetchall(
                "SELECT name, seq FROM sqlite_sequence"
            )
        }
        for table in TABLES:
            if "id" not in columns[table]:
                continue
            sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
            if sequence is None:
                continue
            highest = max(int(await conn.fetchval(f"SELECT COALESCE(MAX(id), 0) FROM {table}")),
                          issued.get(table, 0))
            issued[table] = highest
            if highest > 0:
                await conn.execute("SELECT setval($1, $2)", sequence, highest)
        return issued.get("tickets", 0)

    async def _verify(self, conn: asyncpg.Connection, counts: dict[str, int]) -> None:
        """Both sides hold the same rows, and the same highest ticket: else nothing commits."""
        for table, rows in counts.items():
            there = await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
            if there != rows:
                raise MoveError(f"{table}: {rows} rows in the source, {there} in the target; "
                                "nothing was written")
        [(here,)] = await self._db.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM tickets")
        there = await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM tickets")
        if here != there:
            raise MoveError(f"tickets: the highest number is №{here} in the source, №{there} "
                            "in the target; nothing was written")
