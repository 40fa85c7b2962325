"""The outbox: what the sender reads, and what it records of each delivery.

Each store names its own way to the chat index (`chat_index`: SQLite is told which index to
use, PostgreSQL's planner finds it) and to a row's forum topic in its JSON (`topic_is`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from storage.base import (
    OutboxItem,
)
from storage.sql.connection import SqlConnection
from storage.sql.rows import (
    dt,
)
from storage.sql.transaction import SqlTransaction
from storage.values import (
    TICKET_REFS,
    TO_CITIZEN,
    Outbound,
    Platform,
    Purpose,
)

_DUE_COLUMNS = "id, payload, attempts, created_at, parts_sent"
# The sender first looks at this many times `limit` of the oldest pending rows; only when
# they belong to chats under way does it ask chat by chat (see due_by_chat_query).
WINDOW = 4


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the due rows' questions say differently on each store."""

    chat_index: str  # how a branch reads through the index on (platform, chat_id, id)
    topic_is: str  # a row's forum topic is the parameter (None: no topic)


# A condition a store adds to the sender's questions, with its parameters: `{t}` names the
# table the rows come from. PostgreSQL's leaves out the chats other desks are sending to.
Free = tuple[str, Sequence[Any]]

SQLITE = Dialect(
    chat_index="INDEXED BY outbox_chat_pending",
    topic_is="json_extract(payload, '$.topic') IS ?",
)


def due_outbox_query(
    now: datetime, limit: int, exclude: Sequence[int], skip_chats: Sequence[tuple[str, str]],
    *, window: int | None = None, free: Free | None = None,
) -> tuple[str, list[Any]]:
    """The sender's question in id order: due rows, but for rows and chats under way.

    With `window`, only among that many of the oldest pending rows, so a chat with a backlog
    that is under way costs at most the window to step over.
    """
    source, name = "outbox", "outbox"
    params: list[Any] = []
    if window is not None:
        name = "oldest"
        source = (f"(SELECT platform, chat_id, not_before, {_DUE_COLUMNS} FROM outbox "
                  "WHERE status = 'pending' ORDER BY id LIMIT ?) AS oldest")
        params.append(window)
    sql = f"SELECT {_DUE_COLUMNS} FROM {source} WHERE not_before <= ?"
    if window is None:
        sql += " AND status = 'pending'"
    params.append(now.timestamp())
    if exclude:
        sql += f" AND id NOT IN ({', '.join('?' * len(exclude))})"
        params += exclude
    if skip_chats:
        sql += f" AND platform || ':' || chat_id NOT IN ({', '.join('?' * len(skip_chats))})"
        params += [f"{platform}:{chat}" for platform, chat in skip_chats]
    if free is not None:
        sql += f" AND {free[0].format(t=name)}"
        params += free[1]
    return sql + " ORDER BY id LIMIT ?", [*params, limit]


def due_by_chat_query(
    now: datetime, limit: int, exclude: Sequence[int], skip_chats: Sequence[tuple[str, str]],
    dialect: Dialect = SQLITE, *, free: Free | None = None,
) -> tuple[str, list[Any]]:
    """The same question, reading only the chats not under way.

    Per platform, the chats under way cut the index on (platform, chat_id, id) of pending
    rows into ranges between them; each range is searched, so the rows of a busy chat are
    never read, however many wait. What is read is the pending rows of the other chats.
    """
    ranges: list[tuple[str, list[Any]]] = []
    for platform in Platform:
        busy = sorted({chat for p, chat in skip_chats if p == platform.value})
        if not busy:
            ranges.append(("platform = ?", [platform.value]))
            continue
        ranges.append(("platform = ? AND chat_id < ?", [platform.value, busy[0]]))
        for low, high in itertools.pairwise(busy):
            ranges.append(("platform = ? AND chat_id > ? AND chat_id < ?",
                           [platform.value, low, high]))
        ranges.append(("platform = ? AND chat_id > ?", [platform.value, busy[-1]]))
    branches, params = [], []
    for condition, values in ranges:
        branches.append(
            f"SELECT {_DUE_COLUMNS}, platform, chat_id FROM outbox {dialect.chat_index} "
            f"WHERE status = 'pending' AND {condition} AND not_before <= ?"
        )
        params += [*values, now.timestamp()]
    sql = f"SELECT {_DUE_COLUMNS} FROM ({' UNION ALL '.join(branches)}) AS due WHERE true"
    if exclude:
        sql += f" AND id NOT IN ({', '.join('?' * len(exclude))})"
        params += exclude
    if free is not None:
        sql += f" AND {free[0].format(t='due')}"
        params += free[1]
    return sql + " ORDER BY id LIMIT ?", [*params, limit]



