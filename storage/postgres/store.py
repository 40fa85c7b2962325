"""The ticket store on PostgreSQL through asyncpg: the SQLite store's statements and promises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from storage.postgres.connection import PgConnection
from storage.sql.inbox import SqlInbox
from storage.sql.outbox import Dialect, SqlOutbox
from storage.sql.reads import SqlReads

POSTGRES = Dialect(
    chat_index="",  # the planner finds outbox_chat_pending itself
    topic_is="(payload::json ->> 'topic')::bigint IS NOT DISTINCT FROM ?",
)


class PgStore(SqlReads, SqlInbox, SqlOutbox, PgConnection):
    """The ticket store on a PostgreSQL database."""

    _dialect = POSTGRES

    @classmethod
    def from_url(cls, url: str, *, exclusive: bool = False) -> PgStore:
        return cls(url, exclusive=exclusive)

    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int:
        """Store updates, each once by its source key; returns how many were new."""
        if not items:
            return 0
        now = datetime.now(UTC).timestamp()
        async with self._lock, self.pool.acquire() as conn:
            status = await conn.execute(
                "INSERT INTO inbox (platform, source, payload, received_at) "
                "SELECT $1, u.source, u.payload, $4 FROM unnest($2::text[], $3::text[]) "
                "AS u (source, payload) ON CONFLICT (source) DO NOTHING",
                platform, [source for source, _ in items], [payload for _, payload in items],
                now,
            )
        self.changed.set()
        return int(status.rsplit(" ", 1)[-1])
