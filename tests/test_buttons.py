"""End to end, real aiogram against the fake Bot API: the buttons under cards and notices.

A press is the command its button names, a reply to the message the button is under, from
the presser: it does what the typed command does, and nothing for anyone else.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from handlers.buttons import command_of_press, data_of
from handlers.texts import DEFAULT_LOCALES
from storage.values import Outbound, Platform, Purpose
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.test_e2e_telegram import card_of, texts_in

CITIZEN = 5554001
OPERATOR = 7001
STRANGER = 7999
CARD_BUTTONS = [
    [{"text": "Взять", "callback_data": "do:/take"},
     {"text": "Шаблон", "callback_data": "do:/templates"},
     {"text": "Срок", "callback_data": "do:/interim"}],
    [{"text": "Закрыть", "callback_data": "do:/close"},
     {"text": "Заблокировать", "callback_data": "do:/block"}],
]


def keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = message.get("reply_markup") or {}
    rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
    return rows


def answers(tg: FakeTelegram) -> list[dict[str, Any]]:
    """The answerCallbackQuery calls that succeeded, their parameters."""
    return [r.params for r in tg.calls("answerCallbackQuery")]


async def press(tg: FakeTelegram, user_id: int, data: str, message: dict[str, Any]) -> str:
    """Press a button under `message` in the staff chat; wait until the press is answered."""
    before = len(answers(tg))
    update = tg.callback_query(user_id, data, message=message["message_id"], chat_id=STAFF_CHAT)
    tg.push_update(update)
    await tg.wait_for(lambda: len(answers(tg)) > before)
    query_id: str = update["callback_query"]["id"]
    return query_id


async def ticket_with_card(tg: FakeTelegram) -> dict[str, Any]:
    tg.push_update(tg.private_text(CITIZEN, "Не вывозят мусор во дворе"))
    await tg.wait_sent(1, chat_id=CITIZEN)
    return await card_of(tg, 1)


def staff_texts_after(tg: FakeTelegram, count: int) -> list[str]:
    return texts_in(tg, STAFF_CHAT)[count:]


def test_callback_data_is_parsed_strictly() -> None:
    assert command_of_press("do:/close") == "/close"
    assert command_of_press("do:/interim 5") == "/interim 5"
    assert command_of_press("do:/template 2") == "/template 2"
    assert command_of_press("do:/take") == "/take"
    assert command_of_press("do:/move housing") == "/move housing"
    for forged in ("do:/queue", "do:/close now", "do:/move Дороги", "do:/take 2",
                   "do:Воду дадут", "/close", "do:/interim ５",
                   "do:/template", "x" * 65, "", None, "do:/unblock"):
        assert command_of_press(forged) is None
    with pytest.raises(ValueError):
        data_of("/queue")


def test_buttons_survive_the_outbox() -> None:
    out = Outbound(Platform.TELEGRAM, "-1", Purpose.CARD, "x",
                   buttons=((("Закрыть", "do:/close"),),))
    assert Outbound.from_json(out.to_json()) == out
    plain = Outbound(Platform.TELEGRAM, "-1", Purpose.CARD, "x")
    assert Outbound.from_json(plain.to_json()) == plain
    # Rows written before buttons existed have no such key: read as none.
    older = plain.to_json().replace(',"buttons":[]', "")
    assert "buttons" not in older and Outbound.from_json(older) == plain


async def test_close_pressed_closes_once_and_says_so_again(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", staff_user_ids=[OPERATOR]) as desk:
        card = await ticket_with_card(tg)
        assert keyboard(card) == CARD_BUTTONS
        assert "callback_query" in (tg.allowed_updates or [])
        first = await press(tg, OPERATOR, "do:/close", card)
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].startswith("Работа по сообщению №1 завершена.")
        assert answers(tg)[-1]["callback_query_id"] == first
        assert not answers(tg)[-1].get("show_alert")
        staff = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT) if r["message"]["text"] == "№1 закрыто."
        ])
        assert staff[0]["reply_to_message"]["message_id"] == card["message_id"]
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and not ticket.is_open
        closed_at = ticket.closed_at

        await press(tg, OPERATOR, "do:/close", card)
        await tg.wait_for(lambda: texts_in(tg, STAFF_CHAT).count("№1 закрыто.") == 2)
        assert len(tg.sent(CITIZEN)) == 2
        again = await desk.app.store.ticket(1)
        assert again is not None and again.closed_at == closed_at


async def test_press_by_someone_not_on_the_list_is_refused_with_an_alert(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", staff_user_ids=[OPERATOR]) as desk:
        card = await ticket_with_card(tg)
        staff_before = len(tg.sent(STAFF_CHAT))
        await press(tg, STRANGER, "do:/close", card)
        alert = answers(tg)[-1]
        assert alert["show_alert"] is True and "STAFF_USER_IDS" in alert["text"]
        await press(tg, STRANGER, "do:/block", card)
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and ticket.is_open
        assert len(tg.sent(CITIZEN)) == 1 and len(tg.sent(STAFF_CHAT)) == staff_before
        tg.push_update(tg.private_text(CITIZEN, "Ещё раз про мусор"))
        await tg.wait_for(lambda: any("Ещё раз про мусор" in t for t in texts_in(tg, STAFF_CHAT)))


async def test_forged_callback_data_is_refused_and_changes_nothing(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        card = await ticket_with_card(tg)
        staff_before = len(tg.sent(STAFF_CHAT))
        for forged in ("do:/close now", "do:Ответ жителю", "do:/queue", "close"):
            await press(tg, OPERATOR, forged, card)
            assert answers(tg)[-1]["show_alert"] is True
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and ticket.is_open and ticket.first_answer_at is None
        assert len(tg.sent(CITIZEN)) == 1 and len(tg.sent(STAFF_CHAT)) == staff_before


async def test_deadline_then_five_days_tells_the_citizen(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        card = await ticket_with_card(tg)
        before = len(tg.sent(STAFF_CHAT))
        await press(tg, OPERATOR, "do:/interim", card)
        await tg.wait_sent(before + 1, chat_id=STAFF_CHAT)
        usage = tg.sent(STAFF_CHAT)[before]["message"]
        assert usage["text"].startswith("Чтобы назначить новый срок")
        assert [b["text"] for b in keyboard(usage)[0]] == ["3 дн.", "5 дн.", "7 дн.", "10 дн."]
        assert [b["callback_data"] for b in keyboard(usage)[0]] == [
            "do:/interim 3", "do:/interim 5", "do:/interim 7", "do:/interim 10",
        ]
        await press(tg, OPERATOR, "do:/interim 5", usage)
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].startswith("Работа по сообщению №1 продолжается")
        await tg.wait_for(lambda: any(t.startswith("№1: новый срок") for t in texts_in(
            tg, STAFF_CHAT)))
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and ticket.interim_at is not None


async def test_template_then_two_sends_template_two(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        card = await ticket_with_card(tg)
        before = len(tg.sent(STAFF_CHAT))
        await press(tg, OPERATOR, "do:/templates", card)
        await tg.wait_sent(before + 1, chat_id=STAFF_CHAT)
        listing = tg.sent(STAFF_CHAT)[before]["message"]
        labels = [b["text"] for row in keyboard(listing) for b in row]
        assert labels[:2] == ["1", "2"] and len(labels) == listing["text"].count("\n")
        update = tg.callback_query(
            OPERATOR, "do:/template 2", message=listing["message_id"], chat_id=STAFF_CHAT
        )
        tg.push_update(update)
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert "уточните, пожалуйста, точный адрес" in texts_in(tg, CITIZEN)[1]
        # The same press delivered twice (under another update id): it acts once.
        answered = len(answers(tg))
        tg.push_update(update)
        await tg.wait_for(lambda: len(answers(tg)) > answered)
        await press(tg, OPERATOR, "do:/close", card)  # handled after the one handled twice
        await tg.wait_sent(3, chat_id=CITIZEN)
        assert len(tg.sent(CITIZEN)) == 3
        assert texts_in(tg, CITIZEN)[2].startswith("Работа по сообщению №1 завершена.")


async def test_press_on_a_card_from_before_a_restart_works(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk = Desk(tg.base_url, tmp_path / "d.sqlite3")
    async with desk:
        card = await ticket_with_card(tg)
    # Pressed while the desk was down, and too old to answer by the time it is back.
    update = tg.callback_query(OPERATOR, "do:/block", message=card["message_id"],
                               chat_id=STAFF_CHAT)
    tg.push_update(update)
    tg._callback_queries.discard(update["callback_query"]["id"])
    async with desk:
        refused = await tg.wait_for(lambda: [
            r for r in tg.requests if r.method == "answerCallbackQuery" and r.status == 400
        ])
        assert refused[0].params["callback_query_id"] == update["callback_query"]["id"]
        await tg.wait_for(lambda: any(
            t.startswith("№1: автор заблокирован.") for t in texts_in(tg, STAFF_CHAT)
        ))
        assert desk.app is not None
        async with desk.app.store.transaction() as tx:
            intake = await tx.intake_state("-", Platform.TELEGRAM, str(CITIZEN), str(CITIZEN))
        assert intake.blocked
        # The answer refused did not fail the press: nothing waits to be handled again.
        assert await desk.app.store.pending_inbox("telegram", 10) == []


async def test_a_storm_merged_card_has_no_buttons(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        tg.add_group(STAFF_CHAT, "Операторы")
        for citizen in range(CITIZEN, CITIZEN + 6):
            tg.push_update(tg.private_text(citizen, "вопрос"))
        async with Desk(tg.base_url, tmp_path / "d.sqlite3", pacing=True):
            merged = await tg.wait_for(lambda: next(
                (r["message"] for r in tg.sent(STAFF_CHAT)
                 if "№5 " in r["message"]["text"] and "№6 " in r["message"]["text"]), None,
            ), timeout=20)
            assert keyboard(merged) == []
            for record in tg.sent(STAFF_CHAT):
                message = record["message"]
                named = sum(f"№{n} " in message["text"] for n in range(1, 7))
                # How many go alone before the merging starts depends on the machine's pace.
                assert keyboard(message) == (CARD_BUTTONS if named == 1 else [])


async def test_a_long_card_carries_its_buttons_on_its_last_part(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        tg.push_update(tg.private_text(CITIZEN, " ".join(f"слово{i}" for i in range(700))))
        await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 2)
        first, last = (r["message"] for r in tg.sent(STAFF_CHAT)[:2])
        assert keyboard(first) == [] and keyboard(last) == CARD_BUTTONS
        await press(tg, OPERATOR, "do:/close", last)
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and not ticket.is_open


async def test_a_press_in_another_chat_is_refused(tg: FakeTelegram, tmp_path: Path) -> None:
    other = -1001000000777
    tg.add_group(other, "Соседи")
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        await ticket_with_card(tg)
        talk = tg.group_text(other, OPERATOR, "кнопка?")
        tg.push_update(talk)
        staff_before = len(tg.sent(STAFF_CHAT))
        tg.push_update(tg.callback_query(
            OPERATOR, "do:/close", message=talk["message"]["message_id"], chat_id=other
        ))
        await tg.wait_for(lambda: answers(tg))
        assert answers(tg)[0]["show_alert"] is True
        tg.push_update(tg.callback_query(OPERATOR, "do:/close"))  # no message under it
        await tg.wait_for(lambda: len(answers(tg)) == 2)
        assert not answers(tg)[1].get("show_alert")
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and ticket.is_open
        assert len(tg.sent(STAFF_CHAT)) == staff_before and len(tg.sent(CITIZEN)) == 1


async def test_a_double_tap_on_a_template_sends_it_once(tg: FakeTelegram, tmp_path: Path) -> None:
    """Two presses of «2» under one list (two callback queries): one answer to the citizen."""
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        card = await ticket_with_card(tg)
        before = len(tg.sent(STAFF_CHAT))
        await press(tg, OPERATOR, "do:/templates", card)
        await tg.wait_sent(before + 1, chat_id=STAFF_CHAT)
        listing = tg.sent(STAFF_CHAT)[before]["message"]
        await press(tg, OPERATOR, "do:/template 2", listing)
        await press(tg, OPERATOR, "do:/template 2", listing)
        await press(tg, OPERATOR, "do:/close", card)  # handled after both
        await tg.wait_sent(3, chat_id=CITIZEN)
    said = texts_in(tg, CITIZEN)
    assert len(said) == 3 and "уточните, пожалуйста, точный адрес" in said[1]
    assert said[2].startswith("Работа по сообщению №1 завершена.")


async def test_a_card_whose_buttons_telegram_refuses_goes_without_them(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.fail_next("sendMessage", 400, "Bad Request: BUTTON_DATA_INVALID", chat_id=STAFF_CHAT)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        card = await ticket_with_card(tg)
        assert keyboard(card) == []
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Вывезем завтра.",
                                     reply_to=card["message_id"]))
        await tg.wait_sent(2, chat_id=CITIZEN)  # the card still takes replies


async def test_texts_copied_before_buttons_existed_still_make_cards(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """An operator's LOCALES_DIR from an earlier release: the shipped labels stand in."""
    folder = tmp_path / "texts"
    shutil.copytree(DEFAULT_LOCALES, folder)
    for name in ("buttons.ftl", "interim.ftl", "status.ftl", "canned.ftl", "templates.ftl"):
        for locale in ("ru", "en"):
            (folder / locale / name).unlink()
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", locales_dir=str(folder)):
        card = await ticket_with_card(tg)
    assert keyboard(card) == CARD_BUTTONS


async def test_a_hung_press_answer_does_not_hold_citizens_back(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """answerCallbackQuery hanging: the press still acts, and the next citizen is not kept
    waiting for the whole request timeout (15 s) behind it."""
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        card = await ticket_with_card(tg)
        tg.faults.timeout(methods=["answerCallbackQuery"])
        tg.push_update(tg.callback_query(OPERATOR, "do:/close", message=card["message_id"],
                                         chat_id=STAFF_CHAT))
        tg.push_update(tg.private_text(CITIZEN + 1, "Яма у школы"))
        await tg.wait_sent(2, chat_id=CITIZEN, timeout=8)  # the closing text
        await tg.wait_sent(1, chat_id=CITIZEN + 1, timeout=10)  # well before 15 s
        tg.faults.clear()
    assert texts_in(tg, CITIZEN)[1].startswith("Работа по сообщению №1 завершена.")
