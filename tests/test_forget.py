"""A citizen's own request to remove their data, end to end: `/forget` on Telegram through
the real aiogram loop, «удалить мои данные» on VK through the real vkbottle loop, against
the local fakes. Confirmed by the button: closed tickets anonymized at once, an open one when
staff close it, the citizen told, staff told the numbers without the citizen's name; a second
press, an old button and a citizen without tickets each end politely.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.desk import FrontDesk
from handlers.forget import asks_forget, data_of
from handlers.model import Inbound
from storage import SqliteStore, Store
from storage.values import Platform, Purpose
from tests.conftest import STAFF_CHAT as TC_STAFF_CHAT
from tests.conftest import FixedClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT, Desk
from tests.test_audit import card as card_message
from tests.test_audit import citizen as tc_citizen
from tests.test_audit import staff as tc_staff
from tests.test_e2e_rating import buttons, closed_on_telegram, press, vk_buttons, vk_texts
from tests.test_e2e_telegram import card_of, texts_in
from tests.test_e2e_vk import polling, staff_reply
from tests.test_escalation import deliver
from tests.test_retention import everything

# The end-to-end runs on both stores: their SQLite file, and a schema of their own on
# PostgreSQL.
either_store = pytest.mark.usefixtures("either_store")

CITIZEN = 5554001
VK_CITIZEN = 1001
OPERATOR = 7001
NAME = "Анна"  # closed_on_telegram's citizen
SECRET = "Второй вопрос: квартира 17, код 4242"


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Ульяна", "Тайнова")
        yield fake


def test_the_request_is_the_whole_message_in_any_case_and_spacing() -> None:
    assert asks_forget("/forget") and asks_forget("/forget@frontdesk_bot")
    assert asks_forget("  Удалить   МОИ данные ") and asks_forget("удалить\nмои данные")
    assert not asks_forget("удалить мои данные о долге") and not asks_forget("/forget me")


async def store_of(desk: Desk) -> Store:
    assert desk.app is not None
    return desk.app.store


@either_store
async def test_telegram_forget_anonymizes_closed_now_and_open_when_closed(
    tg: FakeTelegram, tmp_path: Path,
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        store = await store_of(desk)
        await closed_on_telegram(tg, CITIZEN, 1)
        tg.push_update(tg.private_text(CITIZEN, SECRET))
        second = await card_of(tg, 2)
        tg.push_update(tg.private_text(CITIZEN, "/forget"))
        offer = (await tg.wait_sent(5, chat_id=CITIZEN))[4]["message"]
        assert "№1, №2" in offer["text"] and "Чтобы подтвердить" in offer["text"]
        [[(label, data)]] = buttons(offer)
        assert label == "Подтверждаю удаление" and data.startswith("forget:")

        toast = await press(tg, CITIZEN, data, offer, CITIZEN)

        assert toast["text"] == "Данные удалены" and not toast.get("show_alert")
        done = (await tg.wait_sent(6, chat_id=CITIZEN))[5]["message"]["text"]
        assert done.startswith("Готово: ваши персональные данные удалены из сообщений №1.")
        assert "Из сообщений №2 они будут удалены" in done
        notice = await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                            if t.startswith("Житель попросил")])
        assert notice[0].splitlines()[1:] == [
            "Обезличены: №1.", "Будут обезличены после закрытия: №2."]
        assert NAME not in notice[0] and str(CITIZEN) not in notice[0]
        first = await store.ticket(1)
        assert first is not None and (first.citizen_id, first.citizen_name) == ("", "")
        assert {m.text for m in await store.messages(1)} == {""}
        still = await store.ticket(2)
        assert still is not None and still.citizen_name  # open: kept until closed

        # A second press of the same button: nothing more, politely.
        again = await press(tg, CITIZEN, data, offer, CITIZEN)
        assert again["text"].startswith("Ваши данные уже удалены")

        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/close",
                                     reply_to=second["message_id"]))
        closing = (await tg.wait_sent(7, chat_id=CITIZEN))[6]["message"]
        assert closing["text"].startswith("Работа по сообщению №2 завершена.")
        assert buttons(closing) == []  # no rating asked of a ticket without its citizen
        await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                   if "Данные №2 обезличены по просьбе жителя" in t])
        closed = await store.ticket(2)
        assert closed is not None and (closed.citizen_id, closed.summary) == ("", "")
        await tg.wait_for(lambda: not tg.pending_updates())
        dump = await everything(store)
        for word in (SECRET, "Не вывозят мусор", f"tg://user?id={CITIZEN}"):
            assert word not in dump, word


@either_store
async def test_an_old_button_and_a_citizen_without_tickets_end_politely(
    tg: FakeTelegram, tmp_path: Path,
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        tg.push_update(tg.private_text(CITIZEN, "/forget"))
        nothing = (await tg.wait_sent(1, chat_id=CITIZEN))[0]["message"]
        assert nothing["text"].startswith("У нас нет ваших сообщений с персональными данными")
        assert buttons(nothing) == []

        await closed_on_telegram(tg, CITIZEN, 1)
        old = data_of(datetime.now(UTC) - timedelta(days=2))
        message = (await tg.wait_sent(4, chat_id=CITIZEN))[3]["message"]
        refused = await press(tg, CITIZEN, old, message, CITIZEN)
        assert refused["show_alert"] is True and refused["text"].startswith("Эта кнопка устарела")
        forged = await press(tg, CITIZEN, "forget:abc", message, CITIZEN)
        assert forged["show_alert"] is True
        assert len(tg.sent(CITIZEN)) == 4  # the alerts said it: no message more
        first = await (await store_of(desk)).ticket(1)
        assert first is not None and first.citizen_name == NAME  # nothing removed


@pytest.fixture
def vk_desk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Desk]:
    monkeypatch.chdir(tmp_path)  # nothing of VK's may land in the working directory

    def make(**overrides: Any) -> Desk:
        return Desk(tg.base_url, tmp_path / "desk.sqlite3", vk_token=vk.token,
                    vk_group_id=vk.group_id, vk_api_url=vk.api_url, **overrides)
    return make


@either_store
async def test_vk_forget_by_words_and_keyboard_button(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk() as desk:
        await polling(vk)
        store = await store_of(desk)
        vk.message_new(VK_CITIZEN, "Не горит фонарь у дома 5, Ульяна")
        card = await card_of(tg, 1)
        await staff_reply(tg, card, "Заменим лампу завтра.")
        await vk.wait_messages(2, peer_id=VK_CITIZEN)
        await staff_reply(tg, card, "/close")
        await vk.wait_messages(3, peer_id=VK_CITIZEN)

        vk.message_new(VK_CITIZEN, "  Удалить мои   ДАННЫЕ ")
        offer = (await vk.wait_messages(4, peer_id=VK_CITIZEN))[3]
        assert "№1" in offer["message"]
        [(kind, label, payload)] = vk_buttons(offer)
        assert kind == "text" and payload["button"].startswith("forget:")

        vk.press_button(offer, label)

        await vk.wait_messages(5, peer_id=VK_CITIZEN)
        assert vk_texts(vk, VK_CITIZEN)[4].startswith("Готово: ваши персональные данные "
                                                      "удалены из сообщений №1.")
        notice = await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                            if t.startswith("Житель попросил")])
        assert "Обезличены: №1." in notice[0] and "Ульяна" not in notice[0]
        ticket = await store.ticket(1)
        assert ticket is not None and (ticket.citizen_id, ticket.citizen_name) == ("", "")
        dump = await everything(store)
        for word in ("Не горит фонарь", "Тайнова", f"vk.com/id{VK_CITIZEN}\""):
            assert word not in dump, word
        # The label pressed again (payload and all) is a second press: told, nothing more.
        vk.press_button(offer, label)
        await vk.wait_messages(6, peer_id=VK_CITIZEN)
        assert vk_texts(vk, VK_CITIZEN)[5].startswith("Ваши данные уже удалены")
        assert json.loads(offer["keyboard"])["inline"] is True


# The desk's own rooms on the SQLite store with a fixed clock: what staff and the citizen
# meet once the data is gone.

def press_of(text: str, *, user: int = 42, chat: int | None = None) -> Inbound:
    """A press of the offer's button in the citizen's private chat (or in `chat`)."""
    return replace(tc_citizen(text, user=user), chat_id=str(chat if chat else user),
                   key=f"telegram:press:{chat or user}:77:{text}")


async def closed_and_forgotten(front: FrontDesk, store: SqliteStore, clock: FixedClock) -> str:
    """Ticket №1 answered, closed, and forgotten at its citizen's request: its card's id."""
    await front.receive(tc_citizen("Яма у подъезда, кв. 17"))
    await deliver(store)
    card = await card_message(store, 1)
    await front.receive(tc_staff("Засыплем до пятницы.", card, 901))
    await front.receive(tc_staff("/close", card, 902))
    await deliver(store)
    told = await front.forgetting.confirm(press_of(data_of(clock.moment)))
    assert not told.refused and told.changed
    await deliver(store)
    return card


async def test_an_answer_to_a_forgotten_ticket_is_refused_and_nothing_is_kept(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    card = await closed_and_forgotten(desk, store, clock)
    before = await store.ticket(1)
    entries = await store.audit_of_ticket(1)

    await desk.receive(tc_staff("Анна, кв. 17: ещё раз о яме", card, 903))
    await desk.receive(tc_staff("/template 1", card, 904))
    await desk.receive(tc_staff("/block", card, 905))

    sent = await deliver(store)
    # Nothing goes to a chat that is no longer known; staff are told why, under their message.
    assert all(o.purpose is Purpose.STAFF_NOTICE and o.chat_id == TC_STAFF_CHAT for o in sent)
    assert [o.reply_to for o in sent] == ["903", "904", "905"]
    assert all("№1" in o.text and "удалены" in o.text for o in sent)
    assert await store.ticket(1) == before  # no new answer time, nothing stored
    assert {m.text for m in await store.messages(1)} == {""}
    assert await store.audit_of_ticket(1) == entries  # nothing was done
    dump = await everything(store)
    assert "кв. 17" not in dump
    async with store.transaction() as tx:
        assert not (await tx.intake_state("x", Platform.TELEGRAM, "", "")).blocked


async def test_a_blocked_citizen_may_still_ask_to_be_forgotten(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    await desk.receive(tc_citizen("Яма у подъезда"))
    await deliver(store)
    await desk.receive(tc_staff("/block", await card_message(store, 1), 901))
    await deliver(store)

    await desk.forgetting.offer(tc_citizen("/forget", message_id=2))

    [offer] = [o for o in await deliver(store) if o.chat_id == "42"]
    assert "№1" in offer.text and offer.buttons
    assert "останется только в списке заблокированных" in offer.text


async def test_told_which_open_numbers_follow_when_none_is_closed(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    await desk.receive(tc_citizen("Яма у подъезда"))
    await deliver(store)

    told = await desk.forgetting.confirm(press_of(data_of(clock.moment)))

    assert "№1" in told.text, told.text


async def test_a_press_outside_the_citizens_own_chat_changes_nothing(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    await desk.receive(tc_citizen("Яма у подъезда"))
    await deliver(store)
    await desk.receive(tc_staff("/close", await card_message(store, 1), 901))
    await deliver(store)

    told = await desk.forgetting.confirm(press_of(data_of(clock.moment), chat=2_000_000_001))

    assert told.refused
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.citizen_id == "42"  # nothing removed
    assert [o for o in await deliver(store) if o.chat_id == "2000000001"] == []


async def test_a_text_button_pressed_again_and_again_is_answered_once_a_minute(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    await closed_and_forgotten(desk, store, clock)
    label = replace(press_of(data_of(clock.moment)), key="")  # a VK text button: a message

    for n in range(5):
        await desk.forgetting.confirm(replace(label, message_id=str(100 + n)))
    clock.advance(minutes=2)
    await desk.forgetting.confirm(replace(label, message_id="200"))

    told = [o.text for o in await deliver(store) if o.chat_id == "42"]
    assert len(told) == 2 and all(t.startswith("Ваши данные уже удалены") for t in told)


async def test_a_forged_button_from_the_far_future_is_refused_not_a_crash(
    desk: FrontDesk, store: SqliteStore,
) -> None:
    await desk.receive(tc_citizen("Яма у подъезда"))
    await deliver(store)

    for data in ("forget:999999999999", "forget:99999999999", "forget:0", "forget:"):
        assert (await desk.forgetting.confirm(press_of(data))).refused, data
