"""The ticket store on SQLite through aiosqlite: one writer connection, WAL, migrations."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.base import (
    UNREADABLE_UNTOLD,
    InboxItem,
    IntakeState,
    MessageRecord,
    NewTicket,
    OutboxItem,
    StoreError,
    Ticket,
)
from storage.lockfile import StoreLock
from storage.values import (
    TICKET_REFS,
    TO_CITIZEN,
    Attachment,
    Channel,
    Outbound,
    Platform,
    Purpose,
)

log = logging.getLogger(__name__)

_TICKET_COLUMNS = (
    "id, platform, channel, chat_id, conversation, citizen_id, citizen_name, citizen_link, "
    "thread_id, reply_to, link, summary, status, opened_at, waiting_since, deadline_at, "
    "first_answer_at, last_answer_at, closed_at, escalation_level, next_escalation_at, "
    "card_chat_id, card_message_id, unreachable"
)

# Through the index on next_escalation_at: the sweep's cost follows the due tickets only.
DUE_ESCALATIONS = (
    f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE next_escalation_at IS NOT NULL "
    "AND next_escalation_at <= ? ORDER BY next_escalation_at LIMIT ?"
)


_DUE_COLUMNS = "id, payload, attempts, created_at, parts_sent"
# The sender first looks at this many times `limit` of the oldest pending rows; only when
# they belong to chats under way does it ask chat by chat (see due_by_chat_query).
WINDOW = 4


def due_outbox_query(
    now: datetime, limit: int, exclude: Sequence[int], skip_chats: Sequence[tuple[str, str]],
    *, window: int | None = None,
) -> tuple[str, list[Any]]:
    """The sender's question in id order: due rows, but for rows and chats under way.

    With `window`, only among that many of the oldest pending rows, so a chat with a backlog
    that is under way costs at most the window to step over.
    """
    source = "outbox"
    params: list[Any] = []
    if window is not None:
        source = (f"(SELECT platform, chat_id, not_before, {_DUE_COLUMNS} FROM outbox "
                  "WHERE status = 'pending' ORDER BY id LIMIT ?)")
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
    return sql + " ORDER BY id LIMIT ?", [*params, limit]


def due_by_chat_query(
    now: datetime, limit: int, exclude: Sequence[int], skip_chats: Sequence[tuple[str, str]]
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
            f"SELECT {_DUE_COLUMNS} FROM outbox INDEXED BY outbox_chat_pending "
            f"WHERE status = 'pending' AND {condition} AND not_before <= ?"
        )
        params += [*values, now.timestamp()]
    sql = f"SELECT {_DUE_COLUMNS} FROM ({' UNION ALL '.join(branches)})"
    if exclude:
        sql += f" WHERE id NOT IN ({', '.join('?' * len(exclude))})"
        params += exclude
    return sql + " ORDER BY id LIMIT ?", [*params, limit]


def ts(moment: datetime | None) -> float | None:
    """An aware datetime as UNIX seconds, the store's time format."""
    return None if moment is None else moment.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _ticket(row: sqlite3.Row | tuple[Any, ...]) -> Ticket:
    r = tuple(row)
    return Ticket(
        id=r[0], platform=Platform(r[1]), channel=Channel(r[2]), chat_id=r[3],
        conversation=r[4], citizen_id=r[5], citizen_name=r[6], citizen_link=r[7],
        thread_id=r[8], reply_to=r[9], link=r[10], summary=r[11], status=r[12],
        opened_at=datetime.fromtimestamp(r[13], UTC), waiting_since=dt(r[14]),
        deadline_at=dt(r[15]), first_answer_at=dt(r[16]), last_answer_at=dt(r[17]),
        closed_at=dt(r[18]), escalation_level=r[19], next_escalation_at=dt(r[20]),
        card_chat_id=r[21], card_message_id=r[22], unreachable=r[23],
    )


def _attachments_json(items: Sequence[Attachment]) -> str:
    return json.dumps(
        [{"kind": a.kind, "ref": a.ref, "name": a.name, "url": a.url} for a in items],
        ensure_ascii=False,
    )


