"""End to end, real aiogram against the fake Bot API: who may answer, and what staff messages do.

Anonymous administrators, comments posted as a channel, `/start` with text, staff
corrections, the supervisors' chat and replies to the bot's other messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import DISCUSSION_CHAT, STAFF_CHAT, Desk
from tests.test_e2e_telegram import card_of, texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

CITIZEN = 5553001
OPERATOR = 7001
SUPERVISORS = -1001000000009
# Telegram's placeholder senders: https://core.telegram.org/bots/api#message (sender_chat).
ANONYMOUS_ADMIN = {
    "id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot",
}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
NEIGHBOURS = {"id": -1001000000555, "title": "Совет дома 5", "type": "channel",
              "username": "sovet_doma5"}
ADMINISTRATION = {"id": -1001000000777, "title": "Администрация", "type": "channel"}


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        fake.add_group(DISCUSSION_CHAT, "Обсуждение канала")
        fake.add_group(SUPERVISORS, "Руководители")
        yield fake


def staff_chat(tg: FakeTelegram) -> dict[str, Any]:
    chat: dict[str, Any] = tg.add_group(STAFF_CHAT, "Операторы")
    return chat


async def test_anonymous_admin_answer_reaches_the_citizen_with_a_staff_list(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", staff_user_ids=[OPERATOR]) as desk:
        tg.push_update(tg.private_text(CITIZEN, "Когда дадут воду?"))
        card = await card_of(tg, 1)
        tg.push_update(tg.message_update(
            STAFF_CHAT, ANONYMOUS_ADMIN, reply_to=card["message_id"],
            sender_chat=staff_chat(tg), text="Воду дадут к 18:00.",
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].endswith("Воду дадут к 18:00.")
        assert desk.app is not None
        records = await desk.app.store.messages(1)
        assert [m.author for m in records if m.direction == "out"] == ["администратор"]


async def test_comment_posted_as_a_channel_opens_a_ticket_but_the_own_channel_does_not(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", discussion_chat_id=DISCUSSION_CHAT):
        post = tg.automatic_forward(DISCUSSION_CHAT, "Новость: ремонт крыши")
        tg.push_update(post)
        thread = post["message"]["message_id"]
        tg.push_update(tg.message_update(
            DISCUSSION_CHAT, CHANNEL_BOT, reply_to=thread, message_thread_id=thread,
            sender_chat=ADMINISTRATION, text="Подробности на сайте.",
        ))
        comment = tg.message_update(
            DISCUSSION_CHAT, CHANNEL_BOT, reply_to=thread, message_thread_id=thread,
            sender_chat=NEIGHBOURS, text="Когда начнут в доме 5?",
        )
        tg.push_update(comment)
        await tg.wait_sent(1, chat_id=DISCUSSION_CHAT)
        ack = tg.sent(DISCUSSION_CHAT)[0]["message"]
        assert ack["text"].startswith("Комментарию присвоен №1.")
        assert ack["reply_to_message"]["message_id"] == comment["message"]["message_id"]
        card = await card_of(tg, 1)
        assert "Совет дома 5" in card["text"] and "Когда начнут" in card["text"]
        assert [t for t in texts_in(tg, STAFF_CHAT) if "Подробности на сайте" in t] == []


async def test_start_with_text_greets_and_keeps_the_text_as_a_message(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "/start Не работает лифт в доме 3"))
        await tg.wait_sent(2, chat_id=CITIZEN)
        greeting, ack = texts_in(tg, CITIZEN)
        assert greeting.startswith("Здравствуйте!")
        assert ack.startswith("Ваше сообщение №1 получено.")
        card = await card_of(tg, 1)
        assert "Не работает лифт в доме 3" in card["text"] and "/start" not in card["text"]


async def test_staff_edit_of_a_sent_answer_reaches_the_citizen_as_a_correction(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "Когда приём?"))
        card = await card_of(tg, 1)
        answer = tg.group_text(STAFF_CHAT, OPERATOR, "Приём в среду.", reply_to=card["message_id"])
        tg.push_update(answer)
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert "edited_message" in (tg.allowed_updates or [])
        edit = tg.edited_text(STAFF_CHAT, answer["message"]["message_id"], "Приём в четверг.")
        tg.push_update(edit)
        await tg.wait_sent(3, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[2] == (
            "Исправлено: ответ на ваше сообщение №1:\n\nПриём в четверг."
        )


async def test_close_after_the_number_on_a_card_never_reaches_the_citizen(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "№1 /close", reply_to=card["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].startswith("Работа по сообщению №1 завершена.")
        assert not [t for t in texts_in(tg, CITIZEN) if "/close" in t]


async def test_supervisor_reply_to_a_level_2_escalation_answers_the_citizen(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    ladder = {"escalation_after": 1, "escalation_check_interval": 1,
              "escalation_chat_id": SUPERVISORS}
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", **ladder):
        tg.push_update(tg.private_text(CITIZEN, "Нет отопления"))
        level2 = (await tg.wait_sent(1, chat_id=SUPERVISORS))[0]["message"]
        tg.push_update(tg.group_text(
            SUPERVISORS, OPERATOR + 1, "Бригада выехала.", reply_to=level2["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].endswith("Бригада выехала.")
        tg.push_update(tg.group_text(
            SUPERVISORS, OPERATOR + 1, "/close", reply_to=level2["message_id"]
        ))
        notice = (await tg.wait_sent(2, chat_id=SUPERVISORS))[1]["message"]
        assert notice["text"] == "№1 закрыто."


async def test_reply_to_a_bot_message_naming_no_ticket_gets_a_hint(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/help"))
        help_message = (await tg.wait_sent(1, chat_id=STAFF_CHAT))[0]["message"]
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "а как ответить?", reply_to=help_message["message_id"]
        ))
        hint = (await tg.wait_sent(2, chat_id=STAFF_CHAT))[1]["message"]
        assert "начните с номера" in hint["text"]
