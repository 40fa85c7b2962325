"""The embedded ticket store on SQLite through aiosqlite: one writer connection, WAL."""

from __future__ import annotations

from storage.sql.inbox import SqlInbox
from storage.sql.reads import SqlReads
from storage.sqlite.connection import sqlite_path
from storage.sqlite.inbox import SqliteInbox
from storage.sqlite.outbox import SqliteOutbox


class SqliteStore(SqlReads, SqlInbox, SqliteInbox, SqliteOutbox):
    """The embedded ticket store. All writes go through one connection, one at a time."""

    @classmethod
    def from_url(cls, url: str, *, exclusive: bool = False) -> SqliteStore:
        return cls(sqlite_path(url), exclusive=exclusive)
