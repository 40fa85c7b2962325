"""The outbox on SQLite: the sender's questions as SQLite plans them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from storage.sql.outbox import SqlOutbox, due_by_chat_query, due_groups_query
from storage.sqlite.connection import SqliteConnection


class SqliteOutbox(SqlOutbox, SqliteConnection):
    """The outbox's queries, and their plans for the tests of a backlog."""

    async def due_groups_plan(self, skip_chats: Sequence[tuple[str, str]]) -> str:
        """SQLite's plan for the groups' question, as `EXPLAIN QUERY PLAN` says."""
        sql, params = due_groups_query(datetime.now(UTC), 16, (), skip_chats)
        rows = await self._fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        return "; ".join(str(row[3]) for row in rows)

    async def due_outbox_plan(self, skip_chats: Sequence[tuple[str, str]]) -> str:
        """SQLite's plan for the question asked chat by chat, as `EXPLAIN QUERY PLAN` says."""
        sql, params = due_by_chat_query(datetime.now(UTC), 200, (), skip_chats)
        rows = await self._fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        return "; ".join(str(row[3]) for row in rows)