def due_groups_query(
    now: datetime, limit: int, exclude: Sequence[int], skip_chats: Sequence[tuple[str, str]],
    skip_topics: Sequence[tuple[str, int]] = (), *, dialect: Dialect = SQLITE,
    free: Free | None = None,
) -> tuple[str, list[Any]]:
    """Due rows for Telegram groups and channels (ids «-100…»: the staff side, and replies
    in discussion groups) but for those under way, through the chat index: the ranges of
    chat ids from «-» to «.» between the busy ones."""
    telegram = Platform.TELEGRAM.value
    busy = sorted({chat for p, chat in skip_chats if p == telegram and chat.startswith("-")})
    edges = ["-", *busy, "."]
    branches, params = [], []
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        above = "chat_id >= ?" if index == 0 else "chat_id > ?"
        branches.append(
            f"SELECT {_DUE_COLUMNS}, platform, chat_id FROM outbox {dialect.chat_index} "
            f"WHERE status = 'pending' AND platform = ? AND {above} AND chat_id < ? "
            "AND not_before <= ?"
        )
        params += [telegram, low, high, now.timestamp()]
    sql = f"SELECT {_DUE_COLUMNS} FROM ({' UNION ALL '.join(branches)}) AS due WHERE true"
    if exclude:
        sql += f" AND id NOT IN ({', '.join('?' * len(exclude))})"
        params += exclude
    for chat, topic in skip_topics:  # a forum topic under way or held: its rows wait
        sql += f" AND NOT (chat_id = ? AND {dialect.topic_is})"
        params += [chat, topic]
    if free is not None:
        sql += f" AND {free[0].format(t='due')}"
        params += free[1]
    return sql + " ORDER BY id LIMIT ?", [*params, limit]


