"""The export's read: the tickets opened in a span, page by page, for `python -m bot export`.

Pages go by ticket number (keyset: `id > last … LIMIT n`), never by OFFSET, so each page
costs the same however far the export has come, and memory holds one page. The span is
found once through the index on opened_at; the citizens' messages of a page come in one
statement, not one per ticket, and so do the page's entries of the audit trail.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from storage.auditing import AuditEntry
from storage.base import ExportedTicket
from storage.sql.rows import T_TICKET_COLUMNS, ticket_of

PAGE = 500  # tickets a page: a few hundred kilobytes with their texts

_IN_SPAN = "opened_at >= ? AND opened_at < ?"


class SqlExport(ABC):
    """The export's reads, each page one or two statements outside a transaction."""

    @abstractmethod
    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, on its own."""

    @abstractmethod
    async def audit_for_tickets(
        self, ticket_ids: Sequence[int]
    ) -> dict[int, list[AuditEntry]]:
        """The audit trail's entries of these tickets (storage/sql/audit.py)."""

    async def export_count(self, start: datetime, end: datetime) -> int:
        rows = await self._fetchall(
            f"SELECT COUNT(*) FROM tickets WHERE {_IN_SPAN}", (start.timestamp(), end.timestamp())
        )
        return int(rows[0][0])

    async def export_tickets(
        self, start: datetime, end: datetime, *, personal: bool, page: int = PAGE
    ) -> AsyncIterator[ExportedTicket]:
        span = (start.timestamp(), end.timestamp())
        bounds = await self._fetchall(f"SELECT MIN(id), MAX(id) FROM tickets WHERE {_IN_SPAN}",
                                      span)
        low, high = bounds[0]
        if low is None:
            return
        last = int(low) - 1
        while True:
            rows = await self._fetchall(
                f"SELECT {T_TICKET_COLUMNS}, r.score FROM tickets t "
                "LEFT JOIN ratings r ON r.ticket_id = t.id WHERE t.id > ? AND t.id <= ? "
                "AND t.opened_at >= ? AND t.opened_at < ? ORDER BY t.id LIMIT ?",
                (last, int(high), *span, page),
            )
            if not rows:
                return
            tickets = [(ticket_of(row[:-1]), row[-1]) for row in rows]
            first, last = tickets[0][0].id, tickets[-1][0].id
            texts = await self._citizen_texts(first, last) if personal else {}
            actions = await self.audit_for_tickets([ticket.id for ticket, _ in tickets])
            for ticket, score in tickets:
                yield ExportedTicket(
                    ticket=ticket, rating=None if score is None else int(score),
                    texts=tuple(texts.get(ticket.id, ())),
                    actions=tuple(actions.get(ticket.id, ())),
                )
            if len(rows) < page:
                return

    async def _citizen_texts(self, first: int, last: int) -> dict[int, list[str]]:
        """The citizens' texts of the tickets numbered first..last, each ticket's in order."""
        rows = await self._fetchall(
            "SELECT ticket_id, text FROM messages WHERE ticket_id >= ? AND ticket_id <= ? "
            "AND direction = 'in' AND text <> '' ORDER BY ticket_id, id",
            (first, last),
        )
        texts: dict[int, list[str]] = defaultdict(list)
        for ticket_id, text in rows:
            texts[int(ticket_id)].append(str(text))
        return texts
