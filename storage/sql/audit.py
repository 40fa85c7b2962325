"""The audit trail in SQL: an entry written in the transaction of what it records, and the
reads of it — one ticket's for `/audit`, several tickets' and a time range's for the export.

Reads go by index: (ticket_id, id) for a ticket's entries, (at, id) for a range, paged by
id so that a year of entries is read in constant memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from storage.auditing import Actor, AuditAction, AuditEntry
from storage.sql.statements import Statements

AUDIT_COLUMNS = "id, at, action, actor, staff_id, staff_name, ticket_id, incident_id, detail"
AUDIT_PAGE = 1000  # entries read at a time by the range read
_IN_CHUNK = 500  # ticket ids in one IN (…): well under either database's parameter limit


def audit_of(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        id=int(row[0]), at=datetime.fromtimestamp(row[1], UTC), action=AuditAction(row[2]),
        actor=Actor(row[3]), staff_id=row[4], staff_name=row[5] or "",
        ticket_id=None if row[6] is None else int(row[6]),
        incident_id=None if row[7] is None else int(row[7]), detail=row[8] or "",
    )


class AuditChanges(Statements):
    """The audit half of a transaction: an entry, and a ticket's entries so far."""

    async def audit(self, entry: AuditEntry) -> None:
        await self._do(
            "INSERT INTO audit (at, action, actor, staff_id, staff_name, ticket_id, "
            "incident_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.at.timestamp(), entry.action.value, entry.actor.value, entry.staff_id,
                entry.staff_name, entry.ticket_id, entry.incident_id, entry.detail,
            ),
        )

    async def audit_of_ticket(self, ticket_id: int) -> list[AuditEntry]:
        rows = await self._all(
            f"SELECT {AUDIT_COLUMNS} FROM audit WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [audit_of(r) for r in rows]


class AuditReads(ABC):
    """The audit reads of a store, outside any transaction."""

    @abstractmethod
    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, on its own (the store's connection brings it)."""

    async def audit_of_ticket(self, ticket_id: int) -> list[AuditEntry]:
        rows = await self._fetchall(
            f"SELECT {AUDIT_COLUMNS} FROM audit WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [audit_of(r) for r in rows]

    async def audit_for_tickets(
        self, ticket_ids: Sequence[int]
    ) -> dict[int, list[AuditEntry]]:
        wanted = sorted(set(ticket_ids))
        found: dict[int, list[AuditEntry]] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start:start + _IN_CHUNK]
            rows = await self._fetchall(
                f"SELECT {AUDIT_COLUMNS} FROM audit "
                f"WHERE ticket_id IN ({', '.join('?' * len(chunk))}) ORDER BY ticket_id, id",
                chunk,
            )
            for row in rows:
                entry = audit_of(row)
                assert entry.ticket_id is not None  # by the WHERE
                found.setdefault(entry.ticket_id, []).append(entry)
        return found

    async def audit_between(
        self, start: datetime, end: datetime, page: int = AUDIT_PAGE
    ) -> AsyncIterator[AuditEntry]:
        after: tuple[float, int] = (start.timestamp(), 0)
        while True:
            rows = await self._fetchall(
                f"SELECT {AUDIT_COLUMNS} FROM audit WHERE at < ? "
                "AND (at > ? OR (at = ? AND id > ?)) ORDER BY at, id LIMIT ?",
                (end.timestamp(), after[0], after[0], after[1], page),
            )
            for row in rows:
                yield audit_of(row)
            if len(rows) < page:
                return
            after = (float(rows[-1][1]), int(rows[-1][0]))