def sqlite_path(url: str) -> str:
    """The file behind `sqlite:///path` (relative) or `sqlite:////abs/path`; `:memory:` too."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    elif url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
    else:
        raise StoreError(f"not a SQLite URL: {url.split(':', 1)[0]}://…")
    if not path:
        raise StoreError("DATABASE_URL names no SQLite file")
    return path


class SqliteTransaction:
    """A write transaction on the store's one connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    # Every statement is one round trip to aiosqlite's thread: execute_fetchall runs it,
    # reads it and closes its cursor there (execute, fetch and close would be three).

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _do(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._db.execute_fetchall(sql, params)

    async def ticket(self, ticket_id: int) -> Ticket | None:
        row = await self._one(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))
        return _ticket(row) if row else None

    async def ticket_by_ref(
        self, platform: Platform, chat_id: str, message_id: str
    ) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {', '.join('t.' + c.strip() for c in _TICKET_COLUMNS.split(','))} "
            "FROM refs r JOIN tickets t ON t.id = r.ticket_id "
            "WHERE r.platform = ? AND r.chat_id = ? AND r.message_id = ? ORDER BY t.id",
            (platform.value, chat_id, message_id),
        )
        return [_ticket(row) for row in rows]

    async def ticket_by_message(self, source_key: str) -> Ticket | None:
        row = await self._one(
            f"SELECT {', '.join('t.' + c.strip() for c in _TICKET_COLUMNS.split(','))} "
            "FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.source_key = ?",
            (source_key,),
        )
        return _ticket(row) if row else None

    async def intake_state(
        self, source_key: str, platform: Platform, conversation: str, citizen_id: str
    ) -> IntakeState:
        """What a citizen's new message meets, in one query: seen before? blocked? open?"""
        columns = ", ".join("t." + c.strip() for c in _TICKET_COLUMNS.split(","))
        row = await self._one(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE source_key = ?), "
            "EXISTS (SELECT 1 FROM citizens WHERE platform = ? AND citizen_id = ? "
            f"AND blocked_at IS NOT NULL), {columns} FROM (SELECT 1) "
            "LEFT JOIN tickets t ON t.platform = ? AND t.conversation = ? AND t.status = 'open'",
            (source_key, platform.value, citizen_id, platform.value, conversation),
        )
        ticket = _ticket(row[2:]) if row[2] is not None else None
        return IntakeState(seen=bool(row[0]), blocked=bool(row[1]), ticket=ticket)

    async def create_ticket(self, new: NewTicket) -> Ticket:
        row = await self._one(
            "INSERT INTO tickets (platform, channel, chat_id, conversation, citizen_id, "
            "citizen_name, citizen_link, thread_id, reply_to, link, summary, opened_at, "
            "waiting_since, deadline_at, next_escalation_at) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_TICKET_COLUMNS}",
            (
                new.platform.value, new.channel.value, new.chat_id, new.conversation,
                new.citizen_id, new.citizen_name, new.citizen_link, new.thread_id,
                new.reply_to, new.link, new.summary, ts(new.opened_at), ts(new.opened_at),
                ts(new.deadline_at), ts(new.deadline_at),
            ),
        )
        return _ticket(row)

    async def citizen_wrote(
        self, ticket_id: int, message_id: str, *, waits: tuple[datetime, datetime] | None = None
    ) -> None:
        if waits is None:
            await self._do("UPDATE tickets SET reply_to = ? WHERE id = ?", (message_id, ticket_id))
            return
        since, deadline = waits
        await self._do(
            "UPDATE tickets SET reply_to = ?, waiting_since = ?, deadline_at = ?, "
            "next_escalation_at = ?, escalation_level = 0 WHERE id = ?",
            (message_id, ts(since), ts(deadline), ts(deadline), ticket_id),
        )

    async def answered(self, ticket_id: int, at: datetime) -> None:
        await self._do(
            "UPDATE tickets SET first_answer_at = COALESCE(first_answer_at, ?), "
            "last_answer_at = ?, waiting_since = NULL, deadline_at = NULL, "
            "next_escalation_at = NULL, escalation_level = 0 WHERE id = ?",
            (ts(at), ts(at), ticket_id),
        )

    async def close_ticket(self, ticket_id: int, at: datetime) -> None:
        await self._do(
            "UPDATE tickets SET status = 'closed', closed_at = ?, waiting_since = NULL, "
            "deadline_at = NULL, next_escalation_at = NULL WHERE id = ?",
            (ts(at), ticket_id),
        )

    async def set_unreachable(self, ticket_id: int, reason: str | None) -> None:
        await self._do("UPDATE tickets SET unreachable = ? WHERE id = ?", (reason, ticket_id))

    async def add_message(self, record: MessageRecord) -> bool:
        added = await self._all(
            "INSERT INTO messages (ticket_id, direction, source_key, platform_message_id, "
            "author, text, attachments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source_key) DO NOTHING RETURNING id",
            (
                record.ticket_id, record.direction, record.source_key,
                record.platform_message_id, record.author, record.text,
                _attachments_json(record.attachments), ts(record.created_at),
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
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(outbounds))
        params: list[Any] = []
        for out in outbounds:
            params += [out.platform.value, out.chat_id, out.purpose.value, out.ticket_id,
                       out.to_json(), now, now]
        await self._do(
            "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, not_before, "
            f"created_at) VALUES {values}",
            params,
        )

    async def enqueue(self, outbound: Outbound, not_before: datetime | None = None) -> int:
        now = datetime.now(UTC)
        row = await self._one(
            "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, not_before, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                outbound.platform.value, outbound.chat_id, outbound.purpose.value,
                outbound.ticket_id, outbound.to_json(), ts(not_before or now), ts(now),
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
        return [_ticket(r) for r in rows]

    async def set_escalations(
        self, steps: Sequence[tuple[int, int, datetime | None]]
    ) -> None:
        """(ticket, level reached, when the next level is due) for several tickets."""
        if steps:
            await self._db.executemany(
                "UPDATE tickets SET escalation_level = ?, next_escalation_at = ? WHERE id = ?",
                [(level, ts(next_at), ticket_id) for ticket_id, level, next_at in steps],
            )

    async def waiting_tickets(self, limit: int) -> list[Ticket]:
        rows = await self._all(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE waiting_since IS NOT NULL "
            "AND status = 'open' ORDER BY waiting_since, id LIMIT ?",
            (limit,),
        )
        return [_ticket(row) for row in rows]

    async def waiting_count(self) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM tickets WHERE waiting_since IS NOT NULL AND status = 'open'"
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


class SqliteStore:
    """The embedded ticket store. All writes go through one connection, one at a time."""

    def __init__(self, path: str | Path, *, exclusive: bool = False) -> None:
        self._path = str(path)
        # exclusive: this process alone may use the store while it is open (see lockfile).
        self._file_lock = StoreLock(self._path) if exclusive and self._path != ":memory:" \
            else None
        self._db: aiosqlite.Connection | None = None
        self.created = False  # whether open() found no schema and made a new store
        self._lock = asyncio.Lock()
        self.changed = asyncio.Event()  # set when the outbox gets rows, for the sender

    @classmethod
    def from_url(cls, url: str, *, exclusive: bool = False) -> SqliteStore:
        return cls(sqlite_path(url), exclusive=exclusive)

    @property
    def location(self) -> str:
        """The store's file as an absolute path (or `:memory:`)."""
        return self._path if self._path == ":memory:" else str(Path(self._path).resolve())

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    async def open(self) -> None:
        if self._path != ":memory:":
            parent = Path(self._path).parent
            if not parent.is_dir():
                raise StoreError(f"DATABASE_URL: folder {parent} does not exist")
        if self._file_lock is not None:
            self._file_lock.acquire()
        log.info("store: %s", self.location)
        try:
            self._db = await aiosqlite.connect(self._path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode = WAL")
            # In WAL, NORMAL keeps the file consistent after a crash and may lose only the
            # last commits on power loss: https://www.sqlite.org/pragma.html#pragma_synchronous
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            await self._db.execute("PRAGMA busy_timeout = 5000")
            await self._migrate()
        except sqlite3.Error as exc:
            await self.close()
            raise StoreError(f"DATABASE_URL: cannot open the SQLite store: {exc}") from exc

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            async with self._lock:
                await db.close()
        if self._file_lock is not None:
            self._file_lock.release()

    async def _migrate(self) -> None:
        db = self.db
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with db.execute("SELECT version FROM schema_version") as cur:
            applied = {row[0] for row in await cur.fetchall()}
        # New is a store without a schema, whether the file was missing or empty (a failed
        # restore, `> frontdesk.sqlite3`): numbering starts at №1 either way.
        self.created = not applied
        if self.created and self._path != ":memory:":
            log.warning("a new store was created at %s: ticket numbers start at №1",
                        self.location)
        folder = resources.files("storage") / "migrations"
        scripts = sorted(
            (int(p.name.split("_", 1)[0]), p) for p in folder.iterdir()
            if p.name.endswith(".sql")
        )
        for version, script in scripts:
            if version in applied:
                continue  # each script once, whatever order they arrived in
            log.info("applying store migration %s", script.name)
            sql = script.read_text(encoding="utf-8")
            async with self._lock:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(sql):
                        await db.execute(statement)
                    await db.execute("INSERT INTO schema_version VALUES (?)", (version,))
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

    def _keep_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.keep()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self._quiet_transaction() as tx:
            yield tx
        self.changed.set()

    @asynccontextmanager
    async def _quiet_transaction(self) -> AsyncIterator[SqliteTransaction]:
        """A transaction that adds no outbox rows, so the sender need not look again."""
        async with self._lock:
            self._keep_lock()
            db = self.db
            # IMMEDIATE takes the write lock up front, so two writers cannot deadlock.
            await db.execute_fetchall("BEGIN IMMEDIATE")
            tx = SqliteTransaction(db)
            try:
                yield tx
            except BaseException:
                await db.execute_fetchall("ROLLBACK")
                raise
            await db.execute_fetchall("COMMIT")

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._lock:
            self._keep_lock()
            return list(await self.db.execute_fetchall(sql, params))

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        async with self._lock:
            self._keep_lock()
            await self.db.execute_fetchall(sql, params)

    # intake

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
        return max(added, 0)

    async def pending_inbox(
        self, platform: str, limit: int, now: datetime | None = None
    ) -> list[InboxItem]:
        """Rows to handle now: not done, not set aside, and not waiting for a later try."""
        moment = (now or datetime.now(UTC)).timestamp()
        rows = await self._fetchall(
            "SELECT id, platform, source, payload, attempts FROM inbox "
            "WHERE platform = ? AND done = 0 AND set_aside_at IS NULL AND not_before <= ? "
            "ORDER BY id LIMIT ?",
            (platform, moment, limit),
        )
        return [InboxItem(*row) for row in rows]

    async def finish_inbox_many(self, ids: Sequence[int], errors: Mapping[int, str]) -> None:
        """Rows handled (those not finished yet), some with the reason they failed."""
        async with self.transaction() as tx:
            marks = ", ".join("?" * len(ids))
            await tx._do(f"UPDATE inbox SET done = 1 WHERE done = 0 AND id IN ({marks})", ids)
            for inbox_id, error in errors.items():
                await tx._do("UPDATE inbox SET error = ? WHERE id = ?", (error, inbox_id))
            if errors:
                # Owed to staff in the same transaction, so a crash cannot lose the count.
                owed = await tx.get_state(UNREADABLE_UNTOLD)
                await tx.set_state(UNREADABLE_UNTOLD, str(int(owed or 0) + len(errors)))

    async def inbox_retry(self, inbox_id: int, not_before: datetime, error: str) -> None:
        """A row whose handling failed: one more attempt counted, tried again later."""
        await self._write(
            "UPDATE inbox SET attempts = attempts + 1, not_before = ?, error = ? "
            "WHERE id = ? AND done = 0",
            (not_before.timestamp(), error[:500], inbox_id),
        )

    async def inbox_set_aside(self, inbox_id: int, error: str) -> None:
        """A row that failed its last try: kept, not done, until an operator retries it."""
        await self._write(
            "UPDATE inbox SET attempts = attempts + 1, set_aside_at = ?, error = ? "
            "WHERE id = ? AND done = 0",
            (datetime.now(UTC).timestamp(), error[:500], inbox_id),
        )

    async def set_aside_inbox(self) -> tuple[int, str | None]:
        """How many rows are set aside, and the reason the latest of them failed."""
        rows = await self._fetchall(
            "SELECT COUNT(*), (SELECT error FROM inbox WHERE done = 0 AND set_aside_at "
            "IS NOT NULL ORDER BY set_aside_at DESC LIMIT 1) FROM inbox "
            "WHERE done = 0 AND set_aside_at IS NOT NULL"
        )
        return int(rows[0][0]), rows[0][1]

    async def retry_set_aside(self) -> int:
        """Rows set aside go back to the queue with a fresh count of tries."""
        async with self._lock:
            cur = await self.db.execute(
                "UPDATE inbox SET set_aside_at = NULL, attempts = 0, not_before = 0 "
                "WHERE done = 0 AND set_aside_at IS NOT NULL"
            )
            count = cur.rowcount
            await cur.close()
        return max(count, 0)

    # delivery

    async def due_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (),
    ) -> list[OutboxItem]:
        """Due rows in id order, but for rows and (platform, chat) pairs under way.

        Its cost must not grow with a backlog in a chat under way (it runs after every
        commit): the oldest rows are looked at first, and if they are all that chat's, the
        other chats are read through their own index.
        """
        if not skip_chats:
            rows = await self._fetchall(*due_outbox_query(now, limit, exclude, ()))
        else:
            window = limit * WINDOW
            rows = await self._fetchall(
                *due_outbox_query(now, limit, exclude, skip_chats, window=window)
            )
            if len(rows) < limit and await self._fetchall(
                "SELECT 1 FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 1 OFFSET ?",
                (window,),
            ):
                rows = await self._fetchall(*due_by_chat_query(now, limit, exclude, skip_chats))
        return [
            OutboxItem(row[0], Outbound.from_json(row[1]), row[2],
                       datetime.fromtimestamp(row[3], UTC), tuple(json.loads(row[4])))
            for row in rows
        ]

    async def due_outbox_plan(self, skip_chats: Sequence[tuple[str, str]]) -> str:
        """SQLite's plan for the question asked chat by chat, as `EXPLAIN QUERY PLAN` says."""
        sql, params = due_by_chat_query(datetime.now(UTC), 200, (), skip_chats)
        rows = await self._fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        return "; ".join(str(row[3]) for row in rows)

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

    # reads

    async def ticket(self, ticket_id: int) -> Ticket | None:
        rows = await self._fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        )
        return _ticket(rows[0]) if rows else None

    async def messages(self, ticket_id: int) -> list[MessageRecord]:
        rows = await self._fetchall(
            "SELECT ticket_id, direction, created_at, text, attachments, author, source_key, "
            "platform_message_id FROM messages WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [
            MessageRecord(
                ticket_id=r[0], direction=r[1], created_at=datetime.fromtimestamp(r[2], UTC),
                text=r[3], attachments=tuple(Attachment(**a) for a in json.loads(r[4])),
                author=r[5], source_key=r[6], platform_message_id=r[7],
            )
            for r in rows
        ]

    async def due_escalations(self, now: datetime, limit: int) -> list[Ticket]:
        rows = await self._fetchall(DUE_ESCALATIONS, (now.timestamp(), limit))
        return [_ticket(r) for r in rows]

    async def tickets_between(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened, or first answered, in [start, end)."""
        rows = await self._fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE opened_at >= ? AND opened_at < ? "
            f"UNION SELECT {_TICKET_COLUMNS} FROM tickets "
            "WHERE first_answer_at >= ? AND first_answer_at < ?",
            (start.timestamp(), end.timestamp(), start.timestamp(), end.timestamp()),
        )
        return [_ticket(r) for r in rows]

    async def open_tickets(self) -> list[Ticket]:
        rows = await self._fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE status = 'open' ORDER BY id"
        )
        return [_ticket(r) for r in rows]

    # state

    async def get_state(self, key: str) -> str | None:
        rows = await self._fetchall("SELECT value FROM state WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def set_state(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


async def _refer(tx: SqliteTransaction, out: Outbound, message_ids: Sequence[str]) -> None:
    """Record the tickets these messages name, so a staff reply to any of them reaches them.

    A row's own ticket when its purpose names it (storage.values.TICKET_REFS), and every
    ticket in `refers`; the first card of a ticket is kept on the ticket as well.
    """
    if not message_ids:
        return
    tickets = set(out.refers)
    if out.ticket_id is not None and out.purpose in TICKET_REFS:
        tickets.add(out.ticket_id)
    if not tickets:
        return
    await tx._db.executemany(
        "INSERT INTO refs (platform, chat_id, message_id, ticket_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(out.platform.value, out.chat_id, m, t) for t in sorted(tickets) for m in message_ids],
    )
    if out.purpose is Purpose.CARD and out.ticket_id is not None:
        await tx._do(
            "UPDATE tickets SET card_chat_id = ?, card_message_id = ? "
            "WHERE id = ? AND card_message_id IS NULL",
            (out.chat_id, message_ids[0], out.ticket_id),
        )


def _statements(sql: str) -> list[str]:
    """A migration script as statements; a trigger's body keeps its own semicolons.

    Our scripts keep `--` out of string literals.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines():
        buffer += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip().removesuffix(";"))
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
