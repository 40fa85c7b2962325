"""A SQLite store opened to read only: a look into a desk's store while the desk runs.

No lock file is taken (the running desk holds it), no migration is applied and nothing can
be written: the file is opened with SQLite's `mode=ro` (https://www.sqlite.org/uri.html).
WAL lets such a reader see the last commits beside the writer. A missing file is an error,
never a new store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from storage.base import StoreError
from storage.sqlite.store import SqliteStore


class ReadOnlySqliteStore(SqliteStore):
    """The store's reads on a file opened read-only; any write fails."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, exclusive=False)

    async def open(self) -> None:
        path = Path(self._path)
        if self._path == ":memory:" or not path.is_file():
            raise StoreError(f"DATABASE_URL: no store at {path}")
        try:
            self._db = await aiosqlite.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
            await self._db.execute("PRAGMA busy_timeout = 5000")
            versions = await self._db.execute_fetchall("SELECT count(*) FROM schema_version")
        except sqlite3.Error as exc:
            await self.close()
            raise StoreError(f"DATABASE_URL: cannot read the SQLite store {path}: {exc}") from exc
        if not list(versions)[0][0]:
            await self.close()
            raise StoreError(f"DATABASE_URL: {path} holds no Frontdesk store")
