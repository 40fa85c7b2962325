"""Ratings end to end: the real application, aiogram and vkbottle, against the local fakes.

A ticket answered and closed by staff asks the citizen «Помог ли ответ?» with «1» … «5»; a
press is their one rating of it, a low one goes to the supervisors, and a press that is not
theirs changes nothing. Under public comments nothing is asked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.files import FileUnavailable
from bot.vk.client import make_api
from bot.vk.delivery import VKDelivery
from bot.vk.keyboard import keyboard_of
from handlers.rating import buttons as rating_buttons
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import DISCUSSION_CHAT, STAFF_CHAT, Desk
from tests.test_e2e_telegram import card_of, texts_in
from tests.test_e2e_vk import polling, staff_reply
from tests.test_intake_faults import QUICK, FaultDesk, LockedOnce

SUPERVISORS = -1001000000009
CITIZEN = 5553001
NEIGHBOUR = 5553002
OPERATOR = 7001
VK_CITIZEN = 1001
VK_NEIGHBOUR = 1002
ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
CLOSING = "Работа по сообщению №{n} завершена. Если вопрос остался, напишите снова."
QUESTION = "Помог ли ответ? Оцените его от 1 до 5."


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        fake.add_group(SUPERVISORS, "Руководители")
        fake.add_group(DISCUSSION_CHAT, "Обсуждение канала")
        yield fake


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Анна", "Иванова")
        fake.add_user(VK_NEIGHBOUR, "Пётр", "Сидоров")
        yield fake


@pytest.fixture
def vk_desk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Desk]:
    monkeypatch.chdir(tmp_path)  # nothing of VK's may land in the working directory

    def make(**overrides: Any) -> Desk:
        return Desk(tg.base_url, tmp_path / "desk.sqlite3", vk_token=vk.token,
                    vk_group_id=vk.group_id, vk_api_url=vk.api_url,
                    escalation_chat_id=SUPERVISORS, **overrides)
    return make


def answers(tg: FakeTelegram) -> list[dict[str, Any]]:
    """The answerCallbackQuery calls that succeeded, their parameters."""
    return [r.params for r in tg.calls("answerCallbackQuery") if r.status == 200]


def buttons(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [[(b["text"], b["callback_data"]) for b in row] for row in rows]


async def scores(desk: Desk) -> list[int]:
    assert desk.app is not None
    return [score for _, score in await desk.app.store.ratings_between(*ALL_TIME)]


async def closed_on_telegram(tg: FakeTelegram, citizen: int, number: int) -> dict[str, Any]:
    """The citizen writes, staff answer and /close the card: the closing message."""
    tg.push_update(tg.private_text(citizen, "Не вывозят мусор во дворе", first_name="Анна"))
    card = await card_of(tg, number)
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Вывезем в среду <утром>.",
                                 reply_to=card["message_id"]))
    await tg.wait_sent(2, chat_id=citizen)
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/close", reply_to=card["message_id"]))
    sent = await tg.wait_sent(3, chat_id=citizen)
    closing: dict[str, Any] = sent[2]["message"]
    return closing


async def press(
    tg: FakeTelegram, user: int, data: str, message: dict[str, Any], chat: int
) -> dict[str, Any]:
    """Press a button under `message` in `chat`; the answer to the press, once it came."""
    before = len(answers(tg))
    tg.push_update(tg.callback_query(user, data, message=message["message_id"], chat_id=chat))
    await tg.wait_for(lambda: len(answers(tg)) > before)
    return answers(tg)[-1]


def rating_notices(tg: FakeTelegram) -> list[str]:
    return [t for t in texts_in(tg, SUPERVISORS) if "из 5 от" in t]


async def test_telegram_rating_is_stored_changed_and_a_low_one_reaches_supervisors(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", escalation_chat_id=SUPERVISORS) as desk:
        closing = await closed_on_telegram(tg, CITIZEN, 1)
        assert closing["text"] == f"{CLOSING.format(n=1)}\n\n{QUESTION}"
        assert buttons(closing) == [[(str(n), f"rate:1:{n}") for n in range(1, 6)]]

        thanks = await press(tg, CITIZEN, "rate:1:4", closing, CITIZEN)
        assert thanks["text"] == "Спасибо за оценку!" and not thanks.get("show_alert")
        assert await scores(desk) == [4]
        assert rating_notices(tg) == []

        changed = await press(tg, CITIZEN, "rate:1:2", closing, CITIZEN)
        assert changed["text"] == "Оценка изменена. Спасибо!"
        assert await scores(desk) == [2]  # one rating, changed
        await tg.wait_for(lambda: rating_notices(tg))
        [notice] = rating_notices(tg)
        assert notice.startswith("№1: оценка 2 из 5 от Анна.")
        assert "Вывезем в среду <утром>." in notice  # the answer given, shown as written

        await press(tg, CITIZEN, "rate:1:2", closing, CITIZEN)  # a double tap
        # Handled after it: a citizen's new message, so the tap had its chance to notify.
        tg.push_update(tg.private_text(CITIZEN, "Спасибо, вывезли"))
        await tg.wait_sent(4, chat_id=CITIZEN)
        assert len(rating_notices(tg)) == 1 and await scores(desk) == [2]
        # Nothing but the toasts: no chat message answered any press.
        assert texts_in(tg, CITIZEN)[3].startswith("Ваше сообщение №2 получено.")


async def test_a_supervisors_reply_to_the_low_rating_reaches_the_citizen(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", escalation_chat_id=SUPERVISORS):
        closing = await closed_on_telegram(tg, CITIZEN, 1)
        await press(tg, CITIZEN, "rate:1:1", closing, CITIZEN)
        await tg.wait_for(lambda: rating_notices(tg))
        [record] = [r for r in tg.sent(SUPERVISORS) if "из 5 от" in r["message"]["text"]]
        tg.push_update(tg.group_text(SUPERVISORS, OPERATOR, "Приедем сегодня до 18:00.",
                                     reply_to=record["message"]["message_id"]))
        await tg.wait_sent(4, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[3].endswith("Приедем сегодня до 18:00.")


async def test_forged_telegram_presses_are_refused_and_store_nothing(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", escalation_chat_id=SUPERVISORS) as desk:
        closing = await closed_on_telegram(tg, CITIZEN, 1)
        theirs = await closed_on_telegram(tg, NEIGHBOUR, 2)
        # Another user under the citizen's message; the neighbour naming the citizen's №1
        # under their own; data the desk never made.
        for user, data, message, chat in (
            (NEIGHBOUR, "rate:1:1", closing, CITIZEN),
            (NEIGHBOUR, "rate:1:1", theirs, NEIGHBOUR),
            (CITIZEN, "rate:1:9", closing, CITIZEN),
            (CITIZEN, "rate:1:", closing, CITIZEN),
            (CITIZEN, "do:/close", closing, CITIZEN),
        ):
            refused = await press(tg, user, data, message, chat)
            assert refused["show_alert"] is True, data
            assert refused["text"].startswith("Эта оценка не принята"), data
        assert await scores(desk) == []
        assert rating_notices(tg) == []
        # Nothing of it became a ticket or a message, and the desk goes on.
        assert len(tg.sent(CITIZEN)) == 3 and len(tg.sent(NEIGHBOUR)) == 3
        tg.push_update(tg.private_text(CITIZEN, "ещё вопрос"))
        await tg.wait_sent(4, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[3].startswith("Ваше сообщение №3 получено.")


async def test_a_press_from_before_a_restart_is_still_stored(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk = Desk(tg.base_url, tmp_path / "d.sqlite3")
    async with desk:
        closing = await closed_on_telegram(tg, CITIZEN, 1)
    # Pressed while the desk was down, too old to answer by the time it is back.
    update = tg.callback_query(CITIZEN, "rate:1:5", message=closing["message_id"])
    tg.push_update(update)
    tg._callback_queries.discard(update["callback_query"]["id"])
    async with desk:
        await tg.wait_for(lambda: [
            r for r in tg.requests if r.method == "answerCallbackQuery" and r.status == 400
        ])
        assert await scores(desk) == [5]
        assert desk.app is not None
        assert await desk.app.store.pending_inbox("telegram", 10) == []


async def test_a_comment_ticket_closes_without_rating_buttons(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", discussion_chat_id=DISCUSSION_CHAT):
        post = tg.automatic_forward(DISCUSSION_CHAT, "Новость: ремонт моста")
        tg.push_update(post)
        tg.push_update(tg.discussion_comment(
            DISCUSSION_CHAT, CITIZEN, "А когда закончат?",
            thread_id=post["message"]["message_id"],
        ))
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "В июне.", reply_to=card["message_id"]))
        await tg.wait_sent(2, chat_id=DISCUSSION_CHAT)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/close", reply_to=card["message_id"]))
        sent = await tg.wait_sent(3, chat_id=DISCUSSION_CHAT)
    closing = sent[2]["message"]
    assert closing["text"] == CLOSING.format(n=1)
    assert buttons(closing) == []


# VK


async def closed_on_vk(tg: FakeTelegram, vk: FakeVK, number: int = 1) -> dict[str, Any]:
    """A VK citizen writes, staff answer and /close: the closing message as VK recorded it."""
    vk.message_new(VK_CITIZEN, "Не горит фонарь у дома 5")
    card = await card_of(tg, number)
    await staff_reply(tg, card, "Заменим лампу завтра.")
    await vk.wait_messages(2, peer_id=VK_CITIZEN)
    await staff_reply(tg, card, "/close")
    closing: dict[str, Any] = (await vk.wait_messages(3, peer_id=VK_CITIZEN))[2]
    return closing


def vk_buttons(message: dict[str, Any]) -> list[tuple[str, str, Any]]:
    keyboard = json.loads(message["keyboard"])
    assert keyboard["inline"] is True
    return [(b["action"]["type"], b["action"]["label"], json.loads(b["action"]["payload"]))
            for row in keyboard["buttons"] for b in row]


def vk_texts(vk: FakeVK, peer: int) -> list[str]:
    return [m["message"] for m in vk.sent_messages(peer)]


async def test_vk_rating_by_keyboard_is_stored_and_thanked_in_a_reply(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk() as desk:
        await polling(vk)
        closing = await closed_on_vk(tg, vk)
        assert closing["message"] == f"{CLOSING.format(n=1)}\n\n{QUESTION}"
        assert vk_buttons(closing) == [
            ("text", str(n), {"button": f"rate:1:{n}"}) for n in range(1, 6)
        ]
        assert closing["random_id"] != 0

        vk.press_button(closing, "4")
        await vk.wait_messages(4, peer_id=VK_CITIZEN)
        assert vk_texts(vk, VK_CITIZEN)[3] == "Спасибо за оценку!"
        assert await scores(desk) == [4]

        vk.press_button(closing, "2")
        await vk.wait_messages(5, peer_id=VK_CITIZEN)
        assert vk_texts(vk, VK_CITIZEN)[4] == "Оценка изменена. Спасибо!"
        await tg.wait_for(lambda: rating_notices(tg))
        [notice] = rating_notices(tg)
        assert notice.startswith("№1: оценка 2 из 5 от Анна Иванова.")
        assert "Заменим лампу завтра." in notice
        assert await scores(desk) == [2]

        vk.press_button(closing, "2")  # a double tap: no second reply, no second notice
        vk.message_new(VK_CITIZEN, "5")  # typed, not pressed: a message like any other
        await card_of(tg, 2)
        assert len(rating_notices(tg)) == 1 and await scores(desk) == [2]
        assert vk_texts(vk, VK_CITIZEN)[5].startswith("Ваше сообщение №2 получено.")


async def test_forged_vk_press_and_foreign_payload_store_nothing(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk() as desk:
        await polling(vk)
        await closed_on_vk(tg, vk)
        # The neighbour sends the citizen's button data from their own dialog.
        vk.message_new(VK_NEIGHBOUR, "1", payload='{"button":"rate:1:1"}')
        [refused] = await vk.wait_messages(1, peer_id=VK_NEIGHBOUR)
        assert refused["message"].startswith("Эта оценка не принята")
        # A payload that is not the desk's: the message is an ordinary one, a ticket.
        vk.message_new(VK_NEIGHBOUR, "Где автобус?", payload='{"action":"bus"}')
        card = await card_of(tg, 2)
        assert "Где автобус?" in card["text"]
        assert await scores(desk) == [] and rating_notices(tg) == []


async def test_vk_callback_button_press_is_answered_with_a_snackbar(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk() as desk:
        await polling(vk)
        closing = await closed_on_vk(tg, vk)
        vk.message_event(VK_CITIZEN, {"button": "rate:1:5"},
                         conversation_message_id=closing["conversation_message_id"])
        await vk.wait_for(lambda: bool(vk.event_answers))
        [answer] = vk.event_answers
        assert answer["event_data"] == {"type": "show_snackbar", "text": "Спасибо за оценку!"}
        assert (answer["user_id"], answer["peer_id"]) == (VK_CITIZEN, VK_CITIZEN)
        assert await scores(desk) == [5]
        vk.message_event(VK_NEIGHBOUR, {"button": "rate:1:1"})
        await vk.wait_for(lambda: len(vk.event_answers) == 2)
        assert vk.event_answers[1]["event_data"]["text"].startswith("Эта оценка не принята")
        assert await scores(desk) == [5]
        assert len(vk.sent_messages(VK_CITIZEN)) == 3  # a snackbar, not a message


async def test_vk_keyboard_refused_sends_the_closing_message_without_it(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    vk.set_bot_features(False)  # the community's bot features are off: 912
    async with vk_desk():
        await polling(vk)
        closing = await closed_on_vk(tg, vk)
    # Without the buttons, no question: a typed «5» would be a new message, not a rating.
    assert closing["message"] == CLOSING.format(n=1)
    assert closing["keyboard"] is None
    refused = [c for c in vk.calls("messages.send") if c.error_code == 912]
    assert len(refused) == 1 and "keyboard" in refused[0].params
    assert refused[0].params["random_id"] == str(closing["random_id"])
    assert len(vk.sent_messages(VK_CITIZEN)) == 3  # once, and nothing else


async def test_a_vk_wall_comment_ticket_closes_without_a_keyboard(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk():
        await polling(vk)
        post = vk.add_post("Ремонт дороги на улице Ленина")
        vk.wall_reply_new(post, VK_CITIZEN, "А когда закончат?")
        card = await card_of(tg, 1)
        await staff_reply(tg, card, "В июне.")
        await vk.wait_comments(2)
        await staff_reply(tg, card, "/close")
        comments = await vk.wait_comments(3)
    assert comments[2]["text"] == CLOSING.format(n=1)
    created = vk.calls("wall.createComment")
    assert created and not any("keyboard" in c.params for c in created)


# VK delivery of a keyboard, against the fake VK API directly


@pytest.fixture
async def delivery(vk: FakeVK, store: SqliteStore, texts: Texts) -> AsyncIterator[VKDelivery]:
    api, http = make_api(vk.token, vk.api_url)

    async def fetch(file_id: str) -> bytes:
        raise FileUnavailable(file_id)

    yield VKDelivery(api, store, vk.group_id, fetch, texts)
    await http.close()


def closing_row(text: str = "Работа завершена.\n\nПомог ли ответ?") -> Outbound:
    return Outbound(Platform.VK, str(VK_CITIZEN), Purpose.CLOSING, text, ticket_id=1,
                    buttons=rating_buttons(1))


async def test_a_keyboard_vk_finds_malformed_is_dropped_and_the_text_still_goes(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    row = replace(closing_row(), buttons=((("", "rate:1:1"),),))  # VK needs a label: 911
    result = await delivery.deliver(row, 5)
    [sent] = vk.sent_messages(VK_CITIZEN)
    assert result.ok and sent["keyboard"] is None
    assert sent["message"] == row.text.rsplit("\n\n", 1)[0]  # the question goes with them
    [refused] = [c for c in vk.calls("messages.send") if c.error_code == 911]
    assert refused.params["random_id"] == str(sent["random_id"])


async def test_a_row_with_a_keyboard_sent_twice_or_after_a_lost_answer_arrives_once(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    vk.faults.timeout(2.0, method="messages.send", process=True)  # sent; the answer lost
    lost = await delivery.deliver(closing_row(), 6)
    assert not lost.ok and not lost.permanent
    vk.faults.clear()
    first = await delivery.deliver(closing_row(), 6)
    again = await delivery.deliver(closing_row(), 6)
    assert first.ok and again.ok and first.message_ids == again.message_ids
    [sent] = vk.sent_messages(VK_CITIZEN)
    assert [b[1] for b in vk_buttons(sent)] == ["1", "2", "3", "4", "5"]


async def test_a_long_text_carries_its_keyboard_on_its_last_part(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    result = await delivery.deliver(closing_row("слово " * 1500), 7)  # 9,000 characters
    sent = vk.sent_messages(VK_CITIZEN)
    assert result.ok and len(sent) == 3
    assert [m["keyboard"] is not None for m in sent] == [False, False, True]


def test_buttons_beyond_vk_limits_make_no_keyboard() -> None:
    assert keyboard_of(replace(closing_row(), buttons=())) is None
    eleven = tuple(((str(n), f"rate:1:{n % 5 + 1}"),) for n in range(6)) + (
        tuple((str(n), "rate:1:1") for n in range(5)),)
    assert keyboard_of(replace(closing_row(), buttons=eleven)) is None  # 7 rows, 11 buttons
    long_label = ((("x" * 41, "rate:1:1"),),)
    assert keyboard_of(replace(closing_row(), buttons=long_label)) is None
    assert json.loads(keyboard_of(closing_row()) or "{}")["inline"] is True


async def test_a_press_meeting_a_locked_store_is_stored_and_thanked_on_the_next_try(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    store = LockedOnce(tmp_path / "d.sqlite3", times=0)
    async with FaultDesk(tg.base_url, tmp_path / "d.sqlite3", store=lambda _: store,
                         delays=QUICK) as desk:
        closing = await closed_on_telegram(tg, CITIZEN, 1)
        store.times = 1  # the press's transaction meets "database is locked"
        thanks = await press(tg, CITIZEN, "rate:1:3", closing, CITIZEN)
        assert thanks["text"] == "Спасибо за оценку!" and store.times == 0
        assert await scores(desk) == [3]
        assert len(answers(tg)) == 1  # one answer: the try that stored it
