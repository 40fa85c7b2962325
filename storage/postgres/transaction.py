"""A write transaction on the PostgreSQL store: the desk's statements on one connection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import asyncpg

from storage.base import HandledElsewhere, StoreError
from storage.postgres.placeholders import numbered
from storage.sql.transaction import SqlTransaction


@contextmanager
def _unquoted() -> Iterator[None]:
    """asyncpg's DataError quotes the value it could not encode (a citizen's words, maybe):
    raised on without it, so that neither the log nor the inbox's error keeps it."""
    try:
        yield
    except asyncpg.DataError as exc:
        raise StoreError(f"a value the store could not take ({type(exc).__name__})") from None


class PgTransaction(SqlTransaction):
    """The desk's statements, numbered for PostgreSQL, on the transaction's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with _unquoted():
            return [tuple(row) for row in await self._conn.fetch(numbered(sql), *params)]

    async def _do(self, sql: str, params: Sequence[Any] = ()) -> None:
        with _unquoted():
            await self._conn.execute(numbered(sql), *params)

    async def finish_inbox(self, inbox_id: int, error: str | None = None) -> None:
        """The row finished, once: its lock makes a second desk at a handover wait here, and
        then find it done, and roll its whole handling back."""
        done = await self._conn.fetchval(
            "UPDATE inbox SET done = 1, error = $1 WHERE id = $2 AND done = 0 RETURNING id",
            error, inbox_id,
        )
        if done is None and await self._conn.fetchval(
            "SELECT 1 FROM inbox WHERE id = $1", inbox_id
        ):
            raise HandledElsewhere(f"inbox row {inbox_id} was handled by another desk")

    async def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with _unquoted():
                await self._conn.executemany(numbered(sql), rows)

    async def drop_claims(self, before: datetime) -> int:
        """Claims on chats run out before then, removed (personal data's retention, see
        storage/sql/retention.py): a claim names a chat, a citizen's maybe."""
        status = await self._conn.execute(
            "DELETE FROM chat_claims WHERE until < $1", before.timestamp()
        )
        return int(status.rsplit(" ", 1)[-1])
