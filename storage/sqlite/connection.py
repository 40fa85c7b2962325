"""The SQLite store's connection: opening, the one-writer lock, migrations, transactions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.base import StoreError
from storage.lockfile import StoreLock
from storage.sql.connection import SqlConnection
from storage.sqlite.transaction import SqliteTransaction

log = logging.getLogger(__name__)


def sqlite_path(url: str) -> str:
    """The file behind `sqlite:///path` (relative) or `sqlite:////abs/path`; `:memory:` too."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    elif url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
    else:
        raise StoreError(f"not a SQLite URL: {url.split(':', 1)[0]}://…")
    if not path:
        raise StoreError("DATABASE_URL names no SQLite file")
    return path



class SqliteConnection(SqlConnection):
    """The store's one connection: all writes go through it, one at a time."""

    def __init__(self, path: str | Path, *, exclusive: bool = False) -> None:
        self._path = str(path)
        # exclusive: this process alone may use the store while it is open (see lockfile).
        self._file_lock = StoreLock(self._path) if exclusive and self._path != ":memory:" \
            else None
        self._db: aiosqlite.Connection | None = None
        self.created = False  # whether open() found no schema and made a new store
        self._lock = asyncio.Lock()
        self.changed = asyncio.Event()  # set when the outbox gets rows, for the sender

    @property
    def location(self) -> str:
        """The store's file as an absolute path (or `:memory:`)."""
        return self._path if self._path == ":memory:" else str(Path(self._path).resolve())

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    async def open(self) -> None:
        if self._path != ":memory:":
            parent = Path(self._path).parent
            if not parent.is_dir():
                raise StoreError(f"DATABASE_URL: folder {parent} does not exist")
        if self._file_lock is not None:
            self._file_lock.acquire()
        log.info("store: %s", self.location)
        try:
            self._db = await aiosqlite.connect(self._path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode = WAL")
            # In WAL, NORMAL keeps the file consistent after a crash and may lose only the
            # last commits on power loss: https://www.sqlite.org/pragma.html#pragma_synchronous
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            await self._db.execute("PRAGMA busy_timeout = 5000")
            await self._migrate()
        except sqlite3.Error as exc:
            await self.close()
            raise StoreError(f"DATABASE_URL: cannot open the SQLite store: {exc}") from exc

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            async with self._lock:
                await db.close()
        if self._file_lock is not None:
            self._file_lock.release()

    async def _migrate(self) -> None:
        db = self.db
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with db.execute("SELECT version FROM schema_version") as cur:
            applied = {row[0] for row in await cur.fetchall()}
        # New is a store without a schema, whether the file was missing or empty (a failed
        # restore, `> frontdesk.sqlite3`): numbering starts at №1 either way.
        self.created = not applied
        if self.created and self._path != ":memory:":
            log.warning("a new store was created at %s: ticket numbers start at №1",
                        self.location)
        folder = resources.files("storage") / "migrations"
        scripts = sorted(
            (int(p.name.split("_", 1)[0]), p) for p in folder.iterdir()
            if p.name.endswith(".sql")
        )
        for version, script in scripts:
            if version in applied:
                continue  # each script once, whatever order they arrived in
            log.info("applying store migration %s", script.name)
            sql = script.read_text(encoding="utf-8")
            async with self._lock:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(sql):
                        await db.execute(statement)
                    await db.execute("INSERT INTO schema_version VALUES (?)", (version,))
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

    async def lead(self, role: str) -> bool:
        """Every role is this desk's: the lock file keeps other desks off the store."""
        return True

    async def resign(self, role: str) -> None:
        """Nobody else to hand it to."""

    async def heartbeat(self) -> int:
        return 1

    def _file_gone(self) -> bool:
        """The file removed under the open connection: it still reads its old copy (`ping`)."""
        return self._path != ":memory:" and not Path(self._path).exists()

    def _keep_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.keep()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self._quiet_transaction() as tx:
            yield tx
        tx.committed()
        self.changed.set()

    @asynccontextmanager
    async def _quiet_transaction(self) -> AsyncIterator[SqliteTransaction]:
        """A transaction that adds no outbox rows, so the sender need not look again."""
        async with self._lock:
            self._keep_lock()
            db = self.db
            # IMMEDIATE takes the write lock up front, so two writers cannot deadlock.
            await db.execute_fetchall("BEGIN IMMEDIATE")
            tx = SqliteTransaction(db)
            try:
                yield tx
            except BaseException:
                await db.execute_fetchall("ROLLBACK")
                raise
            await db.execute_fetchall("COMMIT")

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._lock:
            self._keep_lock()
            return list(await self.db.execute_fetchall(sql, params))  # type: ignore[arg-type]

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        async with self._lock:
            self._keep_lock()
            await self.db.execute_fetchall(sql, params)

    async def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._lock:
            self._keep_lock()
            cur = await self.db.execute(sql, params)
            count = cur.rowcount
            await cur.close()
        return max(count, 0)



def _statements(sql: str) -> list[str]:
    """A migration script as statements; a trigger's body keeps its own semicolons.

    Our scripts keep `--` out of string literals.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines():
        buffer += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip().removesuffix(";"))
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
