"""The PostgreSQL store's connection: a pool, migrations, transactions, one desk at a time.

The desk's statements (storage/sql) take `?` placeholders; here they are numbered
(`$1`, `$2`, …) once per statement text and kept. A desk runs one write transaction at a
time, as on SQLite, so it behaves the same on both stores; several desks on one database
share it as storage/postgres/sharing.py and queues.py say.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import asyncpg

from storage.base import StoreError
from storage.postgres.placeholders import numbered
from storage.postgres.transaction import PgTransaction
from storage.sql.connection import SqlConnection

log = logging.getLogger(__name__)

# The advisory locks' keys are two int4: what the lock guards, then the store's schema
# (hashtext of current_schema()), so that desks in other schemas of one database do not meet.
MIGRATION_LOCK = 0x46444B02  # held while the schema is brought up to date
CLAIM_LOCK = 0x46444B03  # held while a desk claims chats to send to (postgres/queues.py)
_LOCK = "($1, hashtext(current_schema()))"
CONNECT_TIMEOUT = 10.0  # seconds to reach the server at start
POOL_SIZE = 8


def safe_location(url: str) -> str:
    """The URL without its password: host, port, database and user, for the log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port
    except ValueError:  # an unclosed [ of an IPv6 address, a port that is no number
        return "postgresql://(a URL that cannot be read)"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if port:
        netloc += f":{port}"
    # The schema says which store of the database it is; nothing else of the query is shown
    # (it may carry a password, `?password=…`).
    schema = [f"search_path={v}" for k, v in parse_qsl(parts.query) if k == "search_path"]
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(schema[:1]), ""))

# What reaching a PostgreSQL store may raise: the network, the server, the pool, the time,
# and ValueError for a URL asyncpg cannot read (a port "abc").
CANNOT_CONNECT = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError,
                  ValueError)


def cannot(doing: str, exc: BaseException) -> StoreError:
    """`DATABASE_URL: cannot <doing>: <the first line of why>`, never quoting the URL."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, ValueError):  # its words may quote a part of the URL
        reason = "the URL cannot be read (a port that is no number, an unclosed [)"
    return StoreError(f"DATABASE_URL: cannot {doing}: {reason}")


class PgConnection(SqlConnection):
    """The store's pool of connections to one PostgreSQL database."""

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self._url = url
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self.created = False  # whether open() found no schema and made a new store
        self._lock = asyncio.Lock()  # one write transaction at a time, as on SQLite
        self.changed = asyncio.Event()

    @property
    def location(self) -> str:
        return safe_location(self._url)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._url, min_size=1, max_size=self._pool_size, timeout=CONNECT_TIMEOUT,
                command_timeout=60,
            )
            log.info("store: %s", self.location)
            await self._migrate()
        except StoreError:
            await self.close()
            raise
        except CANNOT_CONNECT as exc:
            await self.close()
            raise cannot(f"open the PostgreSQL store at {self.location}", exc) from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        async with self._lock:
            await pool.close()

    async def _migrate(self) -> None:
        folder = resources.files("storage") / "migrations" / "postgresql"
        scripts = sorted(
            (int(p.name.split("_", 1)[0]), p) for p in folder.iterdir()
            if p.name.endswith(".sql")
        )
        async with self.pool.acquire() as conn, conn.transaction():
            # Several desks starting at once: one brings the schema up, the others wait.
            await conn.execute(f"SELECT pg_advisory_xact_lock{_LOCK}", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            applied = {r[0] for r in await conn.fetch("SELECT version FROM schema_version")}
            self.created = not applied
            if self.created:
                log.warning("a new store was created at %s: ticket numbers start at №1",
                            self.location)
            for version, script in scripts:
                if version in applied:
                    continue
                log.info("applying store migration postgresql/%s", script.name)
                await conn.execute(script.read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_version VALUES ($1)", version)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTransaction]:
        async with self._quiet_transaction() as tx:
            yield tx
        tx.committed()
        self.changed.set()

    @asynccontextmanager
    async def _quiet_transaction(self) -> AsyncIterator[PgTransaction]:
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            yield PgTransaction(conn)

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = await self.pool.fetch(numbered(sql), *params)
        return [tuple(row) for row in rows]

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self.pool.execute(numbered(sql), *params)

    async def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self.pool.execute(numbered(sql), *params)
        return int(status.rsplit(" ", 1)[-1])
