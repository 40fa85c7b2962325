"""The store's reads outside a transaction: tickets, messages, the digest's and detection's."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.base import (
    Incident,
    MessageRecord,
    Ticket,
)
from storage.sql.connection import SqlConnection
from storage.sql.rows import (
    DUE_ESCALATIONS,
    INCIDENT_COLUMNS,
    MESSAGES_OF_TICKET,
    T_TICKET_COLUMNS,
    TICKET_COLUMNS,
    incident_of,
    message_of,
    ticket_of,
)
from storage.values import Platform

# The incident columns of a table aliased `i`, for joins.
_I_INCIDENT_COLUMNS = ", ".join("i." + c.strip() for c in INCIDENT_COLUMNS.split(","))


class SqlReads(SqlConnection):
    """Reads, each one statement."""

    async def ticket(self, ticket_id: int) -> Ticket | None:
        rows = await self._fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        )
        return ticket_of(rows[0]) if rows else None

    async def incident(self, incident_id: int) -> Incident | None:
        rows = await self._fetchall(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
        )
        return incident_of(rows[0]) if rows else None

    async def messages(self, ticket_id: int) -> list[MessageRecord]:
        rows = await self._fetchall(MESSAGES_OF_TICKET, (ticket_id,))
        return [message_of(r) for r in rows]

    async def due_escalations(self, now: datetime, limit: int) -> list[Ticket]:
        rows = await self._fetchall(DUE_ESCALATIONS, (now.timestamp(), limit))
        return [ticket_of(r) for r in rows]

    async def tickets_between(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened, first answered, or last given an interim answer in [start, end)."""
        span = (start.timestamp(), end.timestamp())
        rows = await self._fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE opened_at >= ? AND opened_at < ? "
            f"UNION SELECT {TICKET_COLUMNS} FROM tickets "
            "WHERE first_answer_at >= ? AND first_answer_at < ? "
            f"UNION SELECT {TICKET_COLUMNS} FROM tickets "
            "WHERE interim_at >= ? AND interim_at < ?",
            span * 3,
        )
        return [ticket_of(r) for r in rows]

    async def open_tickets(self) -> list[Ticket]:
        rows = await self._fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE status = 'open' ORDER BY id"
        )
        return [ticket_of(r) for r in rows]

    async def recent_reports(self, since: datetime, limit: int) -> list[tuple[Ticket, str]]:
        """Open tickets opened since then, newest first, each with its first message's text."""
        rows = await self._fetchall(
            f"SELECT {T_TICKET_COLUMNS}, (SELECT m.text FROM messages m WHERE m.ticket_id = t.id "
            "AND m.direction = 'in' ORDER BY m.id LIMIT 1) FROM tickets t "
            "WHERE t.opened_at >= ? AND t.status = 'open' ORDER BY t.opened_at DESC LIMIT ?",
            (since.timestamp(), limit),
        )
        return [(ticket_of(r[:-1]), r[-1] or "") for r in rows]

    async def ratings_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[str | None, int]]:
        rows = await self._fetchall(
            "SELECT t.category, r.score FROM ratings r JOIN tickets t ON t.id = r.ticket_id "
            "WHERE r.rated_at >= ? AND r.rated_at < ?",
            (start.timestamp(), end.timestamp()),
        )
        return [(row[0], int(row[1])) for row in rows]

    async def incidents_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[Incident, int, int, datetime]]:
        # A closed incident was open from its confirmation to its closing; a dismissed one
        # was never confirmed.
        rows = await self._fetchall(
            f"SELECT {_I_INCIDENT_COLUMNS}, COUNT(CASE WHEN t.platform = ? THEN 1 END), "
            "COUNT(CASE WHEN t.platform = ? THEN 1 END), MIN(t.opened_at) "
            "FROM incidents i JOIN tickets t ON t.incident_id = i.id "
            "WHERE i.state IN ('open', 'closed') AND i.confirmed_at < ? "
            "AND (i.closed_at IS NULL OR i.closed_at >= ?) GROUP BY i.id ORDER BY i.id",
            (Platform.TELEGRAM.value, Platform.VK.value, end.timestamp(), start.timestamp()),
        )
        return [
            (incident_of(r[:-3]), int(r[-3]), int(r[-2]), datetime.fromtimestamp(r[-1], UTC))
            for r in rows
        ]

    # state

    async def get_state(self, key: str) -> str | None:
        rows = await self._fetchall("SELECT value FROM state WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def set_state(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
