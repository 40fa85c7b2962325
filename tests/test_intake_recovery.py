"""Intake keeps going and a person hears of it: hostile events, odd answers, unreadable updates.

Against the real application, aiogram and vkbottle and the local fake platforms, with the
real SQLite store; the once-an-hour staff notices with the real InboxKeeper and a clock moved
by hand.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.inbox import Failure, InboxKeeper, malformed
from handlers.desk import FrontDesk
from storage import SqliteStore
from storage.values import Purpose
from tests.conftest import FixedClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT
from tests.test_e2e_telegram import texts_in
from tests.test_intake_faults import CITIZEN, VK_CITIZEN, FaultDesk, vk_settings

UNREADABLE = "Не удалось прочитать"


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Анна", "Иванова")
        yield fake


def staff_notices(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [json.loads(row[0])["text"] for row in conn.execute(
            "SELECT payload FROM outbox WHERE purpose = ? ORDER BY id",
            (Purpose.STAFF_NOTICE.value,),
        )]


def inbox_errors(db: Path) -> list[tuple[int, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT done, error FROM inbox ORDER BY id").fetchall()


async def test_vk_event_whose_object_is_not_a_dict_is_kept_and_the_rest_go_on(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, **vk_settings(vk)):
        asked = len(vk.longpoll_requests)
        await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
        vk.push_raw({"type": "message_new", "object": ["x"], "group_id": vk.group_id,
                     "event_id": "hostile1"})
        vk.push_raw({"type": "wall_reply_new", "object": "x", "group_id": vk.group_id,
                     "event_id": "hostile2"})
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        sent = await vk.wait_messages(1, peer_id=VK_CITIZEN)
        await tg.wait_for(lambda: any(t.startswith(UNREADABLE) for t in texts_in(tg, STAFF_CHAT)))
    assert sent[0]["message"].startswith("Ваше сообщение №1")
    rows = inbox_errors(db)
    assert rows[0][0] == 1 and rows[0][1] is not None and "malformed" in rows[0][1]
    assert [t for t in texts_in(tg, STAFF_CHAT) if t.startswith(UNREADABLE)] == [
        t for t in staff_notices(db) if t.startswith(UNREADABLE)
    ]


async def test_vk_event_that_is_not_an_object_is_kept_and_staff_are_told(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, **vk_settings(vk)):
        asked = len(vk.longpoll_requests)
        await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
        vk.push_raw("не событие")  # type: ignore[arg-type]
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        sent = await vk.wait_messages(1, peer_id=VK_CITIZEN)
        await tg.wait_for(lambda: any(t.startswith(UNREADABLE) for t in texts_in(tg, STAFF_CHAT)))
    assert sent[0]["message"].startswith("Ваше сообщение №1")
    rows = inbox_errors(db)
    assert len(rows) == 2 and rows[0][0] == 1 and "malformed" in (rows[0][1] or "")


@pytest.mark.parametrize("garbled", [
    {"ts": "5", "updates": 7},  # updates no list
    ["not", "an", "object"],  # the answer itself no object
])
async def test_a_garbled_vk_long_poll_answer_is_asked_again_and_the_desk_goes_on(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
    caplog: pytest.LogCaptureFixture, garbled: object,
) -> None:
    """An answer not in VK's shape (from a proxy, say) is not confirmed: asked again later."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, **vk_settings(vk)) as desk:
        asked = len(vk.longpoll_requests)
        await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
        vk.garbled_longpoll_next(garbled)
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        sent = await vk.wait_messages(1, peer_id=VK_CITIZEN, timeout=20)
        assert desk.app.failure() is None
    assert sent[0]["message"].startswith("Ваше сообщение №1")
    assert "VK long poll failed" in caplog.text


