"""End to end: the real application and aiogram against the local fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import DISCUSSION_CHAT, STAFF_CHAT, Desk, store_rows

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

CITIZEN = 5551001
OPERATOR = 7001


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        fake.add_group(DISCUSSION_CHAT, "Обсуждение канала")
        yield fake


@pytest.fixture
async def desk(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Desk]:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3") as running:
        yield running


def texts_in(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [
        r["message"].get("text") or r["message"].get("caption") or "" for r in tg.sent(chat_id)
    ]


async def card_of(tg: FakeTelegram, number: int) -> dict[str, Any]:
    """The card of ticket №number, once it is in the staff chat."""
    def find() -> dict[str, Any] | None:
        for record in tg.sent(STAFF_CHAT):
            if (record["message"].get("text") or "").startswith(f"№{number} "):
                return record["message"]
        return None
    found: dict[str, Any] = await tg.wait_for(find)
    return found


async def test_first_message_gets_ack_and_card(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.private_text(CITIZEN, "Не горит фонарь у дома 5", first_name="Анна"))
    await tg.wait_sent(1, chat_id=CITIZEN)
    ack = texts_in(tg, CITIZEN)[0]
    assert ack.startswith("Ваше сообщение №1 получено. Ответим до ")
    card = await card_of(tg, 1)
    assert "Telegram · личное сообщение" in card["text"]
    assert "Анна" in card["text"] and "Не горит фонарь у дома 5" in card["text"]


async def test_follow_up_joins_open_ticket_without_new_ack(
    tg: FakeTelegram, desk: Desk
) -> None:
    tg.push_update(tg.private_text(CITIZEN, "первое"))
    card = await card_of(tg, 1)
    tg.push_update(tg.private_text(CITIZEN, "второе, дополнение"))
    await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 2)
    follow_up = tg.sent(STAFF_CHAT)[1]
    assert follow_up["message"]["text"].startswith("№1 · новое сообщение")
    assert follow_up["message"]["reply_to_message"]["message_id"] == card["message_id"]
    assert len(tg.sent(CITIZEN)) == 1  # still the one acknowledgement


async def test_staff_text_reply_reaches_citizen(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.private_text(CITIZEN, "Когда починят дорогу?"))
    card = await card_of(tg, 1)
    tg.push_update(tg.group_text(
        STAFF_CHAT, OPERATOR, "Ремонт запланирован на май.", reply_to=card["message_id"]
    ))
    await tg.wait_sent(2, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN)[1] == (
        "Ответ на ваше сообщение №1:\n\nРемонт запланирован на май."
    )


async def test_staff_photo_reply_is_copied_to_citizen(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.private_text(CITIZEN, "Где пункт вакцинации?"))
    card = await card_of(tg, 1)
    tg.push_update(tg.group_photo(
        STAFF_CHAT, OPERATOR, caption="Вот схема", reply_to=card["message_id"]
    ))
    await tg.wait_sent(2, chat_id=CITIZEN)
    answer = tg.sent(CITIZEN)[1]
    assert answer["method"] == "copyMessage"
    assert answer["message"]["photo"]
    assert answer["message"]["caption"] == "Ответ на ваше сообщение №1:\n\nВот схема"


async def test_close_then_new_message_opens_new_ticket(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.private_text(CITIZEN, "вопрос"))
    card = await card_of(tg, 1)
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/close", reply_to=card["message_id"]))
    await tg.wait_sent(2, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN)[1].startswith("Работа по сообщению №1 завершена.")
    tg.push_update(tg.private_text(CITIZEN, "новый вопрос"))
    await tg.wait_sent(3, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN)[2].startswith("Ваше сообщение №2 получено.")


async def test_restart_keeps_numbers_and_old_cards(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "desk.sqlite3"
    desk = Desk(tg.base_url, db)
    await desk.start()
    tg.push_update(tg.private_text(CITIZEN, "до перезапуска"))
    old_card = await card_of(tg, 1)
    await desk.restart()
    try:
        tg.push_update(tg.private_text(CITIZEN + 1, "после перезапуска"))
        await card_of(tg, 2)
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "ответ на старую карточку", reply_to=old_card["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].endswith("ответ на старую карточку")
    finally:
        await desk.stop()


async def test_html_in_citizen_text_is_shown_as_text(tg: FakeTelegram, desk: Desk) -> None:
    hostile = '<b>жирный</b> <a href="https://evil.example">клик</a> & <script>'
    tg.push_update(tg.private_text(CITIZEN, hostile))
    card = await card_of(tg, 1)
    assert hostile in card["text"]
    assert not any(e.get("url") == "https://evil.example" for e in card.get("entities", []))


async def test_long_text_is_split_not_cut(tg: FakeTelegram, desk: Desk) -> None:
    long_text = " ".join(f"слово{i}" for i in range(700))  # about 5,000 characters
    assert len(long_text) > 4096
    tg.push_update(tg.private_text(CITIZEN, long_text))
    await card_of(tg, 1)
    await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 2)
    parts = texts_in(tg, STAFF_CHAT)
    assert all(len(p) <= 4096 for p in parts)
    joined = " ".join(" ".join(parts).split())
    assert " ".join(long_text.split()) in joined

    # A reply to the second part of the card reaches the ticket as well.
    second = tg.sent(STAFF_CHAT)[1]["message"]["message_id"]
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "прочитали", reply_to=second))
    await tg.wait_sent(2, chat_id=CITIZEN)


async def test_long_staff_answer_is_split_for_the_citizen(
    tg: FakeTelegram, desk: Desk
) -> None:
    tg.push_update(tg.private_text(CITIZEN, "нужен подробный ответ"))
    card = await card_of(tg, 1)
    answer = "Подробно. " * 600
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, answer, reply_to=card["message_id"]))
    await tg.wait_sent(3, chat_id=CITIZEN)
    parts = texts_in(tg, CITIZEN)[1:]
    assert parts[0].startswith("Ответ на ваше сообщение №1:")
    assert sum(p.count("Подробно.") for p in parts) == 600


async def test_sticker_only_message_is_described_and_shown(
    tg: FakeTelegram, desk: Desk
) -> None:
    tg.push_update(tg.private_sticker(CITIZEN, emoji="😡"))
    card = await card_of(tg, 1)
    assert "[стикер 😡]" in card["text"]
    await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 2)
    copy = tg.sent(STAFF_CHAT)[1]
    assert copy["method"] == "copyMessage" and copy["message"].get("sticker")
    assert copy["message"]["reply_to_message"]["message_id"] == card["message_id"]


async def test_location_and_document_are_described(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.private_location(CITIZEN, 55.75, 37.62))
    card = await card_of(tg, 1)
    assert "[геопозиция: 55.75000, 37.62000]" in card["text"]
    tg.push_update(tg.private_document(CITIZEN + 1, file_name="акт.pdf", caption="акт"))
    card = await card_of(tg, 2)
    assert "[документ: акт.pdf]" in card["text"]


UNKNOWN_KINDS: list[dict[str, Any]] = [
    # Kinds the desk never asks for (a button press with no buttons, a poll, the bot's own
    # membership), kinds newer than this aiogram, and an update that names no kind at all.
    {"callback_query": {"id": "4000000000000000001", "chat_instance": "1", "data": "x",
                        "from": {"id": CITIZEN, "is_bot": False, "first_name": "А"}}},
    {"poll": {"id": "5", "question": "?", "options": [], "total_voter_count": 0,
              "is_closed": False, "is_anonymous": True, "type": "regular",
              "allows_multiple_answers": False, "allows_revoting": False,
              "members_only": False}},
    {"my_chat_member": {"chat": {"id": -100777, "type": "supergroup", "title": "Чужая"},
                        "from": {"id": 1, "is_bot": False, "first_name": "Б"}, "date": 1,
                        "old_chat_member": {"status": "left", "user": {
                            "id": 1, "is_bot": True, "first_name": "bot"}},
                        "new_chat_member": {"status": "member", "user": {
                            "id": 1, "is_bot": True, "first_name": "bot"}}}},
    {"some_future_update": {"id": 1, "text": "из будущего"}},
    {"paid_media_gift": {"id": 2, "text": "тоже из будущего"}},
    {},
]


async def test_unknown_update_kinds_do_not_stop_the_bot(
    tg: FakeTelegram, desk: Desk, tmp_path: Path
) -> None:
    tg.push_update(tg.group_text(-100999, OPERATOR, "чужая группа"))
    unknown = [tg.push_raw(update) for update in UNKNOWN_KINDS]
    tg.push_update(tg.private_text(CITIZEN, "после непонятного"))
    await tg.wait_sent(1, chat_id=CITIZEN)
    await card_of(tg, 1)
    await tg.wait_for(lambda: not tg.pending_updates())  # every one confirmed
    assert texts_in(tg, CITIZEN)[0].startswith("Ваше сообщение №1")
    assert {r["chat_id"] for r in tg.sent()} == {CITIZEN, STAFF_CHAT}  # no answer to them
    assert tg.confirmed_offset > max(unknown)
    rows = await store_rows(
        tmp_path / "desk.sqlite3", "SELECT source, done, error FROM inbox ORDER BY id"
    )
    assert len(rows) == len(UNKNOWN_KINDS) + 2 and all(done for _, done, _ in rows)
    assert [error for _, _, error in rows] == [
        None, None, None, None,  # the group's message and the kinds nobody handles: taken
        "unknown update kind: some_future_update", "unknown update kind: paid_media_gift",
        "unknown update kind: none", None,
    ]


async def test_staff_talk_is_ignored(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "коллеги, кто сегодня дежурит?"))
    tg.push_update(tg.private_text(CITIZEN, "вопрос"))
    await card_of(tg, 1)
    await tg.wait_sent(1, chat_id=CITIZEN)
    assert len(tg.sent(STAFF_CHAT)) == 1  # just the card, no answer to the talk


async def test_start_greets_without_a_ticket(tg: FakeTelegram, desk: Desk) -> None:
    tg.push_update(tg.private_text(CITIZEN, "/start"))
    await tg.wait_sent(1, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN)[0].startswith("Здравствуйте!")
    assert "круглосуточно" in texts_in(tg, CITIZEN)[0]
    tg.push_update(tg.private_text(CITIZEN, "вопрос"))
    await tg.wait_sent(2, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN)[1].startswith("Ваше сообщение №1")


async def test_comment_in_discussion_group_opens_ticket_and_is_answered_in_thread(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", discussion_chat_id=DISCUSSION_CHAT):
        post = tg.automatic_forward(DISCUSSION_CHAT, "Новость: ремонт моста")
        tg.push_update(post)
        thread = post["message"]["message_id"]
        comment = tg.discussion_comment(
            DISCUSSION_CHAT, CITIZEN, "А когда закончат?", thread_id=thread,
        )
        tg.push_update(comment)
        await tg.wait_sent(1, chat_id=DISCUSSION_CHAT)
        ack = tg.sent(DISCUSSION_CHAT)[0]["message"]
        assert ack["text"].startswith("Комментарию присвоен №1. Ответим здесь до ")
        assert ack["reply_to_message"]["message_id"] == comment["message"]["message_id"]
        card = await card_of(tg, 1)
        assert "комментарий" in card["text"]
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "В июне.", reply_to=card["message_id"]))
        await tg.wait_sent(2, chat_id=DISCUSSION_CHAT)
        answer = tg.sent(DISCUSSION_CHAT)[1]["message"]
        assert answer["text"].endswith("В июне.")
        assert answer["reply_to_message"]["message_id"] == comment["message"]["message_id"]
