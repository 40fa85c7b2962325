"""VK's Callback API, end to end: the real application against the fake VK, which confirms the
desk's server and posts each event to it, sending again what is not answered `ok`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import Desk, store_rows
from tests.test_e2e_vk import card_of
from tests.test_intake_faults import FaultDesk
from tests.test_webhook import PutFailsOnce, free_port, inbox_count

CITIZEN = 1001
SECRET = "vk-callback-secret-key"
PATH = "/vk/callback"


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(CITIZEN, "Анна", "Иванова")
        fake.callback_retry = (0.05, 0.2)  # VK's repeats, at a test's pace
        yield fake


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(vk: FakeVK, port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    return {
        "vk_token": vk.token, "vk_group_id": vk.group_id, "vk_api_url": vk.api_url,
        "vk_callback_confirmation": vk.confirmation_code, "vk_callback_secret": SECRET,
        "webhook_port": port,
    }


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}{PATH}"


async def post(port: int, body: bytes) -> tuple[int, str]:
    """A request to the desk's Callback API address, as anyone on the network could send it."""
    async with aiohttp.ClientSession() as session, session.post(url(port), data=body) as answer:
        return answer.status, await answer.text()


def answers(vk: FakeVK) -> Sequence[tuple[int | None, str | None]]:
    return [(d.status, d.answer) for d in vk.callback_deliveries]


async def test_the_confirmation_is_answered_with_the_code_and_long_poll_is_not_used(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, port: int, settings: dict[str, Any]
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", **settings):
        assert await vk.connect_callback_server(url(port), secret_key=SECRET)
        other = b'{"type": "confirmation", "group_id": 99}'
        assert (await post(port, other))[0] == 403
    assert answers(vk) == [(200, vk.confirmation_code)]
    assert not vk.longpoll_requests and not vk.calls("groups.getLongPollServer")


async def test_a_private_message_by_callback_becomes_a_ticket(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, settings: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = settings["webhook_port"]
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **settings):
        assert await vk.connect_callback_server(url(port), secret_key=SECRET)
        vk.message_new(CITIZEN, "Не горит фонарь у дома 5")
        [ack] = await vk.wait_messages(1, peer_id=CITIZEN)
        card = await card_of(tg, 1)
    assert ack["message"].startswith("Ваше сообщение №1 получено")
    assert "ВКонтакте" in card["text"] and "Анна Иванова" in card["text"]
    assert answers(vk)[1:] == [(200, "ok")]
    [(payload,)] = await store_rows(db, "SELECT payload FROM inbox")
    assert SECRET not in payload and SECRET not in caplog.text  # the key is not kept


async def test_a_comment_by_callback_becomes_a_ticket(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, port: int, settings: dict[str, Any]
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", **settings):
        assert await vk.connect_callback_server(url(port), secret_key=SECRET)
        post_id = vk.add_post("Ремонт дороги на улице Ленина")
        comment = vk.wall_reply_new(post_id, CITIZEN, "А когда закончат?")["object"]
        [ack] = await vk.wait_comments(1)
        card = await card_of(tg, 1)
    assert ack["text"].startswith("Комментарию присвоен №1.")
    assert ack["reply_to_comment"] == comment["id"]
    assert "ВКонтакте · комментарий" in card["text"]


async def test_an_event_with_a_wrong_secret_is_refused_403_and_nothing_stored(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, port: int, settings: dict[str, Any]
) -> None:
    db = tmp_path / "d.sqlite3"
    vk.callback_retries = 2
    async with Desk(tg.base_url, db, **settings):
        assert await vk.connect_callback_server(url(port), secret_key="not-the-key")
        event = vk.message_new(CITIZEN, "фонарь")
        await vk.wait_for(lambda: vk.callback_given_up == [event])
        assert answers(vk)[1:] == [(403, "forbidden")] * 3  # the first try and two repeats
        assert (await post(port, json.dumps(event).encode()))[0] == 403  # no secret at all
        assert inbox_count(db) == 0
    assert not vk.sent_messages()


async def test_an_event_of_another_community_is_refused_403(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, port: int, settings: dict[str, Any]
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **settings):
        body = ('{"type": "message_new", "group_id": 99, "event_id": "e1", "secret": "'
                + SECRET + '", "object": {}}')
        assert await post(port, body.encode()) == (403, "forbidden")
        assert inbox_count(db) == 0


async def test_vk_sending_an_event_again_stores_it_once(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, port: int, settings: dict[str, Any]
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **settings):
        assert await vk.connect_callback_server(url(port), secret_key=SECRET)
        event = vk.message_new(CITIZEN, "яма во дворе")
        vk.push_raw(event)  # the same event_id again, as VK repeats one it saw no "ok" for
        await vk.wait_for(lambda: answers(vk)[1:] == [(200, "ok")] * 2)
        assert inbox_count(db) == 1
        await vk.wait_messages(1, peer_id=CITIZEN)
        vk.message_new(CITIZEN + 1, "другой вопрос")
        await vk.wait_messages(1, peer_id=CITIZEN + 1)  # after the repeat, which made nothing
    assert len(vk.sent_messages(CITIZEN)) == 1
    [(source,)] = await store_rows(db, "SELECT source FROM inbox WHERE id = 1")
    assert source == f"vk:{event['event_id']}"  # the key Long Poll gives it


async def test_a_store_failing_answers_500_and_vks_repeat_lands_it(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, port: int, settings: dict[str, Any]
) -> None:
    db = tmp_path / "d.sqlite3"
    async with FaultDesk(tg.base_url, db, store=PutFailsOnce, **settings):
        assert await vk.connect_callback_server(url(port), secret_key=SECRET)
        vk.message_new(CITIZEN, "фонарь не горит")
        await vk.wait_messages(1, peer_id=CITIZEN)
    assert [status for status, _ in answers(vk)[1:]] == [500, 200]
    assert inbox_count(db) == 1


@pytest.mark.parametrize("body", [
    "Тайное сообщение жителя".encode(),
    '["Тайное сообщение жителя"]'.encode(),
    '{"object": {"text": "Тайное сообщение жителя"}}'.encode(),
    b'{"type": "\xff Tajnoe"}',
], ids=["not-json", "a-list", "no-type", "not-utf8"])
async def test_a_malformed_event_is_refused_400_and_its_content_never_logged(
    tg: FakeTelegram, tmp_path: Path, settings: dict[str, Any],
    caplog: pytest.LogCaptureFixture, body: bytes,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = settings["webhook_port"]
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **settings):
        assert (await post(port, body))[0] == 400
        assert inbox_count(db) == 0
    assert "malformed request was refused" in caplog.text
    assert "Тайное" not in caplog.text and "Tajnoe" not in caplog.text



async def test_a_server_answering_another_code_is_not_confirmed_and_gets_no_events(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, settings: dict[str, Any]
) -> None:
    port = settings["webhook_port"]
    settings["vk_callback_confirmation"] = "0000aaaa"  # an old code, from before an edit
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, **settings):
        assert not await vk.connect_callback_server(url(port), secret_key=SECRET)
        vk.message_new(CITIZEN, "никто не получит")
        assert answers(vk) == [(200, "0000aaaa")]
        assert inbox_count(db) == 0
