"""The ticket store on PostgreSQL through asyncpg: the SQLite store's statements and promises,
shared by several desks."""

from __future__ import annotations

from storage.postgres.queues import PgQueues
from storage.sql.reads import SqlReads


class PgStore(SqlReads, PgQueues):
    """The ticket store on a PostgreSQL database."""

    @classmethod
    def from_url(cls, url: str) -> PgStore:
        return cls(url)
