"""What happens to an incident, as statements: suggested, confirmed, dismissed, joined, closed.

Each store's transaction brings the connection they run on; the incident a staff message is about
is recorded with the outbox (`storage.sql.outbox`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from storage.base import Incident, Ticket
from storage.sql.rows import (
    INCIDENT_COLUMNS,
    TICKET_COLUMNS,
    incident_of,
    ticket_of,
    ts,
)
from storage.sql.statements import Statements
from storage.values import Outbound, Platform, Purpose

_STATES = frozenset({"open", "closed", "dismissed"})


class IncidentChanges(Statements):
    """The incident half of a transaction."""

    async def create_incident(
        self, title: str, category: str | None, ticket_ids: Sequence[int], at: datetime
    ) -> Incident:
        row = await self._one(
            "INSERT INTO incidents (state, title, category, created_at) "
            f"VALUES ('suggested', ?, ?, ?) RETURNING {INCIDENT_COLUMNS}",
            (title, category, ts(at)),
        )
        incident = incident_of(row)
        for ticket_id in ticket_ids:
            await self._join(ticket_id, incident.id)
        return incident

    async def incident(self, incident_id: int) -> Incident | None:
        row = await self._one(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
        )
        return incident_of(row) if row else None

    async def incident_by_ref(
        self, platform: Platform, chat_id: str, message_id: str
    ) -> Incident | None:
        row = await self._one(
            f"SELECT {', '.join('i.' + c.strip() for c in INCIDENT_COLUMNS.split(','))} "
            "FROM incident_refs r JOIN incidents i ON i.id = r.incident_id "
            "WHERE r.platform = ? AND r.chat_id = ? AND r.message_id = ?",
            (platform.value, chat_id, message_id),
        )
        return incident_of(row) if row else None

    async def incident_tickets(self, incident_id: int) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )
        return [ticket_of(r) for r in rows]

    async def set_incident_state(self, incident_id: int, state: str, at: datetime) -> None:
        if state not in _STATES:
            raise ValueError(f"not an incident state to set: {state!r}")
        column = {"open": "confirmed_at", "closed": "closed_at", "dismissed": "closed_at"}[state]
        await self._do(
            f"UPDATE incidents SET state = ?, {column} = COALESCE({column}, ?) WHERE id = ?",
            (state, ts(at), incident_id),
        )
        if state == "open":  # its card is posted anew: none to edit until that one is sent
            await self._do(
                "UPDATE incidents SET card_chat_id = NULL, card_message_id = NULL "
                "WHERE id = ? AND state = 'open'", (incident_id,),
            )
        if state == "dismissed":
            await self._do(
                "INSERT INTO incident_apart (ticket_id) "
                "SELECT id FROM tickets WHERE incident_id = ? ON CONFLICT DO NOTHING",
                (incident_id,),
            )
            await self._do(
                "UPDATE tickets SET incident_id = NULL WHERE incident_id = ?", (incident_id,)
            )

    async def incident_answered(self, incident_id: int, at: datetime) -> None:
        await self._do(
            "UPDATE incidents SET answered_at = COALESCE(answered_at, ?) WHERE id = ?",
            (ts(at), incident_id),
        )

    async def set_incident_title(self, incident_id: int, title: str) -> None:
        await self._do("UPDATE incidents SET title = ? WHERE id = ?", (title, incident_id))

    async def join_incident(self, ticket_id: int, incident_id: int | None) -> None:
        if incident_id is not None:
            await self._join(ticket_id, incident_id)
            return
        await self._do("UPDATE tickets SET incident_id = NULL WHERE id = ?", (ticket_id,))
        await self._do(
            "INSERT INTO incident_apart (ticket_id) VALUES (?) ON CONFLICT DO NOTHING",
            (ticket_id,),
        )

    async def _join(self, ticket_id: int, incident_id: int) -> None:
        """Into the incident, unless in another one or set apart by staff."""
        await self._do(
            "UPDATE tickets SET incident_id = ? WHERE id = ? AND incident_id IS NULL "
            "AND id NOT IN (SELECT ticket_id FROM incident_apart)",
            (incident_id, ticket_id),
        )

    async def live_incidents(self) -> list[Incident]:
        rows = await self._all(
            f"SELECT {INCIDENT_COLUMNS} FROM incidents "
            "WHERE state IN ('suggested', 'open') ORDER BY id"
        )
        return [incident_of(r) for r in rows]

    async def incident_reporters(
        self, incident_id: int, shown: int
    ) -> tuple[dict[str, int], list[int]]:
        counts = await self._all(
            "SELECT platform, COUNT(*) FROM tickets WHERE incident_id = ? GROUP BY platform",
            (incident_id,),
        )
        first = await self._all(
            "SELECT id FROM tickets WHERE incident_id = ? ORDER BY id LIMIT ?",
            (incident_id, shown),
        )
        return {str(r[0]): int(r[1]) for r in counts}, [int(r[0]) for r in first]

    async def incident_answer_rows(self, incident_id: int, since: int) -> tuple[int, int, int]:
        row = await self._one(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM outbox "
            "WHERE incident_id = ? AND id >= ? AND purpose = 'answer'",
            (incident_id, since),
        )
        return int(row[0]), int(row[1]), int(row[2])

    async def supersede_card_edits(self, incident_id: int) -> int:
        rows = await self._all(
            "SELECT id, payload FROM outbox WHERE incident_id = ? AND purpose = ? "
            "AND status = 'pending'", (incident_id, Purpose.INCIDENT_CARD.value),
        )
        stale = [int(r[0]) for r in rows if Outbound.from_json(r[1]).edits is not None]
        if stale:
            await self._do(
                "UPDATE outbox SET status = 'sent', sent_at = ?, message_ids = '[]' "
                f"WHERE id IN ({', '.join('?' * len(stale))})",
                (datetime.now(UTC).timestamp(), *stale),
            )
        return len(stale)

    async def tickets(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        if not ticket_ids:
            return []
        marks = ", ".join("?" * len(ticket_ids))
        rows = await self._all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ({marks})", tuple(ticket_ids)
        )
        return [ticket_of(r) for r in rows]

    async def apart(self, ticket_ids: Sequence[int]) -> set[int]:
        if not ticket_ids:
            return set()
        marks = ", ".join("?" * len(ticket_ids))
        rows = await self._all(
            f"SELECT ticket_id FROM incident_apart WHERE ticket_id IN ({marks})",
            tuple(ticket_ids),
        )
        return {int(r[0]) for r in rows}

    async def waiting_incidents(self) -> list[tuple[Incident, int, datetime]]:
        # From the open incidents to their tickets: closed incidents' tickets are not read.
        rows = await self._all(
            f"SELECT {INCIDENT_COLUMNS}, w.waiting, w.oldest FROM incidents JOIN ("
            "SELECT incident_id, COUNT(*) AS waiting, MIN(waiting_since) AS oldest "
            "FROM tickets WHERE incident_id IN (SELECT id FROM incidents WHERE state = 'open') "
            "AND status = 'open' AND waiting_since IS NOT NULL GROUP BY incident_id"
            ") w ON w.incident_id = incidents.id ORDER BY w.oldest, incidents.id"
        )
        return [
            (incident_of(r[:-2]), int(r[-2]), datetime.fromtimestamp(r[-1], UTC)) for r in rows
        ]

    async def waiting_outside_incidents(self, limit: int) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE waiting_since IS NOT NULL "
            "AND status = 'open' AND (incident_id IS NULL OR incident_id NOT IN "
            "(SELECT id FROM incidents WHERE state = 'open')) ORDER BY waiting_since, id LIMIT ?",
            (limit,),
        )
        return [ticket_of(r) for r in rows]
