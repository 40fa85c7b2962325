"""Personal data kept no longer than needed (152-FZ art. 5 part 7, art. 21): the statements.

A ticket is anonymized only once it is closed: its texts, the citizen's name, profile link and
platform ids, its messages' texts and files, and the copies in the outbox go; its figures stay
(number, platform, channel, department, times, counts, rating score). The raw copies, inbox
payloads of handled updates and outbox payloads of sent messages, are pruned apart after a
short window; an empty payload is a pruned one. Nothing pending is touched: an unhandled
update, or a message not yet sent, still needs all it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.sql.rows import dt
from storage.sql.statements import Statements
from storage.values import TO_CITIZEN, Platform

# Messages to a citizen: once sent and pruned, their chat (the citizen's platform id) goes too.
_CITIZEN_PURPOSES = ", ".join(f"'{p.value}'" for p in sorted(TO_CITIZEN))
# How a citizen's platform id appears in the raw updates the inbox keeps: Telegram's as
# bot/telegram/polling.py stores them (json.dumps, default separators), VK's compact.
_ID_PATTERNS: dict[Platform, tuple[str, ...]] = {
    Platform.TELEGRAM: ('"id": ID,', '"id": ID}'),
    Platform.VK: tuple(
        f'"{key}":ID{end}' for key in ("from_id", "peer_id", "user_id") for end in (",", "}")
    ),
}


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _like(text: str) -> str:
    """`text` anywhere, with LIKE's own characters taken literally (escape `!`)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


