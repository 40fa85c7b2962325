"""How a transaction runs a statement: what each store's transaction brings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any


class Statements(ABC):
    """Statements with `?` placeholders, run in one transaction."""

    @abstractmethod
    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row the statement gives, as tuples."""

    @abstractmethod
    async def _do(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A statement whose rows are not wanted."""

    @abstractmethod
    async def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each of these rows of parameters."""

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None
