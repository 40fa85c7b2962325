"""The inbox on SQLite: updates stored before the platform is told, handled from here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from storage.sqlite.connection import SqliteConnection


class SqliteInbox(SqliteConnection):
    """Updates stored, each once: one statement for a batch."""

    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int:
        """Store updates, each once by its source key; returns how many were new."""
        if not items:
            return 0
        now = datetime.now(UTC).timestamp()
        async with self.transaction() as tx:
            cur = await tx._db.executemany(
                "INSERT INTO inbox (platform, source, payload, received_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source) DO NOTHING",
                [(platform, source, payload, now) for source, payload in items],
            )
            added = cur.rowcount
            await cur.close()
        if added > 0:
            self.arrivals(platform).set()
        return max(added, 0)
