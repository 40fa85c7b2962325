"""The two queues on PostgreSQL, shared by several desks: a chat is claimed before sending.

A desk claims the chats it is about to send to (`chat_claims`), for `LEASE` seconds; the
claim is renewed while the chat's rows are under way (the sender names its rows in flight at
every look), kept until a retry is due (a 429's wait holds for every desk), and kept a
little after the last send (`AFTER_GROUP`, `AFTER_PRIVATE`), so the chat's own rate is
counted by the one desk that sends there. Claims are made one desk at a time (an advisory
lock for the length of a short transaction); a chat another desk has a live claim on is left
out of the question itself. A desk killed with chats claimed leaves them to the others once
the claims run out; one that stops in order lets them go at once. Times are the server's.

The inbox is handled by one desk at a time (the "inbox" role, bot/pump.py); a row is
finished only once (`PgTransaction.finish_inbox`), whatever two desks do at a handover.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import asyncpg

from storage.base import OutboxItem
from storage.postgres.connection import CLAIM_LOCK
from storage.postgres.sharing import CHANNEL, NOW, PgSharing
from storage.sql.inbox import SqlInbox
from storage.sql.outbox import Dialect, Free, SqlOutbox

# Seconds a claim holds without being renewed: the sender renews its chats in flight at
# every look, at least once a second while any is.
LEASE = 30.0
# Seconds a chat stays with the desk that last sent there: a busy chat's rate (a group's 20
# messages a minute on Telegram, a private chat's one a second) is counted by one desk. A
# group changes desks only after 10 s without a message, or when its desk is gone; then the
# new desk's count starts afresh, and should the minute hold more than Telegram takes, its
# 429 says how long to wait, which holds for every desk (outbox_retry). Longer would keep a
# dead desk's staff chat waiting longer.
AFTER_GROUP = 10.0
AFTER_PRIVATE = 2.0

POSTGRES = Dialect(
    chat_index="",  # the planner finds outbox_chat_pending itself
    topic_is="(payload::json ->> 'topic')::bigint IS NOT DISTINCT FROM ?",
)
_OTHERS_CLAIM = (
    "NOT EXISTS (SELECT 1 FROM chat_claims c WHERE c.platform = {t}.platform "
    "AND c.chat_id = {t}.chat_id AND c.desk_id <> ? AND c.until > ?)"
)
Read = Callable[[Sequence[tuple[str, str]], Free], Awaitable[list[OutboxItem]]]
SKIPPED = 200  # other desks' chats passed as ranges to skip, at most


def _chats(items: Sequence[OutboxItem]) -> tuple[list[str], list[str]]:
    """The (platform, chat) pairs of these rows, as two arrays for unnest."""
    pairs = sorted({(i.outbound.platform.value, i.outbound.chat_id) for i in items})
    return [p for p, _ in pairs], [c for _, c in pairs]


class PgQueues(SqlInbox, SqlOutbox, PgSharing):
    """The inbox, and the outbox claimed by this desk chat by chat."""

    _dialect = POSTGRES

    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int:
        """Store updates, each once by its source key; returns how many were new.

        In the same statement, when there are new ones and another desk handles the inbox,
        that desk is told (NOTIFY goes with the commit, or not at all).
        """
        if not items:
            return 0
        added = await self.pool.fetchval(
            "WITH added AS (INSERT INTO inbox (platform, source, payload, received_at) "
            f"SELECT $1, u.source, u.payload, {NOW} FROM unnest($2::text[], $3::text[]) "
            "AS u (source, payload) ON CONFLICT (source) DO NOTHING RETURNING 1) "
            "SELECT count(*) FROM added WHERE $4::bool "
            "OR pg_notify($5, current_schema() || ' ' || $1) IS NOT NULL",
            platform, [source for source, _ in items], [payload for _, payload in items],
            self.handles_inbox, CHANNEL,
        )
        if added:
            self.arrivals(platform).set()
        return int(added)

    async def due_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (),
    ) -> list[OutboxItem]:
        return await self._claim(exclude, lambda others, free: self._due(
            now, limit, exclude, [*skip_chats, *others], free=free
        ))

    async def due_group_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (), skip_topics: Sequence[tuple[str, int]] = (),
    ) -> list[OutboxItem]:
        return await self._claim(exclude, lambda others, free: self._due_groups(
            now, limit, exclude, [*skip_chats, *others], skip_topics, free=free
        ))

    async def _claim(self, exclude: Sequence[int], read: Read) -> list[OutboxItem]:
        """The rows `read` finds due outside the chats other desks hold, their chats claimed.

        The chats of the rows in flight (`exclude`, this desk's) have their claims renewed.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", CLAIM_LOCK
            )
            clock = float(await conn.fetchval(f"SELECT {NOW}"))
            if exclude:
                await conn.execute(
                    "UPDATE chat_claims c SET until = GREATEST(c.until, $1) FROM outbox o "
                    "WHERE o.id = ANY($2::bigint[]) AND c.platform = o.platform "
                    "AND c.chat_id = o.chat_id AND c.desk_id = $3",
                    clock + LEASE, list(exclude), self.desk_id,
                )
            # Other desks' chats: a few are skipped as ranges of the chat index, so their
            # backlogs are not read; beyond that the condition alone leaves them out.
            others = await conn.fetch(
                "SELECT platform, chat_id FROM chat_claims WHERE desk_id <> $1 AND until > $2 "
                "LIMIT $3", self.desk_id, clock, SKIPPED + 1,
            )
            skip = [(r[0], r[1]) for r in others] if len(others) <= SKIPPED else []
            items = await read(skip, (_OTHERS_CLAIM, [self.desk_id, clock]))
            if not items:
                return []
            platforms, chats = _chats(items)
            granted = await conn.fetch(
                "INSERT INTO chat_claims (platform, chat_id, desk_id, until) "
                "SELECT u.platform, u.chat_id, $3, $4 FROM unnest($1::text[], $2::text[]) "
                "AS u (platform, chat_id) ON CONFLICT (platform, chat_id) DO UPDATE SET "
                "desk_id = excluded.desk_id, until = GREATEST(excluded.until, CASE WHEN "
                "chat_claims.desk_id = excluded.desk_id THEN chat_claims.until ELSE 0 END) "
                "WHERE chat_claims.desk_id = excluded.desk_id OR chat_claims.until <= $5 "
                "RETURNING platform, chat_id",
                platforms, chats, self.desk_id, clock + LEASE, clock,
            )
        mine = {(row[0], row[1]) for row in granted}
        return [i for i in items if (i.outbound.platform.value, i.outbound.chat_id) in mine]

    async def outbox_sent_many(
        self, items: Sequence[OutboxItem], message_ids: Sequence[str]
    ) -> None:
        await super().outbox_sent_many(items, message_ids)
        platforms, chats = _chats(items)
        await self.pool.execute(
            f"UPDATE chat_claims c SET until = {NOW} + CASE WHEN "
            "c.chat_id LIKE '-%' THEN $1::float8 ELSE $2::float8 END "
            "FROM unnest($3::text[], $4::text[]) AS u (platform, chat_id) "
            "WHERE c.platform = u.platform "
            "AND c.chat_id = u.chat_id AND c.desk_id = $5",
            AFTER_GROUP, AFTER_PRIVATE, platforms, chats, self.desk_id,
        )

    async def outbox_retry(
        self, item: OutboxItem, not_before: datetime, error: str, sent: Sequence[str] = ()
    ) -> None:
        """Tried again later, by this desk: the chat stays its own until then, so nothing
        after the row goes before it from another desk, nor while the platform said wait."""
        await super().outbox_retry(item, not_before, error, sent)
        wait = max(0.0, (not_before - datetime.now(UTC)).total_seconds())
        await self.pool.execute(
            f"UPDATE chat_claims SET until = GREATEST(until, {NOW} + $1 + 1) "
            "WHERE platform = $2 AND chat_id = $3 AND desk_id = $4",
            wait, item.outbound.platform.value, item.outbound.chat_id, self.desk_id,
        )

    async def close(self) -> None:
        """Let this desk's chats go but those waiting for a retry, so that another desk or
        a restart need not wait out their claims; then close."""
        if self._pool is not None:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # A chat kept for a retry stays kept until then: nothing after the waiting
                # row may go before it, nor while the platform said wait.
                await self._write(
                    "DELETE FROM chat_claims c WHERE desk_id = ? AND NOT EXISTS (SELECT 1 "
                    "FROM outbox o WHERE o.status = 'pending' AND o.platform = c.platform "
                    f"AND o.chat_id = c.chat_id AND o.not_before > {NOW})", (self.desk_id,),
                )
        await super().close()
