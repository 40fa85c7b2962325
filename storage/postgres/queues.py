"""The two queues on PostgreSQL, shared by several desks: rows are claimed with a lease.

A desk claims the inbox rows it is about to handle and the outbox rows it is about to send,
until `LEASE` seconds from now; the claim is renewed while the row is still under way (the
sender names its rows in flight at every look). A desk killed with rows claimed leaves them
to the others once the lease has run out; one that stops in order lets its claims go.
Claims to send are made one desk at a time (an advisory lock for the length of a short
transaction) and a chat another desk has a live claim in is skipped, so a chat's messages
go from one desk at a time, in order, and no row goes from two desks at once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import asyncpg

from storage.base import InboxItem, OutboxItem
from storage.postgres.connection import CLAIM_LOCK
from storage.postgres.sharing import PgSharing
from storage.sql.inbox import SqlInbox
from storage.sql.outbox import Dialect, SqlOutbox

# Seconds a claim holds without being renewed: the sender renews its rows in flight at every
# look (at least once a second while any is), and a batch of the inbox takes well under it.
LEASE = 30.0

POSTGRES = Dialect(
    chat_index="",  # the planner finds outbox_chat_pending itself
    topic_is="(payload::json ->> 'topic')::bigint IS NOT DISTINCT FROM ?",
)


class PgQueues(SqlInbox, SqlOutbox, PgSharing):
    """The inbox and the outbox, claimed by this desk row by row."""

    _dialect = POSTGRES

    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int:
        """Store updates, each once by its source key; returns how many were new."""
        if not items:
            return 0
        now = time.time()
        status = await self.pool.execute(
            "INSERT INTO inbox (platform, source, payload, received_at) "
            "SELECT $1, u.source, u.payload, $4 FROM unnest($2::text[], $3::text[]) "
            "AS u (source, payload) ON CONFLICT (source) DO NOTHING",
            platform, [source for source, _ in items], [payload for _, payload in items], now,
        )
        self.changed.set()
        return int(status.rsplit(" ", 1)[-1])

    async def pending_inbox(
        self, platform: str, limit: int, now: datetime | None = None
    ) -> list[InboxItem]:
        """Rows to handle now, claimed for this desk: none another desk is handling."""
        moment = (now.timestamp() if now is not None else time.time())
        clock = time.time()
        rows = await self.pool.fetch(
            "UPDATE inbox SET claimed_by = $1, claimed_until = $2 WHERE id IN ("
            "SELECT id FROM inbox WHERE platform = $3 AND done = 0 AND set_aside_at IS NULL "
            "AND not_before <= $4 AND (claimed_by IS NULL OR claimed_by = $1 "
            "OR claimed_until < $5) ORDER BY id LIMIT $6 FOR UPDATE SKIP LOCKED) "
            "RETURNING id, platform, source, payload, attempts",
            self.desk_id, clock + LEASE, platform, moment, clock, limit,
        )
        return sorted((InboxItem(*row) for row in rows), key=lambda item: item.id)

    async def due_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (),
    ) -> list[OutboxItem]:
        return await self._claim(
            exclude, skip_chats,
            lambda skip: SqlOutbox.due_outbox(self, now, limit, exclude, skip),
        )

    async def due_group_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (), skip_topics: Sequence[tuple[str, int]] = (),
    ) -> list[OutboxItem]:
        return await self._claim(
            exclude, skip_chats,
            lambda skip: SqlOutbox.due_group_outbox(
                self, now, limit, exclude, skip, skip_topics
            ),
        )

    async def _claim(
        self, exclude: Sequence[int], skip_chats: Sequence[tuple[str, str]],
        read: Callable[[Sequence[tuple[str, str]]], Awaitable[list[OutboxItem]]],
    ) -> list[OutboxItem]:
        """The rows `read` finds due outside the chats other desks are sending to, claimed.

        The rows in flight (`exclude`, this desk's) have their claims renewed first.
        """
        clock = time.time()
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", CLAIM_LOCK
            )
            if exclude:
                await conn.execute(
                    "UPDATE outbox SET claimed_until = $1 WHERE id = ANY($2::bigint[]) "
                    "AND claimed_by = $3", clock + LEASE, list(exclude), self.desk_id,
                )
            others = await conn.fetch(
                "SELECT DISTINCT platform, chat_id FROM outbox WHERE status = 'pending' "
                "AND claimed_by IS NOT NULL AND claimed_by <> $1 AND claimed_until > $2",
                self.desk_id, clock,
            )
            items = await read([*skip_chats, *((r[0], r[1]) for r in others)])
            if not items:
                return []
            claimed = await conn.fetch(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2 "
                "WHERE id = ANY($3::bigint[]) AND status = 'pending' RETURNING id",
                self.desk_id, clock + LEASE, [item.id for item in items],
            )
        ids = {row[0] for row in claimed}
        return [item for item in items if item.id in ids]

    async def close(self) -> None:
        """Let this desk's claims go, so that a restart or another desk need not wait out
        their leases; then close."""
        if self._pool is not None:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                for table in ("inbox", "outbox"):
                    await self._write(
                        f"UPDATE {table} SET claimed_by = NULL, claimed_until = NULL "
                        "WHERE claimed_by = ?", (self.desk_id,),
                    )
        await super().close()
