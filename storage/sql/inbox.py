"""The inbox's queries: updates stored before the platform is told, handled from here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from storage.base import (
    UNREADABLE_UNTOLD,
    InboxItem,
)
from storage.sql.connection import SqlConnection


class SqlInbox(SqlConnection):
    """The inbox but for storing updates, which each store does its own way."""

    async def pending_inbox(
        self, platform: str, limit: int, now: datetime | None = None
    ) -> list[InboxItem]:
        """Rows to handle now: not done, not set aside, and not waiting for a later try."""
        moment = (now or datetime.now(UTC)).timestamp()
        rows = await self._fetchall(
            "SELECT id, platform, source, payload, attempts FROM inbox "
            "WHERE platform = ? AND done = 0 AND set_aside_at IS NULL AND not_before <= ? "
            "ORDER BY id LIMIT ?",
            (platform, moment, limit),
        )
        return [InboxItem(*row) for row in rows]

    async def finish_inbox_many(self, ids: Sequence[int], errors: Mapping[int, str]) -> None:
        """Rows handled (those not finished yet), some with the reason they failed."""
        if not ids:
            return
        async with self.transaction() as tx:
            marks = ", ".join("?" * len(ids))
            finished = {row[0] for row in await tx._all(
                f"UPDATE inbox SET done = 1 WHERE done = 0 AND id IN ({marks}) RETURNING id", ids
            )}
            # Only those finished here: one another desk finished at a handover is counted
            # by that desk.
            unreadable = {i: e for i, e in errors.items() if i in finished}
            for inbox_id, error in unreadable.items():
                await tx._do("UPDATE inbox SET error = ? WHERE id = ?", (error, inbox_id))
            if unreadable:
                # Owed to staff in the same transaction, so a crash cannot lose the count.
                owed = await tx.get_state(UNREADABLE_UNTOLD)
                await tx.set_state(UNREADABLE_UNTOLD, str(int(owed or 0) + len(unreadable)))

    async def inbox_retry(self, inbox_id: int, not_before: datetime, error: str) -> None:
        """A row whose handling failed: one more attempt counted, tried again later."""
        await self._write(
            "UPDATE inbox SET attempts = attempts + 1, not_before = ?, error = ? "
            "WHERE id = ? AND done = 0",
            (not_before.timestamp(), error[:500], inbox_id),
        )

    async def inbox_set_aside(self, inbox_id: int, error: str) -> None:
        """A row that failed its last try: kept, not done, until an operator retries it."""
        await self._write(
            "UPDATE inbox SET attempts = attempts + 1, set_aside_at = ?, error = ? "
            "WHERE id = ? AND done = 0",
            (datetime.now(UTC).timestamp(), error[:500], inbox_id),
        )

    async def set_aside_inbox(self) -> tuple[int, str | None]:
        """How many rows are set aside, and the reason the latest of them failed."""
        rows = await self._fetchall(
            "SELECT COUNT(*), (SELECT error FROM inbox WHERE done = 0 AND set_aside_at "
            "IS NOT NULL ORDER BY set_aside_at DESC LIMIT 1) FROM inbox "
            "WHERE done = 0 AND set_aside_at IS NOT NULL"
        )
        return int(rows[0][0]), rows[0][1]

    async def retry_set_aside(self) -> int:
        """Rows set aside go back to the queue with a fresh count of tries."""
        return await self._count(
            "UPDATE inbox SET set_aside_at = NULL, attempts = 0, not_before = 0 "
            "WHERE done = 0 AND set_aside_at IS NOT NULL"
        )
