"""Telegram's webhook, end to end: the real application and aiogram against the fake Bot API,
which posts each update to the desk's webhook and repeats what is not answered 2xx."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError

from bot.startup import StartupRefused
from bot.telegram.polling import ALLOWED_UPDATES, inbox_row
from storage import SqliteStore
from tests.fakes.telegram import SECRET_HEADER, FakeTelegram
from tests.harness import STAFF_CHAT, TOKEN, Desk, store_rows
from tests.test_e2e_telegram import card_of, texts_in
from tests.test_intake_faults import FaultDesk

CITIZEN = 5551001
SECRET = "webhook-Secret_0123456789"
PATH = "/telegram/hook"


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now: each test's desk has its own."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_settings(port: int, **more: Any) -> dict[str, Any]:
    return {
        "telegram_webhook_url": f"http://127.0.0.1:{port}{PATH}",
        "telegram_webhook_secret": SECRET, "webhook_port": port, **more,
    }


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    # Quick repeats, a short wait for an answer: what Telegram does, at a test's pace.
    async with FakeTelegram(webhook_retry=(0.05, 0.2), webhook_timeout=2.0) as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        yield fake


@pytest.fixture
def port() -> int:
    return free_port()


async def webhook_set(tg: FakeTelegram) -> None:
    await tg.wait_for(lambda: tg.webhook_url)


def inbox_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0])


async def post(port: int, body: bytes, headers: dict[str, str] | None = None) -> int:
    """A request to the desk's webhook, as anyone on the network could send it."""
    async with aiohttp.ClientSession() as session, session.post(
        f"http://127.0.0.1:{port}{PATH}", data=body, headers=headers or {}
    ) as answer:
        return answer.status


def statuses(tg: FakeTelegram) -> Sequence[int | None]:
    return [d.status for d in tg.webhook_deliveries]


async def test_citizen_message_by_webhook_becomes_a_ticket_with_ack_and_card(
    tg: FakeTelegram, tmp_path: Path, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", **webhook_settings(port)):
        await webhook_set(tg)
        tg.push_update(tg.private_text(CITIZEN, "Не горит фонарь у дома 5", first_name="Анна"))
        await tg.wait_sent(1, chat_id=CITIZEN)
        card = await card_of(tg, 1)
    assert texts_in(tg, CITIZEN)[0].startswith("Ваше сообщение №1 получено.")
    assert "Анна" in card["text"] and "Не горит фонарь у дома 5" in card["text"]
    assert tg.webhook_url == f"http://127.0.0.1:{port}{PATH}"
    assert tg.allowed_updates == ALLOWED_UPDATES
    assert statuses(tg) == [200] and not tg.calls("getUpdates")
    [set_webhook] = tg.calls("setWebhook")
    assert set_webhook.params["drop_pending_updates"] is False
    assert SECRET not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def test_a_repeated_delivery_is_answered_200_and_makes_nothing_twice(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **webhook_settings(port)):
        await webhook_set(tg)
        update_id = tg.push_update(tg.private_text(CITIZEN, "яма во дворе"))
        await card_of(tg, 1)
        tg.redeliver(update_id)
        await tg.wait_for(lambda: statuses(tg) == [200, 200])
        assert inbox_count(db) == 1
        tg.push_update(tg.private_text(CITIZEN + 1, "другой вопрос"))
        await card_of(tg, 2)  # handled after the repeat: had it made anything, it came first
    assert len(tg.sent(CITIZEN)) == 1
    assert sum(t.startswith("№") for t in texts_in(tg, STAFF_CHAT)) == 2


async def test_a_wrong_or_missing_secret_is_refused_401_and_nothing_is_stored(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    db = tmp_path / "d.sqlite3"
    update = b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, ' \
        b'"type": "private"}, "text": "x"}}'
    async with Desk(tg.base_url, db, **webhook_settings(port)):
        await webhook_set(tg)
        assert await post(port, update) == 401
        assert await post(port, update, {SECRET_HEADER: SECRET[:-1]}) == 401
        assert await post(port, update, {SECRET_HEADER: SECRET + "0"}) == 401
        assert await post(port, update, {SECRET_HEADER: "секрет"}) == 401
        assert inbox_count(db) == 0
    assert not tg.sent()


@pytest.mark.parametrize("body", [
    "Тайное сообщение жителя".encode(),
    '["Тайное сообщение жителя"]'.encode(),
    '{"message": {"text": "Тайное сообщение жителя"}}'.encode(),
    '{"update_id": "7", "message": {"text": "Тайное сообщение жителя"}}'.encode(),
    b'{"text": "\xff\xfe \xd0\xa2"}',
    b"[" * 100_000,
], ids=["not-json", "a-list", "no-update-id", "update-id-text", "not-utf8", "deep"])
async def test_a_malformed_body_is_refused_400_and_its_content_never_logged(
    tg: FakeTelegram, tmp_path: Path, port: int, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **webhook_settings(port)) as desk:
        await webhook_set(tg)
        assert await post(port, body, {SECRET_HEADER: SECRET}) == 400
        assert inbox_count(db) == 0
        # The webhook still works after it.
        tg.push_update(tg.private_text(CITIZEN, "после мусора"))
        await tg.wait_sent(1, chat_id=CITIZEN)
        assert desk.app is not None and desk.app.failure() is None
    assert "malformed request was refused" in caplog.text
    assert "Тайное" not in caplog.text and "Тайное".encode() not in caplog.text.encode()


