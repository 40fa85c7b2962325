"""The card a ticket is known by, end to end: after a move, the card posted anew; of a card
sent in parts, the last part, which carries the buttons. Take, follow-ups and a second move
act on that one; a takeover is said in words.

The real application and aiogram against the fake Bot API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT
from tests.test_e2e_departments import (
    CITIZEN,
    DOCTOR,
    HEALTH_CHAT,
    OPERATOR,
    card_in,
    desk_with_departments,
)
from tests.test_e2e_telegram import texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

LONG = "Спасибо за ёлку " + "и за праздник " * 400  # a card Telegram takes in two parts


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы", is_forum=True)
        fake.add_group(HEALTH_CHAT, "Здравоохранение")
        yield fake


def first_button(tg: FakeTelegram, chat_id: int, message_id: int) -> str | None:
    message = tg.message(chat_id, message_id)
    assert message is not None
    markup = message.get("reply_markup")
    return markup["inline_keyboard"][0][0]["text"] if markup else None


async def parts_of_long_card(tg: FakeTelegram) -> list[dict[str, Any]]:
    tg.push_update(tg.private_text(CITIZEN + 5, LONG))
    def parts() -> list[dict[str, Any]]:
        found = [r["message"] for r in tg.sent(STAFF_CHAT)
                 if "и за праздник" in (r["message"].get("text") or "")]
        return found if found and found[-1].get("reply_markup") else []
    found: list[dict[str, Any]] = await tg.wait_for(parts)
    assert len(found) == 2
    return found


async def test_take_on_a_moved_card_edits_the_moved_card(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, _ = await desk_with_departments(tg, tmp_path)
    try:
        tg.push_update(tg.private_text(CITIZEN, "Не топят, а у ребёнка температура"))
        card = await card_in(tg, STAFF_CHAT, 1)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/move health", reply_to=card))
        moved = await card_in(tg, HEALTH_CHAT, 1)
        await tg.wait_for(lambda: [e for e in tg.edits if e["message_id"] == card["message_id"]])
        tg.push_update(tg.callback_query(DOCTOR, "do:/take", message=moved["message_id"],
                                         chat_id=HEALTH_CHAT, first_name="Анна"))
        await tg.wait_for(lambda: first_button(tg, HEALTH_CHAT, moved["message_id"]) == "✋ Анна")
        assert first_button(tg, STAFF_CHAT, card["message_id"]) is None  # still without buttons
    finally:
        await desk.stop()


async def test_after_a_move_back_follow_ups_go_under_the_new_card(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await desk_with_departments(tg, tmp_path)
    try:
        tg.push_update(tg.private_text(CITIZEN, "Не топят, а у ребёнка температура"))
        card = await card_in(tg, STAFF_CHAT, 1)
        assert card.get("message_thread_id") == topic
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/move -", reply_to=card))
        [new] = await tg.wait_for(lambda: [r["message"] for r in tg.sent(STAFF_CHAT)
                                           if "передано из" in (r["message"].get("text") or "")])
        assert new.get("message_thread_id") is None
        tg.push_update(tg.private_text(CITIZEN, "Уже и в подъезде холодно"))
        [follow_up] = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "в подъезде холодно" in (r["message"].get("text") or "")])
        assert follow_up.get("message_thread_id") is None
        assert follow_up["reply_to_message"]["message_id"] == new["message_id"]
    finally:
        await desk.stop()


async def test_take_on_a_card_in_parts_edits_the_part_with_the_buttons(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, _ = await desk_with_departments(tg, tmp_path)
    try:
        first, last = await parts_of_long_card(tg)
        tg.push_update(tg.callback_query(OPERATOR, "do:/take", message=last["message_id"],
                                         chat_id=STAFF_CHAT, first_name="Анна"))
        await tg.wait_for(lambda: first_button(tg, STAFF_CHAT, last["message_id"]) == "✋ Анна")
        assert first_button(tg, STAFF_CHAT, first["message_id"]) is None
    finally:
        await desk.stop()


async def test_a_move_takes_the_buttons_off_a_card_in_parts(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, _ = await desk_with_departments(tg, tmp_path)
    try:
        _, last = await parts_of_long_card(tg)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/move health", reply_to=last))
        await card_in(tg, HEALTH_CHAT, 1)
        await tg.wait_for(lambda: first_button(tg, STAFF_CHAT, last["message_id"]) is None)
    finally:
        await desk.stop()


async def test_a_takeover_says_from_whom(tg: FakeTelegram, tmp_path: Path) -> None:
    desk, _ = await desk_with_departments(tg, tmp_path)
    try:
        tg.push_update(tg.private_text(CITIZEN, "Спасибо за ёлку"))
        card = await card_in(tg, STAFF_CHAT, 1)
        tg.push_update(tg.callback_query(OPERATOR, "do:/take", message=card["message_id"],
                                         chat_id=STAFF_CHAT, first_name="Мария"))
        await tg.wait_for(lambda: first_button(tg, STAFF_CHAT, card["message_id"]) == "✋ Мария")
        assert not [t for t in texts_in(tg, STAFF_CHAT) if "взял(а)" in t]  # the card says it
        tg.push_update(tg.callback_query(DOCTOR, "do:/take", message=card["message_id"],
                                         chat_id=STAFF_CHAT, first_name="Олег"))
        await tg.wait_for(lambda: first_button(tg, STAFF_CHAT, card["message_id"]) == "✋ Олег")
        await tg.wait_for(lambda: "№1 взял(а) Олег (было у: Мария)." in texts_in(tg, STAFF_CHAT))
    finally:
        await desk.stop()
