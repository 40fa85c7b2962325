"""A PostgreSQL store read beside the desks that run on it: for the export, never for a desk.

Its sessions are read-only (`default_transaction_read_only`:
https://www.postgresql.org/docs/current/runtime-config-client.html), it neither creates nor
migrates the schema, and it is no desk: it takes no roles, claims no chats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.base import StoreError
from storage.postgres.connection import CANNOT_CONNECT, CONNECT_TIMEOUT, PgConnection, cannot
from storage.postgres.store import PgStore
from storage.schema import behind


class PgReader(PgStore):
    """The store's reads on a small read-only pool; open() refuses what is not a store."""

    @classmethod
    def from_url(cls, url: str) -> PgReader:
        return cls(url, pool_size=2)

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._url, min_size=1, max_size=self._pool_size, timeout=CONNECT_TIMEOUT,
                command_timeout=600, server_settings={"default_transaction_read_only": "on"},
            )
            found = await self._pool.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
            versions = await self._pool.fetch("SELECT version FROM schema_version") \
                if found else []
        except CANNOT_CONNECT as exc:
            await self.close()
            raise cannot(f"read the PostgreSQL store at {self.location}", exc) from exc
        if not found:
            await self.close()
            raise StoreError(f"DATABASE_URL: no Frontdesk store at {self.location}")
        older = behind(self.location, (int(r[0]) for r in versions), "postgresql")
        if older:
            await self.close()
            raise StoreError(older)

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return await super()._fetchall(sql, params)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            # The server gone, the connection cut: the export stops, nothing at --out.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"DATABASE_URL: reading {self.location} failed: {reason}") from exc

    async def close(self) -> None:
        # The desks' own leaving (their roles, claims, liveness) is not a reader's.
        await PgConnection.close(self)
