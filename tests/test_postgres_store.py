"""The PostgreSQL store as a deployment meets it: the same schema as SQLite's, a server that
goes away and comes back under a running desk."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import pytest

from storage import SqliteStore, StoreError, store_from_url
from tests import harness
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.pg import fresh_schema
from tests.test_e2e_telegram import texts_in

# Tables only the PostgreSQL store has: the chats each desk sends to, and the desks alive.
SHARING = {("chat_claims", c) for c in ("platform", "chat_id", "desk_id", "until")} | {
    ("desks", "id"), ("desks", "seen_at")}


async def test_both_stores_have_the_same_tables_and_columns(tmp_path: Path) -> None:
    """The desk's statements are written once for both: a column on one only would break
    the other, and a desk moved from SQLite must find a place for every value."""
    sqlite = SqliteStore(tmp_path / "desk.sqlite3")
    await sqlite.open()
    lite = {(table, column) for table, column in await sqlite._fetchall(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
        "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
    )}
    await sqlite.close()
    async with fresh_schema() as url:
        store = store_from_url(url)
        await store.open()
        await store.close()
        conn = await asyncpg.connect(url)
        try:
            pg = {(r[0], r[1]) for r in await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema()"
            )}
        finally:
            await conn.close()
    assert pg - SHARING == lite


async def test_the_server_gone_under_a_running_desk_loses_nothing(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every session of the desk is cut (a restart of PostgreSQL, a failover): intake and
    sending wait and go on; the citizen who wrote meanwhile is answered, once."""
    caplog.set_level(logging.INFO)
    async with fresh_schema() as url:
        monkeypatch.setattr(harness, "STORE_URL", url)
        async with Desk(tg.base_url, tmp_path / "unused.sqlite3"):
            tg.push_update(tg.private_text(4001, "до обрыва"))
            await tg.wait_sent(1, chat_id=4001)
            conn = await asyncpg.connect(url)
            try:
                # Cut when nothing is under way: a send cut before it is recorded goes again
                # (Telegram has no idempotency key), which tests/test_multi_desk.py counts.
                while await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'"):
                    await asyncio.sleep(0.05)
                cut = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND application_name = $1",
                    url.rsplit("application_name=", 1)[1],
                )
            finally:
                await conn.close()
            assert cut >= 2  # the pool's and the role's sessions
            tg.push_update(tg.private_text(4002, "после обрыва"))
            await tg.wait_sent(1, chat_id=4002, timeout=60)
            await asyncio.sleep(0.5)
    assert [t[:21] for t in texts_in(tg, 4002)] == ["Ваше сообщение №2 пол"]
    assert sum(t.startswith("№") for t in texts_in(tg, STAFF_CHAT)) == 2


async def test_a_value_the_server_cannot_take_is_not_quoted_in_the_error() -> None:
    """asyncpg quotes the value it could not encode; a citizen's words must not reach the
    log or the inbox's error that way."""
    async with fresh_schema() as url:
        store = store_from_url(url)
        await store.open()
        try:
            with pytest.raises(StoreError) as raised:
                async with store.transaction() as tx:
                    await tx.set_state("words", 12345678)  # type: ignore[arg-type]
        finally:
            await store.close()
    assert "12345678" not in str(raised.value) and "DataError" in str(raised.value)