async def test_a_garbled_get_long_poll_server_answer_is_asked_again(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """groups.getLongPollServer without its fields: a pause and a new question, not a stop."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, **vk_settings(vk)) as desk:
        asked = len(vk.longpoll_requests)
        await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
        vk.expire_key()  # the next a_check says failed: 2, so the server is asked again
        vk.override_next("groups.getLongPollServer", {"server": vk.longpoll_url})
        vk.message_new(VK_CITIZEN, "фонарь не горит")
        sent = await vk.wait_messages(1, peer_id=VK_CITIZEN, timeout=20)
        assert desk.app.failure() is None
    assert sent[0]["message"].startswith("Ваше сообщение №1")


async def test_html_bad_gateway_on_get_updates_is_temporary_and_its_text_not_logged(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "d.sqlite3"
    tg.faults.server_error(502, methods=["getUpdates"], html=True)
    async with FaultDesk(tg.base_url, db) as app:
        await tg.wait_for(lambda: len(tg.getupdates_calls) > 1 or app.app.failure())
        failure = app.app.failure()
        tg.faults.clear()
        assert failure is None, f"desk stopped: {failure!r}"
        tg.push_update(tg.private_text(CITIZEN, "фонарь не горит"))
        await tg.wait_sent(1, chat_id=CITIZEN)
    assert "getUpdates failed (ClientDecodeError)" in caplog.text
    assert "<html" not in caplog.text.lower() and "Failed to decode" not in caplog.text


async def test_an_unreadable_citizen_message_is_kept_and_staff_are_told(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db):
        good = tg.private_text(CITIZEN, "у подъезда яма")
        bad = {"message": {**good["message"], "date": "вчера"}}  # a field aiogram cannot read
        tg.push_raw(bad)
        tg.push_update(tg.private_text(CITIZEN + 1, "фонарь"))
        await tg.wait_sent(1, chat_id=CITIZEN + 1)
        await tg.wait_for(lambda: any(t.startswith(UNREADABLE) for t in texts_in(tg, STAFF_CHAT)))
    rows = inbox_errors(db)
    assert rows[0] == (1, "malformed update: ValidationError")
    told = [t for t in texts_in(tg, STAFF_CHAT) if t.startswith(UNREADABLE)]
    assert len(told) == 1 and told[0].startswith(f"{UNREADABLE} 1 входящее сообщение")
    assert "яма" not in told[0]  # the count and the kind only, never the citizen's text


async def test_updates_set_aside_later_in_the_hour_are_told_when_the_hour_is_over(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    keeper = InboxKeeper(desk, delays=(), now=clock)
    await store.put_inbox("telegram", [("k1", "{}"), ("k2", "{}"), ("k3", "{}")])
    rows = await store.pending_inbox("telegram", 10, now=clock())
    await keeper.settle(rows[:1], {rows[0].id: Failure("OperationalError: disk I/O error")})
    assert len(staff_notices(Path(store.location))) == 1
    clock.advance(minutes=10)
    await keeper.settle(rows[1:], {i.id: Failure("KeyError: x") for i in rows[1:]})
    assert len(staff_notices(Path(store.location))) == 1  # not again within the hour
    clock.advance(hours=1)
    await keeper.tell_staff()  # what the idle loop calls every few seconds
    told = staff_notices(Path(store.location))
    assert len(told) == 2, told
    assert told[1].startswith("Не удалось обработать 3 входящих сообщения")
    await keeper.tell_staff()
    assert len(staff_notices(Path(store.location))) == 2  # nothing owed any more


async def test_unreadable_updates_are_counted_and_told_once_an_hour(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    keeper = InboxKeeper(desk, now=clock)
    await store.put_inbox("telegram", [(f"k{i}", "{}") for i in range(4)])
    rows = await store.pending_inbox("telegram", 10, now=clock())
    await keeper.settle(rows[:1], {rows[0].id: malformed("malformed update: ValueError")})
    clock.advance(minutes=5)
    await keeper.settle(rows[1:], {r.id: malformed("malformed update: ValueError")
                                   for r in rows[1:]})
    assert [t[:40] for t in staff_notices(Path(store.location))] == [
        f"{UNREADABLE} 1 входящее сообщение"[:40]
    ]
    # A new keeper (a restart) still owes the other three: the count is in the store.
    again = InboxKeeper(desk, now=clock)
    clock.advance(hours=1)
    await again.tell_staff()
    told = staff_notices(Path(store.location))
    assert len(told) == 2 and told[1].startswith(f"{UNREADABLE} 3 входящих сообщения"), told
    await again.tell_staff()
    assert len(staff_notices(Path(store.location))) == 2
