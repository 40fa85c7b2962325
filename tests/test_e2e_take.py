"""End to end, real aiogram against the fake Bot API: «Взять» and `/take`.

The card's buttons are replaced (editMessageReplyMarkup) to name who holds the ticket; the
holder is stored; a level-1 reminder mentions them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.config import DeskConfig
from handlers.escalation import escalation_message
from handlers.texts import Texts
from storage import Ticket
from storage.values import Channel, Platform
from tests.conftest import MOSCOW
from tests.contract.support import T0
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.test_buttons import CITIZEN, OPERATOR, answers, keyboard, press, ticket_with_card
from tests.test_e2e_telegram import texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

COLLEAGUE = 7002


def take_label(message: dict[str, Any]) -> str:
    label: str = keyboard(message)[0][0]["text"]
    return label


async def edited_card(tg: FakeTelegram, card: dict[str, Any], count: int) -> dict[str, Any]:
    """The card as it stands after its `count`-th edit."""
    await tg.wait_for(lambda: len([
        e for e in tg.edits if e["message_id"] == card["message_id"]
    ]) >= count)
    edit = [e for e in tg.edits if e["message_id"] == card["message_id"]][count - 1]
    return {"reply_markup": edit["reply_markup"]}


async def holder_of(desk: Desk, number: int) -> tuple[str | None, str | None]:
    assert desk.app is not None
    ticket = await desk.app.store.ticket(number)
    assert ticket is not None
    return ticket.holder_id, ticket.holder_name


async def test_take_pressed_names_the_holder_on_the_card(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        card = await ticket_with_card(tg)
        assert take_label(card) == "Взять"
        staff_before = len(tg.sent(STAFF_CHAT))
        tg.push_update(tg.callback_query(OPERATOR, "do:/take", message=card["message_id"],
                                         chat_id=STAFF_CHAT, first_name="Мария"))
        edited = await edited_card(tg, card, 1)
        assert take_label(edited) == "✋ Мария"
        # The rest of the card's buttons stay as they were.
        assert [b["callback_data"] for row in keyboard(edited) for b in row] == [
            "do:/take", "do:/templates", "do:/interim", "do:/close", "do:/block"]
        assert await holder_of(desk, 1) == (str(OPERATOR), "Мария")
        assert len(tg.sent(STAFF_CHAT)) == staff_before  # the card says it; no notice

        # The holder pressing again is told so; nothing changes.
        await press(tg, OPERATOR, "do:/take", card)
        await tg.wait_for(lambda: "№1 уже у вас." in texts_in(tg, STAFF_CHAT))
        assert len(tg.edits) == 1

        # A colleague takes it over: the card names them.
        tg.push_update(tg.callback_query(COLLEAGUE, "do:/take", message=card["message_id"],
                                         chat_id=STAFF_CHAT, first_name="Олег"))
        assert take_label(await edited_card(tg, card, 2)) == "✋ Олег"
        assert await holder_of(desk, 1) == (str(COLLEAGUE), "Олег")


async def test_take_typed_as_a_reply_does_the_same(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        card = await ticket_with_card(tg)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/take", reply_to=card,
                                     first_name="Мария"))
        assert take_label(await edited_card(tg, card, 1)) == "✋ Мария"
        assert await holder_of(desk, 1) == (str(OPERATOR), "Мария")
        # Nothing reached the citizen: a command is not an answer.
        assert len(tg.sent(CITIZEN)) == 1


async def test_take_on_a_deleted_card_says_it_in_words(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        card = await ticket_with_card(tg)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/take", reply_to=card,
                                     first_name="Мария"))
        tg.remove_message(STAFF_CHAT, card["message_id"])
        await tg.wait_for(lambda: "№1 взял(а) Мария." in texts_in(tg, STAFF_CHAT))
        assert tg.edits == []
        assert await holder_of(desk, 1) == (str(OPERATOR), "Мария")


async def test_take_on_a_closed_ticket_is_refused(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        card = await ticket_with_card(tg)
        await press(tg, OPERATOR, "do:/close", card)
        await press(tg, OPERATOR, "do:/take", card)
        await tg.wait_for(lambda: "№1 закрыто — брать нечего." in texts_in(tg, STAFF_CHAT))
        assert await holder_of(desk, 1) == (None, None)
        assert not answers(tg)[-1].get("show_alert")


def _ticket(**fields: Any) -> Ticket:
    base = Ticket(
        id=17, platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id="42",
        conversation="42", citizen_id="42", citizen_name="Иван", citizen_link="",
        thread_id=None, reply_to="1", link="", summary="Нет воды", status="open",
        opened_at=T0, waiting_since=T0, deadline_at=T0 + timedelta(hours=8),
        first_answer_at=None, last_answer_at=None, closed_at=None, escalation_level=0,
        next_escalation_at=T0 + timedelta(hours=8), card_chat_id=str(STAFF_CHAT),
        card_message_id="5", unreachable=None,
    )
    return replace(base, **fields)


def test_a_level_1_reminder_mentions_the_holder() -> None:
    texts = Texts("ru")
    config = DeskConfig(str(STAFF_CHAT), MOSCOW, timedelta(hours=8), duty_mentions="@duty")
    held = _ticket(holder_id="7001", holder_name="Мария <Ива>")
    text = escalation_message(texts, config, held, 1, timedelta(hours=9)).text
    assert 'Взял(а): <a href="tg://user?id=7001">Мария &lt;Ива&gt;</a>' in text
    assert "@duty" in text  # the duty staff are still called
    # Level 2 goes to the supervisors, who do not need the mention.
    assert "tg://user?id=7001" not in escalation_message(
        texts, config, held, 2, timedelta(hours=17)).text
    # Held by an anonymous administrator (the chat itself): the name, no link.
    anonymous = _ticket(holder_id=str(STAFF_CHAT), holder_name="администратор")
    assert "Взял(а): администратор" in escalation_message(
        texts, config, anonymous, 1, timedelta(hours=9)).text
    assert "Взял(а)" not in escalation_message(
        texts, config, _ticket(), 1, timedelta(hours=9)).text
