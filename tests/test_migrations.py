"""The store's schema: a store made by the first migration, with data, upgrades to what a fresh
store has, keeping every row; committed migrations never change; the sweep's own statement
searches its index."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.sweep import uses_index
from storage import SqliteStore
from storage.base import NewTicket
from storage.sql.rows import DUE_ESCALATIONS
from storage.sqlite.connection import _statements
from storage.values import Channel, Outbound, Platform, Purpose

MIGRATIONS = Path(__file__).resolve().parent.parent / "storage" / "migrations"
STAFF = "-1001000000001"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC).timestamp()


def first_migration_only(path: Path) -> None:
    """A store as the first release of Frontdesk left it: 0001 applied, nothing after."""
    first = sorted(MIGRATIONS.glob("0001_*.sql"))
    assert len(first) == 1
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statement in _statements(first[0].read_text(encoding="utf-8")):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1)")


# Rows in the columns the first migration created; every later one must keep them as they are.
OLD_ROWS: dict[str, tuple[str, list[tuple[object, ...]]]] = {
    "inbox": ("id, platform, source, payload, received_at, done, error", [
        (1, "telegram", "tg:1", '{"update_id": 1}', T0, 1, None),
        (2, "telegram", "tg:2", '{"update_id": 2}', T0 + 1, 1, "malformed update: no chat"),
        (3, "vk", "vk:7", '{"type": "message_new"}', T0 + 2, 0, None),
    ]),
    "tickets": (
        "id, platform, channel, chat_id, conversation, citizen_id, citizen_name, "
        "citizen_link, summary, status, opened_at, waiting_since, deadline_at, "
        "first_answer_at, last_answer_at, closed_at, escalation_level, next_escalation_at, "
        "card_chat_id, card_message_id", [
            (1, "telegram", "direct", "501", "501", "501", "Анна", "tg://user?id=501",
             "Не вывозят мусор", "closed", T0, None, None, T0 + 60, T0 + 60, T0 + 120, 0,
             None, STAFF, "11"),
            (2, "vk", "direct", "702", "702", "702", "Пётр", "https://vk.com/id702",
             "Яма на дороге", "open", T0 + 5, T0 + 5, T0 + 3600, None, None, None, 1,
             T0 + 7200, STAFF, "12"),
        ]),
    "messages": (
        "id, ticket_id, direction, source_key, platform_message_id, author, text, "
        "attachments, created_at", [
            (1, 1, "in", "telegram:501:1", "1", "Анна", "Не вывозят мусор", "[]", T0),
            (2, 1, "out", None, "9", "Оператор", "Вывезут завтра", "[]", T0 + 60),
            (3, 2, "in", "vk:702:3", "3", "Пётр", "Яма на дороге",
             '[{"kind": "photo", "ref": "photo702_1", "name": "", "url": ""}]', T0 + 5),
        ]),
    "outbox": (
        "id, platform, chat_id, purpose, ticket_id, payload, status, attempts, not_before, "
        "created_at, sent_at, message_ids, error", [
            (1, "telegram", "501", "ack", 1, Outbound(
                Platform.TELEGRAM, "501", Purpose.ACK, "Ваше сообщение №1 получено.",
                ticket_id=1).to_json(), "sent", 1, T0, T0, T0 + 1, '["10"]', None),
            (2, "telegram", STAFF, "card", 1, Outbound(
                Platform.TELEGRAM, STAFF, Purpose.CARD, "<b>№1</b>", html=True,
                ticket_id=1).to_json(), "sent", 1, T0, T0, T0 + 1, '["11"]', None),
            (3, "telegram", STAFF, "card", 2, Outbound(
                Platform.TELEGRAM, STAFF, Purpose.CARD, "<b>№2</b>", html=True,
                ticket_id=2).to_json(), "pending", 2, T0 + 5, T0 + 5, None, None,
             "Bad Gateway"),
            (4, "vk", "702", "ack", 2, Outbound(
                Platform.VK, "702", Purpose.ACK, "Ваше сообщение №2 получено.",
                ticket_id=2).to_json(), "pending", 0, T0 + 5, T0 + 5, None, None, None),
        ]),
    "refs": ("platform, chat_id, message_id, ticket_id", [("telegram", STAFF, "11", 1)]),
    "citizens": ("platform, citizen_id, blocked_at", [("vk", "999", T0)]),
    "state": ("key, value", [("vk:ts", "42")]),
}


def fill(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        for table, (columns, rows) in OLD_ROWS.items():
            marks = ", ".join("?" * len(columns.split(",")))
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def schema(path: Path) -> set[tuple[str, str, str, str]]:
    """sqlite_master without its formatting, and each table's columns as SQLite reads them."""
    with sqlite3.connect(path) as conn:
        objects = {
            (kind, name, table, re.sub(r"\s+", " ", sql or "").strip())
            for kind, name, table, sql in conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
            )
        }
        tables = [name for kind, name, _, _ in objects if kind == "table"]
        for table in tables:
            for cid, name, kind, notnull, default, pk in conn.execute(
                f"PRAGMA table_info({table})"
            ):
                objects.add(("column", f"{table}.{cid}", name,
                             f"{kind} {notnull} {default} {pk}"))
    return objects


