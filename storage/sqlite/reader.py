"""A SQLite store read beside the desk that runs on it, for the export.

The opening is the read-only store's (storage/sqlite/readonly.py: no lock file, `mode=ro`,
nothing created or migrated); the export adds that a read failing halfway (the file damaged,
a disk error) is a StoreError like any other trouble of the store, named in one line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from storage.base import StoreError
from storage.sqlite.connection import sqlite_path
from storage.sqlite.readonly import ReadOnlySqliteStore


class SqliteReader(ReadOnlySqliteStore):
    """The store's reads on a read-only connection, failures as StoreError."""

    @classmethod
    def from_url(cls, url: str, *, exclusive: bool = False) -> SqliteReader:
        return cls(sqlite_path(url))

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return await super()._fetchall(sql, params)
        except sqlite3.Error as exc:  # the file gone bad, a disk error: the export stops
            raise StoreError(f"DATABASE_URL: reading the store failed: {exc}") from exc