class RetentionChanges(Statements):
    """Anonymizing tickets and pruning raw copies, in a transaction of the caller's: a
    batch each, so the store's other work goes on between them."""

    async def anonymize_closed(self, before: datetime, at: datetime, limit: int) -> list[int]:
        rows = await self._all(
            "SELECT id FROM tickets WHERE status = 'closed' AND anonymized_at IS NULL "
            "AND closed_at < ? ORDER BY closed_at, id LIMIT ?",
            (before.timestamp(), limit),
        )
        return await self.anonymize([int(r[0]) for r in rows], at)

    async def anonymize(self, ticket_ids: Sequence[int], at: datetime) -> list[int]:
        if not ticket_ids:
            return []
        rows = await self._all(
            f"SELECT id FROM tickets WHERE id IN ({_marks(ticket_ids)}) "
            "AND status = 'closed' AND anonymized_at IS NULL ORDER BY id",
            tuple(ticket_ids),
        )
        ids = tuple(int(r[0]) for r in rows)
        if not ids:
            return []
        marks = _marks(ids)
        # The outbox's copies: sent or given up (a pending one still has to go out).
        await self._do(
            "UPDATE outbox SET payload = '', chat_id = CASE WHEN chat_id = (SELECT t.chat_id "
            "FROM tickets t WHERE t.id = outbox.ticket_id) THEN '' ELSE chat_id END "
            f"WHERE ticket_id IN ({marks}) AND status <> 'pending'",
            ids,
        )
        await self._do(
            "UPDATE messages SET text = '', attachments = '[]', source_key = NULL, "
            "platform_message_id = NULL, author = CASE WHEN direction = 'in' THEN '' "
            f"ELSE author END WHERE ticket_id IN ({marks})",
            ids,
        )
        # An incident named after the start of a report (handlers/incidents.py) loses it.
        await self._do(
            "UPDATE incidents SET title = '—' WHERE title <> '—' AND EXISTS (SELECT 1 FROM "
            f"tickets t WHERE t.id IN ({marks}) AND t.incident_id = incidents.id "
            "AND t.summary <> '' AND substr(t.summary, 1, 60) = incidents.title)",
            ids,
        )
        await self._do(
            "UPDATE tickets SET chat_id = '', conversation = '', citizen_id = '', "
            "citizen_name = '', citizen_link = '', thread_id = NULL, reply_to = NULL, "
            f"link = '', summary = '', unreachable = NULL, anonymized_at = ? "
            f"WHERE id IN ({marks})",
            (at.timestamp(), *ids),
        )
        return list(ids)

    async def prune_inbox(self, before: datetime, limit: int) -> int:
        rows = await self._all(
            "UPDATE inbox SET payload = '' WHERE id IN (SELECT id FROM inbox "
            "WHERE payload <> '' AND done = 1 AND received_at < ? ORDER BY id LIMIT ?) "
            "RETURNING id",
            (before.timestamp(), limit),
        )
        return len(rows)

    async def prune_outbox(self, before: datetime, limit: int) -> int:
        rows = await self._all(
            "UPDATE outbox SET payload = '', chat_id = CASE WHEN purpose IN "
            f"({_CITIZEN_PURPOSES}) THEN '' ELSE chat_id END WHERE id IN (SELECT id "
            "FROM outbox WHERE payload <> '' AND status IN ('sent', 'failed') "
            "AND COALESCE(sent_at, created_at) < ? ORDER BY id LIMIT ?) RETURNING id",
            (before.timestamp(), limit),
        )
        return len(rows)

    async def drop_citizens(self, limit: int) -> int:
        rows = await self._all(
            "DELETE FROM citizens WHERE (platform, citizen_id) IN (SELECT c.platform, "
            "c.citizen_id FROM citizens c WHERE c.blocked_at IS NULL AND NOT EXISTS ("
            "SELECT 1 FROM tickets t WHERE t.platform = c.platform "
            "AND t.citizen_id = c.citizen_id AND t.status = 'open' "
            "AND t.opened_at <= c.forget_before) LIMIT ?) RETURNING 1",
            (limit,),
        )
        return len(rows)

    async def drop_claims(self, before: datetime) -> int:
        """One desk keeps its claims on chats in memory: nothing in the store to drop."""
        return 0

    async def forget_citizen(
        self, platform: Platform, citizen_id: str, at: datetime
    ) -> tuple[list[int], list[int]]:
        await self._do(
            "INSERT INTO citizens (platform, citizen_id, forget_before) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, citizen_id) DO UPDATE SET "
            "forget_before = excluded.forget_before",
            (platform.value, citizen_id, at.timestamp()),
        )
        closed, still_open = await self.personal_tickets(platform, citizen_id)
        links = await self._all(
            "SELECT DISTINCT citizen_link FROM tickets WHERE platform = ? AND citizen_id = ? "
            "AND citizen_id <> '' AND citizen_link <> ''",
            (platform.value, citizen_id),
        )
        done = await self.anonymize(closed, at)
        await self._forget_raw(platform, citizen_id, [str(r[0]) for r in links])
        return done, still_open

    async def personal_tickets(
        self, platform: Platform, citizen_id: str
    ) -> tuple[list[int], list[int]]:
        rows = await self._all(
            "SELECT id, status FROM tickets WHERE platform = ? AND citizen_id = ? "
            "AND citizen_id <> '' AND anonymized_at IS NULL ORDER BY id",
            (platform.value, citizen_id),
        )
        closed = [int(r[0]) for r in rows if r[1] == "closed"]
        return closed, [int(r[0]) for r in rows if r[1] != "closed"]

    async def _forget_raw(
        self, platform: Platform, citizen_id: str, links: Sequence[str]
    ) -> None:
        """The handled raw updates still kept that carry the citizen's id, or the link to
        their profile (staff's replies quote the card, which has it): pruned now."""
        found = [p.replace("ID", citizen_id) for p in _ID_PATTERNS[platform]] \
            if citizen_id.lstrip("-").isdigit() else []
        found += [f'{link}"' for link in links]  # the whole link: id1001 is not id10011
        if not found:
            return
        patterns = [_like(p) for p in found]
        likes = " OR ".join(["payload LIKE ? ESCAPE '!'"] * len(patterns))
        await self._do(
            f"UPDATE inbox SET payload = '' WHERE payload <> '' AND done = 1 AND ({likes})",
            patterns,
        )

    async def forget_asked(self, platform: Platform, citizen_id: str) -> datetime | None:
        row = await self._one(
            "SELECT forget_before FROM citizens WHERE platform = ? AND citizen_id = ?",
            (platform.value, citizen_id),
        )
        return None if row is None else dt(row[0])

    async def forget_on_close(self, ticket_id: int, at: datetime) -> bool:
        row = await self._one(
            "SELECT t.platform, t.citizen_id, t.citizen_link FROM tickets t JOIN citizens c "
            "ON c.platform = t.platform AND c.citizen_id = t.citizen_id WHERE t.id = ? "
            "AND t.status = 'closed' AND t.citizen_id <> '' AND t.opened_at <= c.forget_before",
            (ticket_id,),
        )
        if row is None or not await self.anonymize([ticket_id], at):
            return False
        await self._forget_raw(Platform(row[0]), str(row[1]), [str(row[2])] if row[2] else [])
        return True
