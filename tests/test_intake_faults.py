"""A failing handler never ends an update: it is tried again, then set aside and shown to staff.

Against the real application, aiogram and vkbottle and the local fake platforms; the store is
the real SQLite store, in one test taught to meet "database is locked" once, as a second
process writing to the same file would make it.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from storage import SqliteStore
from storage.sqlite import SqliteTransaction
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT, Desk, installed
from tests.test_e2e_telegram import texts_in

CITIZEN = 5551001
VK_CITIZEN = 1001
QUICK = (0.05,) * 7  # eight tries, a moment apart
NOTICE = "Не удалось обработать"
ROOT = Path(__file__).resolve().parent.parent


class LockedOnce(SqliteStore):
    """The real store, whose first write for a handled update meets "database is locked"."""

    def __init__(self, path: Path, times: int = 1) -> None:
        super().__init__(path)
        self.times = times

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with super().transaction() as tx:
            finish = tx.finish_inbox

            async def finish_inbox(inbox_id: int, error: str | None = None) -> None:
                if self.times > 0:
                    self.times -= 1
                    raise sqlite3.OperationalError("database is locked")
                await finish(inbox_id, error)

            tx.finish_inbox = finish_inbox  # type: ignore[method-assign]
            yield tx


class FaultDesk(Desk):
    """The desk under test, with its own store and quick retries when asked."""

    def __init__(
        self, tg_url: str, db: Path, *, store: Callable[[Path], SqliteStore] | None = None,
        delays: tuple[float, ...] | None = None, **overrides: Any,
    ) -> None:
        super().__init__(tg_url, db, **overrides)
        self.make_store = store
        self.delays = delays

    async def start(self) -> Application:
        await installed(self.db)
        store = self.make_store(self.db) if self.make_store else None
        self.app = Application(self.settings, store)
        if self.delays is not None:
            self.app.poller.keeper.delays = self.delays
            if self.app.vk is not None:
                self.app.vk.poller.keeper.delays = self.delays
        await self.app.start()
        return self.app


def broken_texts(tmp_path: Path) -> Path:
    """An operator's texts folder where the acknowledgement names a value that does not exist."""
    folder = tmp_path / "texts"
    shutil.copytree(ROOT / "locales", folder)
    ftl = folder / "ru" / "frontdesk.ftl"
    lines = [
        "ack-received = Ваше сообщение №{ $number } получено { $nonexistent }."
        if line.startswith("ack-received =") else line
        for line in ftl.read_text(encoding="utf-8").splitlines()
    ]
    ftl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def inbox_rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT done, attempts, set_aside_at IS NOT NULL, error FROM inbox ORDER BY id"
        ).fetchall()


async def until(predicate: Callable[[], Any], timeout: float = 20) -> Any:
    """Wait for something the store shows; checked every 50 ms."""
    async with asyncio.timeout(timeout):
        while not (value := predicate()):
            await asyncio.sleep(0.05)
    return value


def notices(tg: FakeTelegram) -> list[str]:
    return [t for t in texts_in(tg, STAFF_CHAT) if t.startswith(NOTICE)]


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Анна", "Иванова")
        yield fake


def vk_settings(vk: FakeVK) -> dict[str, Any]:
    return {"vk_token": vk.token, "vk_group_id": vk.group_id, "vk_api_url": vk.api_url}


async def test_telegram_update_meeting_a_locked_store_becomes_a_ticket_on_the_next_try(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, store=LockedOnce):
        tg.push_update(tg.private_text(CITIZEN, "фонарь не горит"))
        tg.push_update(tg.private_text(CITIZEN + 1, "яма во дворе"))
        await tg.wait_sent(1, chat_id=CITIZEN)
        await tg.wait_sent(1, chat_id=CITIZEN + 1)
    # The first update waited for its second try; the one after it did not wait for it.
    assert texts_in(tg, CITIZEN + 1)[0].startswith("Ваше сообщение №1 ")
    assert texts_in(tg, CITIZEN)[0].startswith("Ваше сообщение №2 ")
    assert inbox_rows(db) == [(1, 1, 0, None), (1, 0, 0, None)]
    assert not notices(tg)


