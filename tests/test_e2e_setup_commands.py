"""End to end: /id for setting the desk up, a citizen's /help, staff not on the list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.test_e2e_telegram import card_of, texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

CITIZEN = 5557001
OPERATOR = 7001
NEWCOMER = 7002


@pytest.fixture
async def desk(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Desk]:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", staff_user_ids=str(OPERATOR)) as d:
        yield d


async def test_citizen_help_shows_the_greeting_not_a_ticket(
    tg: FakeTelegram, desk: Desk
) -> None:
    tg.push_update(tg.private_text(CITIZEN, "/help"))
    tg.push_update(tg.private_text(CITIZEN, "/помогите срочно"))  # unknown command: text
    await tg.wait_sent(2, chat_id=CITIZEN)
    greeting, ack = texts_in(tg, CITIZEN)
    assert greeting.startswith("Здравствуйте!") and "Оператор:" in greeting
    assert ack.startswith("Ваше сообщение №1 получено.")
    card = await card_of(tg, 1)
    assert card["text"].endswith("/помогите срочно")
    assert not [t for t in texts_in(tg, STAFF_CHAT) if "/help" in t]


async def test_id_in_a_private_chat_is_answered_and_is_no_ticket(
    tg: FakeTelegram, desk: Desk
) -> None:
    tg.push_update(tg.private_text(CITIZEN, "/id"))
    tg.push_update(tg.private_text(CITIZEN, "вопрос"))
    await tg.wait_sent(2, chat_id=CITIZEN)
    ids, ack = texts_in(tg, CITIZEN)
    assert ids == f"Ваш id в Telegram: {CITIZEN}. У этого чата тот же id."
    assert ack.startswith("Ваше сообщение №1 получено.")  # /id opened nothing
    assert tg.sent(CITIZEN)[0]["message"]["reply_to_message"]["text"] == "/id"


async def test_staff_not_on_the_list_are_told_once_a_day(
    tg: FakeTelegram, desk: Desk
) -> None:
    tg.push_update(tg.private_text(CITIZEN, "вопрос"))
    card = await card_of(tg, 1)
    for text in ("ответ новичка", "/close", "ещё ответ"):
        tg.push_update(tg.group_text(STAFF_CHAT, NEWCOMER, text, reply_to=card["message_id"]))
    tg.push_update(tg.group_text(STAFF_CHAT, NEWCOMER, "просто разговор"))
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Ответ.", reply_to=card["message_id"]))
    await tg.wait_sent(2, chat_id=CITIZEN)  # the listed operator's answer went
    # Staff-chat messages go in order: once the answer to /queue is there, so is the rest.
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/queue"))
    await tg.wait_for(lambda: any("Очередь пуста" in t for t in texts_in(tg, STAFF_CHAT)))
    told = [t for t in texts_in(tg, STAFF_CHAT) if "Вас нет в списке сотрудников" in t]
    assert len(told) == 1
    assert "STAFF_USER_IDS" in told[0] and "/id" in told[0]
    notice = next(r for r in tg.sent(STAFF_CHAT) if "Вас нет в списке" in r["message"]["text"])
    assert notice["message"]["reply_to_message"]["text"] == "ответ новичка"
    assert texts_in(tg, CITIZEN)[1].endswith("Ответ.")  # nothing of the newcomer's went
    assert len(tg.sent(CITIZEN)) == 2
