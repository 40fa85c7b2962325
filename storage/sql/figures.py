"""The figures /metrics and /healthz read from the store, in statements that stay cheap at a
million tickets: each count or oldest row is read from a partial index whose rows are the
few that are open or pending, never from the whole table (see bench/metrics.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from storage.figures import DeskFigures

# One statement, so a scrape costs one round trip. Every subquery has its partial index:
# tickets_citizen_open (status = 'open'), tickets_waiting (waiting_since IS NOT NULL),
# outbox_pending (status = 'pending'), inbox_due (done = 0 AND set_aside_at IS NULL).
FIGURES = (
    "SELECT "
    "(SELECT COUNT(*) FROM tickets WHERE status = 'open'), "
    "(SELECT COUNT(*) FROM tickets WHERE waiting_since IS NOT NULL AND deadline_at < ?), "
    "(SELECT COUNT(*) FROM outbox WHERE status = 'pending'), "
    "(SELECT created_at FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1), "
    "(SELECT COUNT(*) FROM inbox WHERE done = 0 AND set_aside_at IS NULL), "
    "(SELECT MIN(received_at) FROM inbox WHERE done = 0 AND set_aside_at IS NULL)"
)
# The store answers: a read by primary key of a table every store has.
PING = "SELECT value FROM state WHERE key = ?"


def _moment(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


class SqlFigures(ABC):
    """The operations reads of a store, outside any transaction."""

    @abstractmethod
    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, on its own (the store's connection brings it)."""

    def _file_gone(self) -> bool:
        """Whether the store's file was removed under the open connection (SQLite's)."""
        return False

    async def figures(self, now: datetime) -> DeskFigures:
        [row] = await self._fetchall(FIGURES, (now.timestamp(),))
        return DeskFigures(
            open_tickets=int(row[0]), overdue_tickets=int(row[1]),
            outbox_pending=int(row[2]), outbox_oldest=_moment(row[3]),
            inbox_pending=int(row[4]), inbox_oldest=_moment(row[5]),
        )

    async def ping(self) -> None:
        await self._fetchall(PING, ("health:ping",))
        if self._file_gone():
            raise FileNotFoundError("the store's file was removed")
