"""A write transaction on the SQLite store's one connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from storage.sql.transaction import SqlTransaction


class SqliteTransaction(SqlTransaction):
    """The desk's statements on the store's one connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    # Every statement is one round trip to aiosqlite's thread: execute_fetchall runs it,
    # reads it and closes its cursor there (execute, fetch and close would be three).

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # No row factory is set: the rows are tuples already.
        return list(await self._db.execute_fetchall(sql, params))  # type: ignore[arg-type]

    async def _do(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._db.execute_fetchall(sql, params)

    async def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._db.executemany(sql, rows)
