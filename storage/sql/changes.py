"""What happens to a ticket, as statements: answered, interim, closed, taken, moved, rated.

Each operation names what the desk did, not the columns it touches; each store's
transaction brings the connection they run on.
"""

from __future__ import annotations

from datetime import datetime

from storage.sql.rows import ts
from storage.sql.statements import Statements


class TicketChanges(Statements):
    """The ticket-changing half of a transaction."""

    async def citizen_wrote(
        self, ticket_id: int, message_id: str, *, waits: tuple[datetime, datetime] | None = None
    ) -> None:
        if waits is None:
            await self._do("UPDATE tickets SET reply_to = ? WHERE id = ?", (message_id, ticket_id))
            return
        since, deadline = waits
        await self._do(
            "UPDATE tickets SET reply_to = ?, waiting_since = ?, deadline_at = ?, "
            "next_escalation_at = ?, escalation_level = 0 WHERE id = ?",
            (message_id, ts(since), ts(deadline), ts(deadline), ticket_id),
        )

    async def answered(self, ticket_id: int, at: datetime) -> None:
        await self._do(
            "UPDATE tickets SET first_answer_at = COALESCE(first_answer_at, ?), "
            "last_answer_at = ?, waiting_since = NULL, deadline_at = NULL, "
            "next_escalation_at = NULL, escalation_level = 0 WHERE id = ?",
            (ts(at), ts(at), ticket_id),
        )

    async def interim(self, ticket_id: int, at: datetime, deadline: datetime) -> None:
        await self._do(
            "UPDATE tickets SET interim_at = ?, interim_count = interim_count + 1, "
            "waiting_since = COALESCE(waiting_since, ?), deadline_at = ?, "
            "next_escalation_at = ?, escalation_level = 0 WHERE id = ?",
            (ts(at), ts(at), ts(deadline), ts(deadline), ticket_id),
        )

    async def close_ticket(self, ticket_id: int, at: datetime) -> None:
        await self._do(
            "UPDATE tickets SET status = 'closed', closed_at = ?, waiting_since = NULL, "
            "deadline_at = NULL, next_escalation_at = NULL WHERE id = ?",
            (ts(at), ticket_id),
        )

    async def set_unreachable(self, ticket_id: int, reason: str | None) -> None:
        await self._do("UPDATE tickets SET unreachable = ? WHERE id = ?", (reason, ticket_id))

    async def take(self, ticket_id: int, holder_id: str, holder_name: str) -> None:
        await self._do(
            "UPDATE tickets SET holder_id = ?, holder_name = ? WHERE id = ?",
            (holder_id, holder_name, ticket_id),
        )

    async def set_category(self, ticket_id: int, category: str | None) -> None:
        await self._do("UPDATE tickets SET category = ? WHERE id = ?", (category, ticket_id))

    async def rate(self, ticket_id: int, score: int, at: datetime) -> int | None:
        before = await self._one("SELECT score FROM ratings WHERE ticket_id = ?", (ticket_id,))
        await self._do(
            "INSERT INTO ratings (ticket_id, score, rated_at, first_rated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (ticket_id) DO UPDATE SET "
            "score = excluded.score, rated_at = excluded.rated_at",
            (ticket_id, score, ts(at), ts(at)),
        )
        return None if before is None else int(before[0])
