"""A write transaction on the PostgreSQL store: the desk's statements on one connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.postgres.placeholders import numbered
from storage.sql.transaction import SqlTransaction


class PgTransaction(SqlTransaction):
    """The desk's statements, numbered for PostgreSQL, on the transaction's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._conn.fetch(numbered(sql), *params)]

    async def _do(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._conn.execute(numbered(sql), *params)

    async def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self._conn.executemany(numbered(sql), rows)
