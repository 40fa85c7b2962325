"""What a store brings to run the desk's statements outside a transaction."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from storage.sql.audit import AuditReads
from storage.sql.export import SqlExport
from storage.sql.figures import SqlFigures
from storage.sql.transaction import SqlTransaction


class SqlConnection(AuditReads, SqlFigures, SqlExport, ABC):
    """A store's way to its database: statements, and transactions of them."""

    changed: asyncio.Event  # set when the outbox may have new rows, for the sender
    _arrived: dict[str, asyncio.Event]

    def arrivals(self, platform: str) -> asyncio.Event:
        """Set when updates of `platform` were stored (`Store.arrivals`)."""
        if not hasattr(self, "_arrived"):
            self._arrived = {}
        return self._arrived.setdefault(platform, asyncio.Event())

    def _arrived_events(self) -> list[asyncio.Event]:
        return list(getattr(self, "_arrived", {}).values())

    @abstractmethod
    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement, on its own."""

    @abstractmethod
    async def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        """One statement on its own."""

    @abstractmethod
    async def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement on its own; how many rows it wrote."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[SqlTransaction]:
        """Statements that commit together; the sender looks again after it."""

    @abstractmethod
    def _quiet_transaction(self) -> AbstractAsyncContextManager[SqlTransaction]:
        """A transaction that adds no outbox rows, so the sender need not look again."""