class PutFailsOnce(SqliteStore):
    """The real store, failing the first time an update is to be kept (a disk gone away)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failures = 1

    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return await super().put_inbox(platform, items)


async def test_a_store_failing_answers_503_and_telegrams_repeat_lands_it(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, store=PutFailsOnce, **webhook_settings(port)):
        await webhook_set(tg)
        tg.push_update(tg.private_text(CITIZEN, "фонарь не горит"))
        await tg.wait_sent(1, chat_id=CITIZEN)
        await card_of(tg, 1)
    assert statuses(tg) == [503, 200]
    assert inbox_count(db) == 1 and len(tg.sent(CITIZEN)) == 1


class HeldOnce(SqliteStore):
    """The real store, whose first keeping of an update waits until the test lets it go:
    a store slower than Telegram's patience."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int:
        if not self.held.is_set():
            self.held.set()
            await self.release.wait()
        return await super().put_inbox(platform, items)


async def test_an_answer_telegram_stopped_waiting_for_is_repeated_and_stored_once(
    tmp_path: Path, port: int
) -> None:
    """Telegram gives up waiting, and repeats; the first request stores it all the same."""
    db = tmp_path / "d.sqlite3"
    async with FakeTelegram(webhook_retry=(0.05, 0.2), webhook_timeout=0.3) as tg:
        tg.add_group(STAFF_CHAT, "Операторы")
        async with FaultDesk(tg.base_url, db, store=HeldOnce, **webhook_settings(port)) as desk:
            await webhook_set(tg)
            tg.push_update(tg.private_text(CITIZEN, "фонарь не горит"))
            await card_of(tg, 1)  # the repeat was stored while the first request waited
            assert desk.app is not None
            store = desk.app.store
            assert isinstance(store, HeldOnce)
            store.release.set()  # the first request now finds it stored
            await tg.wait_sent(1, chat_id=CITIZEN)
        errors = [d.error for d in tg.webhook_deliveries]
        assert errors == ["Read timeout expired", None]
        assert inbox_count(db) == 1 and len(tg.sent(CITIZEN)) == 1


async def test_back_to_polling_the_webhook_is_deleted_and_nothing_waiting_is_lost(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **webhook_settings(port)):
        await webhook_set(tg)
    # Down: Telegram cannot deliver; the update waits with it.
    tg.push_update(tg.private_text(CITIZEN, "пока бот стоял"))
    await tg.wait_for(lambda: tg.webhook_deliveries)
    async with Desk(tg.base_url, db):
        await tg.wait_sent(1, chat_id=CITIZEN)
    assert not tg.webhook_url and tg.calls("deleteWebhook")
    [delete] = tg.calls("deleteWebhook")
    assert delete.params.get("drop_pending_updates") is False
    assert texts_in(tg, CITIZEN)[0].startswith("Ваше сообщение №1 получено.")
    assert all(not d.ok for d in tg.webhook_deliveries)


async def test_a_port_in_use_stops_the_start_naming_webhook_port(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        desk = Desk(tg.base_url, tmp_path / "d.sqlite3", **webhook_settings(port))
        with pytest.raises(StartupRefused, match=rf"^WEBHOOK_PORT: cannot listen on "
                           rf"127\.0\.0\.1:{port} "):
            await desk.start()
    assert not tg.calls("setWebhook")


async def test_an_update_polled_before_and_posted_now_is_stored_once(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    """One source key however an update comes: one a poller stored, and Telegram then posts
    to the new webhook (its confirmation was lost), makes nothing twice."""
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        update_id = tg.push_update(tg.private_text(CITIZEN, "один раз"))
        await card_of(tg, 1)
    async with Desk(tg.base_url, db, **webhook_settings(port)):
        await webhook_set(tg)
        tg.redeliver(update_id)
        await tg.wait_for(lambda: statuses(tg) == [200])
        assert inbox_count(db) == 1
    [(source, payload)] = await store_rows(db, "SELECT source, payload FROM inbox")
    assert source == inbox_row(json.loads(payload))[0]  # type: ignore[index]
    assert source.startswith(f"telegram:{update_id}:")
    assert len(tg.sent(CITIZEN)) == 1


async def test_the_fake_bot_api_keeps_to_telegrams_webhook_rules(
    tg: FakeTelegram, port: int
) -> None:
    """The fake itself: what setWebhook refuses, 409 on getUpdates, and the last error."""
    async with tg.bot() as bot:
        with pytest.raises(TelegramBadRequest, match="secret token"):
            await bot.set_webhook(f"http://127.0.0.1:{port}/", secret_token="no spaces")
        with pytest.raises(TelegramBadRequest, match="max_connections"):
            await bot.set_webhook(f"http://127.0.0.1:{port}/", max_connections=101)
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/", secret_token=SECRET)
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        tg.push_update(tg.private_text(CITIZEN, "никто не слушает"))
        await tg.wait_for(lambda: len(tg.webhook_deliveries) >= 2)  # refused, and again
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1 and info.last_error_message == "Connection refused"
        assert await bot.delete_webhook()
        [update] = await bot.get_updates()
        assert update.message is not None and update.message.text == "никто не слушает"