async def test_store_from_the_first_migration_upgrades_to_a_fresh_schema_keeping_its_data(
    tmp_path: Path,
) -> None:
    old, fresh = tmp_path / "old.sqlite3", tmp_path / "fresh.sqlite3"
    first_migration_only(old)
    fill(old)
    for path in (old, fresh):
        store = SqliteStore(path)
        await store.open()
        await store.close()

    assert schema(old) == schema(fresh)
    with sqlite3.connect(old) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        for table, (columns, rows) in OLD_ROWS.items():
            kept = conn.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchall()
            assert kept == rows, table
    assert versions == sorted(int(p.name[:4]) for p in MIGRATIONS.glob("*.sql"))

    # And the upgraded store works on the old rows through its own interface.
    store = SqliteStore(old)
    await store.open()
    try:
        ticket = await store.ticket(2)
        assert ticket is not None and ticket.citizen_name == "Пётр" and ticket.is_open
        assert [m.text for m in await store.messages(1)] == ["Не вывозят мусор", "Вывезут завтра"]
        [photo] = (await store.messages(2))[0].attachments
        assert photo.ref == "photo702_1"
        assert [i.source for i in await store.pending_inbox("vk", 10)] == ["vk:7"]
        due = await store.due_outbox(datetime.fromtimestamp(T0 + 10, UTC), 10)
        assert [item.id for item in due] == [3, 4]
        assert [t.id for t in await store.due_escalations(
            datetime.fromtimestamp(T0 + 7200, UTC), 10)] == [2]
        await store.outbox_sent(due[0], ["13"])  # the waiting card of №2 goes out at last
        async with store.transaction() as tx:
            assert [t.id for t in await tx.ticket_by_ref(Platform.TELEGRAM, STAFF, "13")] == [2]
            assert [t.id for t in await tx.ticket_by_ref(Platform.TELEGRAM, STAFF, "11")] == [1]
            assert await tx.get_state("vk:ts") == "42"
            new = await tx.create_ticket(_new_ticket())
        assert new.id == 3  # numbers go on from the old ones, never reused
    finally:
        await store.close()


def _new_ticket() -> NewTicket:
    opened = datetime.fromtimestamp(T0 + 100, UTC)
    return NewTicket(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id="503", conversation="503",
        citizen_id="503", citizen_name="Ольга", citizen_link="", thread_id=None,
        reply_to=None, link="", summary="Нет света", opened_at=opened,
        deadline_at=opened + timedelta(hours=8),
    )


@pytest.mark.parametrize("folder", [MIGRATIONS, MIGRATIONS / "postgresql"],
                         ids=["sqlite", "postgresql"])
def test_committed_migrations_are_never_edited(folder: Path) -> None:
    """Append-only: a store that ran a script never runs it again, so an edit never reaches it.

    A new migration adds its line: `sha256sum NNNN_name.sql >> SHA256SUMS` in the folder.
    """
    listed = dict(
        reversed(line.split())
        for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    present = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
               for p in folder.glob("*.sql")}
    assert sorted(present) == sorted(listed), (
        f"{folder}/SHA256SUMS must list every migration (add a new one's line)"
    )
    changed = [name for name, digest in present.items() if listed[name] != digest]
    assert not changed, f"committed migrations edited: {changed}; add a new migration instead"


async def test_sweep_statement_searches_the_next_escalation_index(
    store: SqliteStore,
) -> None:
    async with store.db.execute(f"EXPLAIN QUERY PLAN {DUE_ESCALATIONS}", (T0, 300)) as cur:
        plan = "; ".join(str(row[-1]) for row in await cur.fetchall())
    assert uses_index(plan), plan