class SqlOutbox(SqlConnection):
    """The outbox's queries."""

    _dialect: ClassVar[Dialect] = SQLITE

    async def due_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (),
    ) -> list[OutboxItem]:
        """Due rows in id order, but for rows and (platform, chat) pairs under way.

        Its cost must not grow with a backlog in a chat under way (it runs after every
        commit): the oldest rows are looked at first, and if they are all that chat's, the
        other chats are read through their own index.
        """
        return await self._due(now, limit, exclude, skip_chats)

    async def due_group_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (), skip_topics: Sequence[tuple[str, int]] = (),
    ) -> list[OutboxItem]:
        return await self._due_groups(now, limit, exclude, skip_chats, skip_topics)

    async def _due(
        self, now: datetime, limit: int, exclude: Sequence[int],
        skip_chats: Sequence[tuple[str, str]], *, free: Free | None = None,
    ) -> list[OutboxItem]:
        if not skip_chats:
            rows = await self._fetchall(*due_outbox_query(now, limit, exclude, (), free=free))
        else:
            window = limit * WINDOW
            rows = await self._fetchall(
                *due_outbox_query(now, limit, exclude, skip_chats, window=window, free=free)
            )
            if len(rows) < limit and await self._fetchall(
                "SELECT 1 FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1 OFFSET ?",
                (window,),
            ):
                rows = await self._fetchall(
                    *due_by_chat_query(now, limit, exclude, skip_chats, self._dialect, free=free)
                )
        return [_item(row) for row in rows]

    async def _due_groups(
        self, now: datetime, limit: int, exclude: Sequence[int],
        skip_chats: Sequence[tuple[str, str]], skip_topics: Sequence[tuple[str, int]],
        *, free: Free | None = None,
    ) -> list[OutboxItem]:
        rows = await self._fetchall(*due_groups_query(
            now, limit, exclude, skip_chats, skip_topics, dialect=self._dialect, free=free
        ))
        return [_item(row) for row in rows]

    async def next_outbox_at(self) -> datetime | None:
        rows = await self._fetchall(
            "SELECT MIN(not_before) FROM outbox WHERE status = 'pending'"
        )
        return dt(rows[0][0]) if rows else None

    async def outbox_sent(self, item: OutboxItem, message_ids: Sequence[str]) -> None:
        await self.outbox_sent_many([item], message_ids)

    async def outbox_sent_many(
        self, items: Sequence[OutboxItem], message_ids: Sequence[str]
    ) -> None:
        """Rows delivered as these messages (several rows when merged into one message).

        With the mark, in one transaction: what the messages refer to, and that the citizen
        can be reached again.
        """
        async with self._quiet_transaction() as tx:
            now = datetime.now(UTC).timestamp()
            for item in items:
                ids = [*item.sent, *message_ids]
                await tx._do(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                    "message_ids = ?, parts_sent = ?, error = NULL WHERE id = ?",
                    (now, json.dumps(ids), json.dumps(ids), item.id),
                )
                await _refer(tx, item.outbound, message_ids)
            reached = [
                i.outbound.ticket_id for i in items
                if i.outbound.ticket_id is not None and i.outbound.purpose in TO_CITIZEN
            ]
            if reached:
                marks = ", ".join("?" * len(reached))
                await tx._do(
                    "UPDATE tickets SET unreachable = NULL "
                    f"WHERE unreachable IS NOT NULL AND id IN ({marks})",
                    reached,
                )

    async def outbox_retry(
        self, item: OutboxItem, not_before: datetime, error: str, sent: Sequence[str] = ()
    ) -> None:
        """Try again later; parts already delivered are kept, and referred to, at once."""
        async with self._quiet_transaction() as tx:
            await tx._do(
                "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ?, "
                "parts_sent = ? WHERE id = ?",
                (not_before.timestamp(), error[:500], json.dumps([*item.sent, *sent]),
                 item.id),
            )
            await _refer(tx, item.outbound, sent)

    async def outbox_failed(
        self, item: OutboxItem, error: str, sent: Sequence[str] = ()
    ) -> None:
        async with self._quiet_transaction() as tx:
            ids = [*item.sent, *sent]
            await tx._do(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = ?, "
                "parts_sent = ?, message_ids = ? WHERE id = ?",
                (error[:500], json.dumps(ids), json.dumps(ids) if ids else None, item.id),
            )
            await _refer(tx, item.outbound, sent)


def _item(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(row[0], Outbound.from_json(row[1]), row[2],
                      datetime.fromtimestamp(row[3], UTC), tuple(json.loads(row[4])))


async def _refer(tx: SqlTransaction, out: Outbound, message_ids: Sequence[str]) -> None:
    """Record the tickets these messages name, so a staff reply to any of them reaches them.

    A row's own ticket when its purpose names it (storage.values.TICKET_REFS), and every
    ticket in `refers`; the latest card of a ticket is kept on the ticket as well.
    """
    if not message_ids:
        return
    if out.incident is not None and out.purpose not in TO_CITIZEN:  # staff-side only
        await _refer_incident(tx, out, message_ids)
    tickets = set(out.refers)
    if out.ticket_id is not None and out.purpose in TICKET_REFS:
        tickets.add(out.ticket_id)
    if not tickets:
        return
    await tx._many(
        "INSERT INTO refs (platform, chat_id, message_id, ticket_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(out.platform.value, out.chat_id, m, t) for t in sorted(tickets) for m in message_ids],
    )
    if out.purpose is Purpose.CARD and out.ticket_id is not None:
        # The latest card is the ticket's (a move posts it anew), and of a card sent in
        # parts the last, which carries the buttons an edit replaces.
        await tx._do(
            "UPDATE tickets SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (out.chat_id, message_ids[-1], out.ticket_id),
        )


async def _refer_incident(
    tx: SqlTransaction, out: Outbound, message_ids: Sequence[str]
) -> None:
    """A staff reply to any part of a message about an incident reaches the incident; the
    latest card is kept on it, to be edited."""
    await tx._many(
        "INSERT INTO incident_refs (platform, chat_id, message_id, incident_id) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(out.platform.value, out.chat_id, m, out.incident) for m in message_ids],
    )
    # A card posted (also one posted anew when its edit could not be made), not an edit.
    if out.purpose is Purpose.INCIDENT_CARD and message_ids[0] != out.edits:
        await tx._do(
            "UPDATE incidents SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (out.chat_id, message_ids[0], out.incident),
        )
