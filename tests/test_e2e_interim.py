"""Interim answers end to end: `/interim` on a card reaches the citizen wherever they wrote.

The real application, aiogram and vkbottle, against the local fake Bot API and VK servers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT, Desk
from tests.test_e2e_telegram import card_of, texts_in
from tests.test_e2e_vk import polling, staff_reply, staff_told

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

CITIZEN = 5554001
VK_CITIZEN = 1001
OPERATOR = 7001
INTERIM = re.compile(
    r"^Работа по сообщению №1 продолжается: ответ займёт больше времени\. "
    r"Ответим до \d{1,2} [а-я]+, \d\d:\d\d\.$"
)


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Анна", "Иванова")
        yield fake


@pytest.fixture
def vk_desk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Desk]:
    monkeypatch.chdir(tmp_path)

    def make(**overrides: Any) -> Desk:
        return Desk(tg.base_url, tmp_path / "desk.sqlite3", vk_token=vk.token,
                    vk_group_id=vk.group_id, vk_api_url=vk.api_url, **overrides)
    return make


async def test_interim_on_a_telegram_card_reaches_the_citizen_with_the_reason(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "Когда отремонтируют подъезд?"))
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "/interim 7 нужна смета <подрядчика>",
            reply_to=card["message_id"],
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
        await tg.wait_for(
            lambda: any(t.startswith("№1: новый срок — ") for t in texts_in(tg, STAFF_CHAT)),
        )
    first, reason = texts_in(tg, CITIZEN)[1].split("\n")
    assert INTERIM.match(first), first
    assert reason == "Причина: нужна смета <подрядчика>"  # plain text: shown as typed
    [notice] = [t for t in texts_in(tg, STAFF_CHAT) if t.startswith("№1: новый срок — ")]
    assert notice.endswith("если оно не дойдёт, бот скажет.")
    assert first.split("Ответим до ")[1].rstrip(".") in notice


async def test_interim_on_a_vk_card_goes_as_a_vk_message(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk():
        await polling(vk)
        vk.message_new(VK_CITIZEN, "Когда починят дорогу?")
        card = await card_of(tg, 1)
        await staff_reply(tg, card, "/interim 3")
        sent = await vk.wait_messages(2, peer_id=VK_CITIZEN)
        await staff_told(tg, "№1: новый срок — ")
    assert INTERIM.match(sent[1]["message"]), sent[1]["message"]
    assert sent[1]["random_id"] not in {0, sent[0]["random_id"]}
