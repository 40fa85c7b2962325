"""A write transaction: every read and write the desk makes in one, on either store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from storage.base import (
    IntakeState,
    MessageRecord,
    NewTicket,
    Ticket,
)
from storage.sql.audit import AuditChanges
from storage.sql.changes import TicketChanges
from storage.sql.incidents import IncidentChanges
from storage.sql.retention import RetentionChanges
from storage.sql.rows import (
    DUE_ESCALATIONS,
    MESSAGES_OF_TICKET,
    TICKET_COLUMNS,
    attachments_json,
    message_of,
    ticket_of,
    ts,
)
from storage.values import (
    Outbound,
    Platform,
)

log = logging.getLogger(__name__)


class SqlTransaction(TicketChanges, IncidentChanges, AuditChanges, RetentionChanges):
    """A write transaction; the store's own subclass runs its statements."""

    _after_commit: list[Callable[[], None]] | None = None

    def after_commit(self, call: Callable[[], None]) -> None:
        if self._after_commit is None:
            self._after_commit = []
        self._after_commit.append(call)

    def committed(self) -> None:
        """The store committed: what waited on it runs; a fault of one is logged, never
        raised, as the transaction's work is done and must not be tried again."""
        calls, self._after_commit = self._after_commit or [], None
        for call in calls:
            try:
                call()
            except Exception as exc:
                log.error("what was to follow a commit failed (%s)", type(exc).__name__)

    async def ticket(self, ticket_id: int) -> Ticket | None:
        row = await self._one(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))
        return ticket_of(row) if row else None

    async def ticket_by_ref(
        self, platform: Platform, chat_id: str, message_id: str
    ) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {', '.join('t.' + c.strip() for c in TICKET_COLUMNS.split(','))} "
            "FROM refs r JOIN tickets t ON t.id = r.ticket_id "
            "WHERE r.platform = ? AND r.chat_id = ? AND r.message_id = ? ORDER BY t.id",
            (platform.value, chat_id, message_id),
        )
        return [ticket_of(row) for row in rows]

    async def ticket_by_message(self, source_key: str) -> Ticket | None:
        row = await self._one(
            f"SELECT {', '.join('t.' + c.strip() for c in TICKET_COLUMNS.split(','))} "
            "FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.source_key = ?",
            (source_key,),
        )
        return ticket_of(row) if row else None

    async def intake_state(
        self, source_key: str, platform: Platform, conversation: str, citizen_id: str
    ) -> IntakeState:
        """What a citizen's new message meets, in one query: seen before? blocked? open?"""
        columns = ", ".join("t." + c.strip() for c in TICKET_COLUMNS.split(","))
        row = await self._one(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE source_key = ?), "
            "EXISTS (SELECT 1 FROM citizens WHERE platform = ? AND citizen_id = ? "
            f"AND blocked_at IS NOT NULL), {columns} FROM (SELECT 1) AS one "
            "LEFT JOIN tickets t ON t.platform = ? AND t.conversation = ? AND t.status = 'open'",
            (source_key, platform.value, citizen_id, platform.value, conversation),
        )
        ticket = ticket_of(row[2:]) if row[2] is not None else None
        return IntakeState(seen=bool(row[0]), blocked=bool(row[1]), ticket=ticket)

    async def create_ticket(self, new: NewTicket) -> Ticket:
        row = await self._one(
            "INSERT INTO tickets (platform, channel, chat_id, conversation, citizen_id, "
            "citizen_name, citizen_link, thread_id, reply_to, link, summary, opened_at, "
            "waiting_since, deadline_at, next_escalation_at, category) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {TICKET_COLUMNS}",
            (
                new.platform.value, new.channel.value, new.chat_id, new.conversation,
                new.citizen_id, new.citizen_name, new.citizen_link, new.thread_id,
                new.reply_to, new.link, new.summary, ts(new.opened_at), ts(new.opened_at),
                ts(new.deadline_at), ts(new.deadline_at), new.category,
            ),
        )
        return ticket_of(row)

    async def messages(self, ticket_id: int) -> list[MessageRecord]:
        return [message_of(r) for r in await self._all(MESSAGES_OF_TICKET, (ticket_id,))]

    async def add_message(self, record: MessageRecord) -> bool:
        added = await self._all(
            "INSERT INTO messages (ticket_id, direction, source_key, platform_message_id, "
            "author, text, attachments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source_key) DO NOTHING RETURNING id",
            (
                record.ticket_id, record.direction, record.source_key,
                record.platform_message_id, record.author, record.text,
                attachments_json(record.attachments), ts(record.created_at),
            ),
        )
        return bool(added)

    async def mark_message(
        self, source_key: str, *, edited_at: datetime | None = None,
        deleted_at: datetime | None = None, text: str | None = None,
    ) -> None:
        await self._do(
            "UPDATE messages SET edited_at = COALESCE(?, edited_at), "
            "deleted_at = COALESCE(?, deleted_at), text = COALESCE(?, text) "
            "WHERE source_key = ?",
            (ts(edited_at), ts(deleted_at), text, source_key),
        )

    async def enqueue_many(self, outbounds: Sequence[Outbound]) -> None:
        """Several messages at once, in order (one statement)."""
        if not outbounds:
            return
        now = ts(datetime.now(UTC))
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(outbounds))
        params: list[Any] = []
        for out in outbounds:
            params += [out.platform.value, out.chat_id, out.purpose.value, out.ticket_id,
                       out.to_json(), now, now, out.incident]
        await self._do(
            "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, not_before, "
            f"created_at, incident_id) VALUES {values}",
            params,
        )

    async def enqueue(self, outbound: Outbound, not_before: datetime | None = None) -> int:
        now = datetime.now(UTC)
        row = await self._one(
            "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, not_before, "
            "created_at, incident_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                outbound.platform.value, outbound.chat_id, outbound.purpose.value,
                outbound.ticket_id, outbound.to_json(), ts(not_before or now), ts(now),
                outbound.incident,
            ),
        )
        return int(row[0])

    async def finish_inbox(self, inbox_id: int, error: str | None = None) -> None:
        await self._do(
            "UPDATE inbox SET done = 1, error = ? WHERE id = ?", (error, inbox_id)
        )

    async def set_blocked(self, platform: Platform, citizen_id: str, blocked: bool) -> None:
        await self._do(
            "INSERT INTO citizens (platform, citizen_id, blocked_at) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, citizen_id) DO UPDATE SET blocked_at = excluded.blocked_at",
            (platform.value, citizen_id, datetime.now(UTC).timestamp() if blocked else None),
        )

    # escalation: the sweep, the queue and the digest's once-a-day mark

    async def due_escalations(self, now: datetime, limit: int) -> list[Ticket]:
        rows = await self._all(DUE_ESCALATIONS, (now.timestamp(), limit))
        return [ticket_of(r) for r in rows]

    async def set_escalations(
        self, steps: Sequence[tuple[int, int, datetime | None]]
    ) -> None:
        """(ticket, level reached, when the next level is due) for several tickets."""
        if steps:
            await self._many(
                "UPDATE tickets SET escalation_level = ?, next_escalation_at = ? WHERE id = ?",
                [(level, ts(next_at), ticket_id) for ticket_id, level, next_at in steps],
            )

    async def waiting_tickets(self, limit: int) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE waiting_since IS NOT NULL "
            "AND status = 'open' ORDER BY waiting_since, id LIMIT ?",
            (limit,),
        )
        return [ticket_of(row) for row in rows]

    async def waiting_count(self) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM tickets WHERE waiting_since IS NOT NULL AND status = 'open'"
        )
        return int(row[0])

    # a citizen's own: /status, through the partial index on (platform, citizen_id) of the
    # open tickets

    async def citizen_tickets(
        self, platform: Platform, citizen_id: str, limit: int
    ) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE platform = ? AND citizen_id = ? "
            "AND status = 'open' ORDER BY id DESC LIMIT ?",
            (platform.value, citizen_id, limit),
        )
        return [ticket_of(row) for row in rows]

    async def citizen_open_count(self, platform: Platform, citizen_id: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM tickets WHERE platform = ? AND citizen_id = ? "
            "AND status = 'open'",
            (platform.value, citizen_id),
        )
        return int(row[0])

    async def get_state(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM state WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def set_state(self, key: str, value: str) -> None:
        await self._do(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
