"""Ratings of the answer, the desk's side: against a real SQLite store, without a platform."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers.desk import FrontDesk
from handlers.model import Inbound
from handlers.rating import data_of, is_rating, parse
from handlers.texts import DEFAULT_LOCALES, Texts
from storage import SqliteStore
from storage.values import Channel, Outbound, Platform, Purpose
from tests.conftest import STAFF_CHAT
from tests.test_desk import citizen, outbox, send_all, staff

SUPERVISORS = "-100900"
CARD = "5001"  # the card's id in the staff chat, as send_all numbers the first two rows
ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def press(data: str, user: int = 42, message_id: int = 6000, **kw: object) -> Inbound:
    """A press under the closing message in the citizen's private chat, as an adapter hands
    it over: its data as text, its own key."""
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=str(user),
        author_id=str(user), author_name="Иван Петров", message_id=str(message_id),
        text=data, key=f"telegram:rate:{user}:{message_id}:{data}",
        **kw,  # type: ignore[arg-type]
    )


async def closed_after_answer(
    desk: FrontDesk, store: SqliteStore, answer: str = "Вывезем в среду.", user: int = 42,
    card: str = CARD,
) -> Outbound:
    """A ticket answered and closed by staff; the closing message, the rest delivered."""
    await desk.receive(citizen("Во дворе не вывозят мусор", user=user, message_id=user))
    await send_all(store, first_id=int(card) - 1)
    await desk.receive(staff(answer, card, message_id=int(card) + 100))
    await desk.receive(staff("/close", card, message_id=int(card) + 101))
    rows = [item.outbound for item in await outbox(store)]
    [closing] = [o for o in rows if o.purpose is Purpose.CLOSING]
    await send_all(store, first_id=int(card) + 200)
    return closing


async def ratings(store: SqliteStore) -> list[int]:
    return [score for _, score in await store.ratings_between(*ALL_TIME)]


def test_rating_data_is_parsed_strictly() -> None:
    assert parse("rate:17:4") == (17, 4)
    assert parse(data_of(123456789, 1)) == (123456789, 1)
    assert is_rating("rate:garbage") and not is_rating("do:/close") and not is_rating(None)
    for forged in ("rate:17:6", "rate:17:0", "rate:0:3", "rate:017:3", "rate:x:1",
                   "rate:17:4:5", "rate:17:4 ", " rate:17:4", "rate:17:", "rate::4",
                   "rate:17:４", "do:/close", "", None, "rate:" + "9" * 60 + ":1"):
        assert parse(forged) is None, forged
    with pytest.raises(ValueError):
        data_of(1, 6)


async def test_closing_after_an_answer_asks_for_a_rating_with_five_buttons(
    desk: FrontDesk, store: SqliteStore
) -> None:
    closing = await closed_after_answer(desk, store)
    assert closing.chat_id == "42" and closing.ticket_id == 1
    assert closing.text == (
        "Работа по сообщению №1 завершена. Если вопрос остался, напишите снова.\n\n"
        "Помог ли ответ? Оцените его от 1 до 5."
    )
    assert closing.buttons == ((
        ("1", "rate:1:1"), ("2", "rate:1:2"), ("3", "rate:1:3"), ("4", "rate:1:4"),
        ("5", "rate:1:5"),
    ),)
    assert all(len(data.encode()) <= 64 for _, data in closing.buttons[0])


async def test_a_comment_ticket_closes_without_asking(
    desk: FrontDesk, store: SqliteStore
) -> None:
    comment = replace(citizen("А когда закончат?"), channel=Channel.COMMENT, chat_id="-1002",
                      thread_id="77", reply_to="77")
    await desk.receive(comment)
    await send_all(store)
    await desk.receive(staff("В июне.", CARD))
    await desk.receive(staff("/close", CARD, message_id=901))
    [closing] = [i.outbound for i in await outbox(store) if i.outbound.purpose is Purpose.CLOSING]
    assert closing.channel is Channel.COMMENT and closing.buttons == ()
    assert "Помог ли ответ" not in closing.text


async def test_a_ticket_closed_unanswered_is_not_asked_about(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("реклама"))
    await send_all(store)
    await desk.receive(staff("/close", CARD))
    [closing] = [i.outbound for i in await outbox(store) if i.outbound.purpose is Purpose.CLOSING]
    assert closing.buttons == () and "Помог ли ответ" not in closing.text
    told = await desk.rate(press("rate:1:5"))
    assert told.refused and await ratings(store) == []


async def test_a_press_stores_the_score_and_thanks_without_a_message(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    told = await desk.rate(press("rate:1:4"))
    assert told.text == "Спасибо за оценку!" and not told.refused
    assert await ratings(store) == [4]
    assert await outbox(store) == []  # the adapter answers the press; a 4 tells no one


async def test_a_later_press_changes_the_one_rating_and_a_low_one_tells_supervisors(
    desk: FrontDesk, store: SqliteStore
) -> None:
    desk.premises.config = replace(desk.config, escalation_chat_id=SUPERVISORS)
    await closed_after_answer(desk, store, answer="Вывезем <в среду> & уберём.")
    await desk.rate(press("rate:1:4"))
    told = await desk.rate(press("rate:1:2"))
    assert told.text == "Оценка изменена. Спасибо!" and not told.refused
    assert await ratings(store) == [2]
    [notice] = [i.outbound for i in await outbox(store)]
    assert notice.purpose is Purpose.STAFF_NOTICE and notice.chat_id == SUPERVISORS
    assert notice.ticket_id == 1 and notice.html and notice.reply_to_card
    assert notice.text.startswith("№1: оценка 2 из 5 от Иван Петров.")
    assert "Вывезем &lt;в среду&gt; &amp; уберём." in notice.text  # the answer, escaped


async def test_a_supervisors_reply_to_the_notice_reaches_the_citizen(
    desk: FrontDesk, store: SqliteStore
) -> None:
    desk.premises.config = replace(desk.config, escalation_chat_id=SUPERVISORS)
    await closed_after_answer(desk, store)
    await desk.rate(press("rate:1:1"))
    await send_all(store, first_id=7000)  # the notice is message 7000 in the supervisors' chat
    reply = replace(staff("Разберёмся и перезвоним.", "7000", message_id=7100),
                    chat_id=SUPERVISORS)
    await desk.receive(reply)
    rows = [i.outbound for i in await outbox(store)]
    answers = [o for o in rows if o.purpose is Purpose.ANSWER]
    assert [o.chat_id for o in answers] == ["42"]
    assert answers[0].text.endswith("Разберёмся и перезвоним.")


async def test_without_a_supervisors_chat_the_staff_chat_is_told(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    await desk.rate(press("rate:1:2"))
    [notice] = [i.outbound for i in await outbox(store)]
    assert notice.chat_id == STAFF_CHAT and "№1" in notice.text


async def test_a_double_tap_or_a_second_low_score_tells_no_one_again(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    await desk.rate(press("rate:1:2"))
    await send_all(store, first_id=7000)
    again = await desk.rate(press("rate:1:2"))
    assert again.text == "Спасибо за оценку!" and not again.changed
    lower = await desk.rate(press("rate:1:1"))
    assert lower.changed and await outbox(store) == []
    assert await ratings(store) == [1]


async def test_a_press_on_someone_elses_ticket_stores_nothing(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    await closed_after_answer(desk, store, user=43, card="5501")  # №2, another citizen's
    # Another user in the chat, another citizen naming №1, and №1's citizen naming №2.
    for forged in (press("rate:1:5", user=43), replace(press("rate:1:5"), author_id="43"),
                   replace(press("rate:1:5"), chat_id="43"), press("rate:2:1"),
                   replace(press("rate:1:5"), platform=Platform.VK),
                   replace(press("rate:1:5"), channel=Channel.COMMENT)):
        told = await desk.rate(forged)
        assert told.refused and told.text.startswith("Эта оценка не принята"), forged
    assert await ratings(store) == [] and await outbox(store) == []


async def test_malformed_data_or_an_open_ticket_is_refused(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    await desk.receive(citizen("новый вопрос", message_id=77))  # №2, open
    await send_all(store, first_id=8000)
    for data in ("rate:1:6", "rate:1", "rate:x:4", "rate:99:4", "rate:2:4", "do:/close", ""):
        assert (await desk.rate(press(data))).refused, data
    assert await ratings(store) == []


async def test_a_press_finishes_its_inbox_row_whatever_becomes_of_it(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    await store.put_inbox("telegram", [("k1", "{}"), ("k2", "{}")])
    first, second = await store.pending_inbox("telegram", 10)
    await desk.rate(press("rate:1:5"), first.id)
    await desk.rate(press("rate:1:9"), second.id)
    assert await store.pending_inbox("telegram", 10) == []


async def test_a_press_that_came_as_a_message_is_answered_with_one(
    desk: FrontDesk, store: SqliteStore
) -> None:
    """A VK text button: the press is the citizen's message «4» with the data; no key."""
    await closed_after_answer(desk, store)
    as_message = replace(press("rate:1:4"), key="", message_id="600")
    await desk.rate(as_message)
    [thanks] = [i.outbound for i in await outbox(store)]
    assert (thanks.purpose, thanks.chat_id, thanks.text) == (
        Purpose.NOTICE, "42", "Спасибо за оценку!")
    assert thanks.ticket_id == 1
    await send_all(store, first_id=7000)
    await desk.rate(replace(as_message, message_id="601"))  # the same button again
    assert await outbox(store) == []
    await desk.rate(replace(as_message, text="rate:7:4", message_id="602"))
    [refused] = [i.outbound for i in await outbox(store)]
    assert refused.text.startswith("Эта оценка не принята") and refused.ticket_id is None


async def test_a_blocked_citizens_rating_is_kept_but_makes_no_messages(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await closed_after_answer(desk, store)
    await desk.receive(staff("/block", CARD, message_id=950))
    await send_all(store, first_id=7000)
    await desk.rate(replace(press("rate:1:1"), key=""))
    assert await ratings(store) == [1] and await outbox(store) == []


def test_an_operators_texts_without_the_rating_file_fall_back_to_the_shipped_ones(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "texts"
    shutil.copytree(DEFAULT_LOCALES, folder)
    for locale in ("ru", "en"):
        (folder / locale / "rating.ftl").unlink()
    texts = Texts("ru", folder)
    assert texts.get("rating-question") == "Помог ли ответ? Оцените его от 1 до 5."
    assert Texts("en", folder).get("rating-thanks") == "Thank you for your rating!"