async def test_vk_event_meeting_a_locked_store_becomes_a_ticket_on_the_next_try(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, store=LockedOnce, **vk_settings(vk)):
        asked = len(vk.longpoll_requests)
        await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        sent = await vk.wait_messages(1, peer_id=VK_CITIZEN)
    assert sent[0]["message"].startswith("Ваше сообщение №1 получено")
    assert inbox_rows(db) == [(1, 1, 0, None)]
    assert not notices(tg)


async def test_telegram_update_failing_every_try_is_kept_and_staff_told_once(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    broken = broken_texts(tmp_path)
    async with FaultDesk(tg.base_url, db, delays=QUICK, locales_dir=str(broken)):
        for n in range(3):
            tg.push_update(tg.private_text(CITIZEN + n, f"сообщение {n}"))
        await until(lambda: sum(r[2] for r in inbox_rows(db)) == 3)
        await tg.wait_for(lambda: notices(tg))
    # Kept, not done, each after its eight tries, with the reason; no citizen was promised
    # anything, and staff heard of it in one message.
    rows = inbox_rows(db)
    assert [r[:3] for r in rows] == [(0, 8, 1)] * 3
    assert all("nonexistent" in r[3] for r in rows)
    [notice] = notices(tg)
    assert "nonexistent" in notice and "входящ" in notice
    assert not any(tg.sent(CITIZEN + n) for n in range(3))
    # Fixed texts and a restart: every update set aside becomes a ticket.
    async with FaultDesk(tg.base_url, db):
        for n in range(3):
            await tg.wait_sent(1, chat_id=CITIZEN + n)
    assert [r[0] for r in inbox_rows(db)] == [1, 1, 1]
    assert len(notices(tg)) == 1


async def test_vk_event_failing_every_try_is_kept_and_staff_told_once(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    broken = broken_texts(tmp_path)
    async with FaultDesk(
        tg.base_url, db, delays=QUICK, locales_dir=str(broken), **vk_settings(vk)
    ):
        asked = len(vk.longpoll_requests)
        await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        vk.message_new(VK_CITIZEN + 1, "яма во дворе")
        await until(lambda: sum(r[2] for r in inbox_rows(db)) == 2)
        await tg.wait_for(lambda: notices(tg))
    assert [r[:3] for r in inbox_rows(db)] == [(0, 8, 1)] * 2
    assert len(notices(tg)) == 1
    assert not vk.sent_messages(VK_CITIZEN)
    async with FaultDesk(tg.base_url, db, **vk_settings(vk)):
        await vk.wait_messages(1, peer_id=VK_CITIZEN)
        await vk.wait_messages(1, peer_id=VK_CITIZEN + 1)
    assert len(notices(tg)) == 1


class PositionLockedOnce(SqliteStore):
    """The real store, meeting "database is locked" once as VK's position is read, and once
    as it is first written."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.read_fails, self.write_fails = 1, 1

    async def get_state(self, key: str) -> str | None:
        if key == "vk:ts" and self.read_fails:
            self.read_fails -= 1
            raise sqlite3.OperationalError("database is locked")
        return await super().get_state(key)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with super().transaction() as tx:
            set_state = tx.set_state

            async def locked_once(key: str, value: str) -> None:
                if key == "vk:ts" and self.write_fails:
                    self.write_fails -= 1
                    raise sqlite3.OperationalError("database is locked")
                await set_state(key, value)

            tx.set_state = locked_once  # type: ignore[method-assign]
            yield tx


async def test_vk_intake_outlasts_a_locked_store_at_its_first_position(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading and first writing VK's position meet a locked store: tried again, not ended."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, store=PositionLockedOnce, **vk_settings(vk)) as desk:
        await vk.wait_for(lambda: len(vk.longpoll_requests) > 0, timeout=20)
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        sent = await vk.wait_messages(1, peer_id=VK_CITIZEN)
        assert desk.app.failure() is None
        store = desk.app.store
        assert isinstance(store, PositionLockedOnce)
        assert (store.read_fails, store.write_fails) == (0, 0)
    assert sent[0]["message"].startswith("Ваше сообщение №1 получено")
