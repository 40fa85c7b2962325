"""Mass incidents on the desk: suggested over alike tickets, merged or kept apart, joined by
later reporters, answered once for all, closed for all.

On an injected clock and the real store; end to end on both platforms in
tests/test_e2e_incidents.py.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.feedback import DeliveryFeedback
from handlers.model import Event
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Attachment, Outbound, Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.test_escalation import FAR, citizen, deliver, moscow, staff

LINE_IDS = itertools.count(50_000)

HEATING = [
    "Здравствуйте, на улице Ленина не топят третий день",
    "ул. Ленина 5 батареи холодные, когда дадут отопление?",
    "На Ленина нет отопления!!!",
    "почему не топят дом на ленина 12",
    "Отопление на улице Ленина отключили, холодно",
    "Ленина 7 - отопления нет с утра",
    "Батареи ледяные, ул Ленина, дети мёрзнут",
]
OTHER = [
    "Яма на дороге у школы №3",
    "Спасибо за ёлку на площади",
    "Когда откроют запись к врачу в поликлинике?",
]


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        incident_reports=5,
    )


@pytest.fixture
def front(
    store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock,
) -> FrontDesk:
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    return FrontDesk(store, texts, calendar, config, now=clock)


async def write(front: FrontDesk, clock: FixedClock, texts: list[str], first_user: int,
                minute: int = 0) -> None:
    for n, text in enumerate(texts):
        clock.moment = moscow(26, 10, minute + n).astimezone(UTC)
        await front.receive(citizen(text, user=first_user + n, message_id=first_user + n))


def incident_cards(sent: list[Outbound]) -> list[Outbound]:
    return [o for o in sent if o.purpose is Purpose.INCIDENT_CARD]


async def suggested(front: FrontDesk, store: SqliteStore, clock: FixedClock) -> Outbound:
    await write(front, clock, OTHER, 500)
    await write(front, clock, HEATING[:5], 100, minute=10)
    sent = await deliver(store)
    [card] = incident_cards(sent)
    return card


async def card_message(store: SqliteStore, incident_id: int) -> str:
    async with store.transaction() as tx:
        incident = await tx.incident(incident_id)
    assert incident is not None and incident.card_message_id is not None
    return incident.card_message_id


async def test_five_alike_make_one_suggestion_naming_exactly_them(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.chat_id == STAFF_CHAT and card.incident is not None
    assert card.text.startswith("<b>Похоже на массовое: 5 сообщений — ")
    assert "Ленин" in card.text.split("\n")[0]
    assert "Сообщения: №4, №5, №6, №7, №8" in card.text
    assert [b[1] for b in card.buttons[0]] == ["do:/merge", "do:/apart"]
    # Every ticket still has its own card until staff merge them.
    async with store.transaction() as tx:
        members = await tx.incident_tickets(card.incident)
    assert [t.id for t in members] == [4, 5, 6, 7, 8]
    assert all(t.card_message_id for t in members)


async def test_a_sixth_joins_the_suggestion_with_its_own_card(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    await write(front, clock, HEATING[5:6], 200, minute=30)
    sent = await deliver(store)
    assert not incident_cards(sent)  # no second suggestion
    assert [o.purpose for o in sent if o.chat_id == STAFF_CHAT] == [Purpose.CARD]
    ticket = await store.ticket(9)
    assert ticket is not None and ticket.incident_id == card.incident


async def test_merged_later_reporters_join_without_a_card_and_all_get_one_answer(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    suggestion = await card_message(store, card.incident)
    await front.receive(staff("/merge", suggestion))
    sent = await deliver(store)
    [opened] = incident_cards(sent)
    assert opened.text.startswith(f"<b>№И-{card.incident} Массовое: ")
    assert "5 сообщений (Telegram: 5, ВКонтакте: 0)" in opened.text
    # The suggestion loses its buttons; the new card is the incident's from now on.
    assert [o.edits for o in sent if o.purpose is Purpose.CARD_EDIT] == [suggestion]
    assert await card_message(store, card.incident) != suggestion
    # A later reporter: the incident's acknowledgement, no card, a line under the incident.
    await write(front, clock, HEATING[6:7], 300, minute=40)
    sent = await deliver(store)
    [ack] = [o for o in sent if o.chat_id == "300"]
    assert ack.text.startswith("Ваше сообщение №9 получено. Мы знаем об этой проблеме")
    assert [o.purpose for o in sent if o.chat_id == STAFF_CHAT] == [
        Purpose.STAFF_NOTICE, Purpose.INCIDENT_CARD]
    [line] = [o for o in sent if o.purpose is Purpose.STAFF_NOTICE]
    assert line.text.startswith(f"<b>№И-{card.incident}: ещё сообщение №9</b>")
    assert line.text.endswith(HEATING[6]) and line.ticket_id == 9
    # The card counts six now: its text edited in place.
    [edit] = [o for o in sent if o.purpose is Purpose.INCIDENT_CARD]
    assert edit.edits == await card_message(store, card.incident)
    assert "6 сообщений (Telegram: 6, ВКонтакте: 0)" in edit.text
    # One reply to the incident's card answers all six, each once.
    answer = staff("Аварийная бригада на месте, тепло дадут к 18:00",
                   await card_message(store, card.incident), message_id=950)
    await front.receive(answer)
    await front.receive(answer)  # the same update handled twice
    sent = await deliver(store)
    to_citizens = [o for o in sent if o.purpose is Purpose.ANSWER]
    assert sorted(o.chat_id for o in to_citizens) == ["100", "101", "102", "103", "104", "300"]
    for answer_sent in to_citizens:
        ticket = next(t for t in [await store.ticket(n) for n in range(4, 10)]
                      if t is not None and t.chat_id == answer_sent.chat_id)
        assert f"№{ticket.id}" in answer_sent.text.split("\n")[0]
        assert answer_sent.text.endswith("Аварийная бригада на месте, тепло дадут к 18:00")
    told = [o.text for o in sent if o.chat_id == STAFF_CHAT]
    assert f"№И-{card.incident}: ответ отправлен 6 гражданам." in told
    assert f"№И-{card.incident}: этот ответ уже отправлен." in told
    for n in (4, 9):
        ticket = await store.ticket(n)
        assert ticket is not None and ticket.first_answer_at is not None


async def test_closing_the_incident_closes_every_ticket_and_tells_every_citizen(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    await front.receive(staff("/merge", await card_message(store, card.incident)))
    await deliver(store)
    opened = await card_message(store, card.incident)
    await front.receive(staff("/close", opened, message_id=960))
    sent = await deliver(store)
    closings = [o for o in sent if o.purpose is Purpose.CLOSING]
    assert sorted(o.chat_id for o in closings) == ["100", "101", "102", "103", "104"]
    assert all(o.text.startswith("Работа по сообщению №") for o in closings)
    assert f"№И-{card.incident} закрыто: 5 сообщений закрыто, граждане уведомлены." in [
        o.text for o in sent if o.chat_id == STAFF_CHAT]
    for n in range(4, 9):
        ticket = await store.ticket(n)
        assert ticket is not None and not ticket.is_open
    # Closed: a new like message starts over as a ticket of its own, with a card.
    await write(front, clock, HEATING[5:6], 400, minute=50)
    sent = await deliver(store)
    assert [o.purpose for o in sent if o.chat_id == STAFF_CHAT] == [Purpose.CARD]


async def test_kept_apart_they_are_never_suggested_again(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    await front.receive(staff("/apart", await card_message(store, card.incident)))
    sent = await deliver(store)
    assert f"№И-{card.incident}: сообщения №4, №5, №6, №7, №8 остаются отдельными" in \
        " ".join(o.text for o in sent)
    assert [o.buttons for o in sent if o.purpose is Purpose.CARD_EDIT] == [()]
    # One more alike: with the five set apart, not enough for a new suggestion.
    await write(front, clock, HEATING[5:7], 600, minute=30)
    assert not incident_cards(await deliver(store))
    # An answer to the dismissed card goes to nobody.
    await front.receive(staff("Разберёмся", await card_message(store, card.incident), 970))
    sent = await deliver(store)
    assert not [o for o in sent if o.purpose is Purpose.ANSWER]


async def test_answers_to_a_suggestion_go_to_nobody_until_merged(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    await front.receive(staff("Уже чиним", await card_message(store, card.incident)))
    sent = await deliver(store)
    assert not [o for o in sent if o.purpose is Purpose.ANSWER]
    assert any("ещё не объединено, ответ никому не отправлен" in o.text for o in sent)


async def test_detection_is_off_with_zero(
    store: SqliteStore, texts: Texts, clock: FixedClock
) -> None:
    config = DeskConfig(staff_chat_id=STAFF_CHAT, timezone=MOSCOW,
                        escalation_after=timedelta(hours=8), incident_reports=0)
    front = FrontDesk(store, texts, WorkCalendar(BusinessHours.parse("24/7"), MOSCOW), config,
                      now=clock)
    await write(front, clock, HEATING, 100)
    assert not incident_cards(await deliver(store))


async def test_after_a_restart_the_recent_tickets_are_remembered(
    store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock
) -> None:
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    before = FrontDesk(store, texts, calendar, config, now=clock)
    await write(before, clock, HEATING[:4], 100)
    assert not incident_cards(await deliver(store))
    after = FrontDesk(store, texts, calendar, config, now=clock)  # a new process, same store
    await write(after, clock, HEATING[4:5], 200, minute=20)
    [card] = incident_cards(await deliver(store))
    assert "Сообщения: №1, №2, №3, №4, №5" in card.text


async def merged(front: FrontDesk, store: SqliteStore, clock: FixedClock) -> int:
    """A suggestion of five, merged: the incident's id."""
    card = await suggested(front, store, clock)
    assert card.incident is not None
    await front.receive(staff("/merge", await card_message(store, card.incident)))
    await deliver(store)
    return card.incident


async def test_a_ticket_taken_out_gets_its_own_card_and_no_answer_to_all(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    await write(front, clock, HEATING[6:7], 300, minute=40)  # №9 joins without a card
    [(line, line_id)] = [(o, i) for o, i in await deliver_with_ids(store)
                         if o.purpose is Purpose.STAFF_NOTICE]
    assert line.buttons == ((("Это другое", "do:/apart"),),)
    # The button under the line: №9 leaves the incident and gets a card of its own.
    await front.receive(staff("/apart", line_id, message_id=980))
    sent = await deliver(store)
    [own] = [o for o in sent if o.purpose is Purpose.CARD]
    assert own.ticket_id == 9 and own.text.startswith(f"№9 передано из «№И-{incident}»")
    assert f"№И-{incident}: сообщение №9 вынесено" in " ".join(o.text for o in sent)
    ticket = await store.ticket(9)
    assert ticket is not None and ticket.incident_id is None
    await front.receive(staff("Бригада выехала", await card_message(store, incident), 981))
    answered = [o.chat_id for o in await deliver(store) if o.purpose is Purpose.ANSWER]
    assert "300" not in answered and len(answered) == 5
    # Not in it (any more): said so, nothing changes.
    await front.receive(staff("/apart 9", await card_message(store, incident), 982))
    assert f"№И-{incident}: сообщения №9 в нём нет." in [
        o.text for o in await deliver(store)]


async def test_join_adds_a_ticket_to_an_open_incident(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await write(front, clock, ["На Ленина опять прорвало трубу"], 700, minute=0)
    await deliver(store)
    incident = await merged(front, store, clock)
    card = (await store.ticket(1))
    assert card is not None and card.card_message_id is not None
    await front.receive(staff(f"/join И-{incident}", card.card_message_id, message_id=990))
    assert f"№1 присоединено к №И-{incident}: ответ на карточку №И-{incident} дойдёт и до " \
        "него." in [o.text for o in await deliver(store)]
    await front.receive(staff(f"/join {incident}", card.card_message_id, message_id=991))
    assert f"№1 уже в №И-{incident}." in [o.text for o in await deliver(store)]
    await front.receive(staff("/join И-99", card.card_message_id, message_id=992))
    assert "№1: укажите открытое массовое, например /join И-3." in [
        o.text for o in await deliver(store)]
    await front.receive(staff("Устраняем", await card_message(store, incident), 993))
    answered = [o.chat_id for o in await deliver(store) if o.purpose is Purpose.ANSWER]
    assert "700" in answered and len(answered) == 6



async def deliver_with_ids(store: SqliteStore) -> list[tuple[Outbound, str]]:
    """As `deliver`, with the message id each row was given."""
    sent = []
    for item in await store.due_outbox(FAR, 1000):
        message_id = str(next(LINE_IDS))
        await store.outbox_sent(item, [message_id])
        sent.append((item.outbound, message_id))
    return sent


async def test_a_reply_to_a_joined_line_answers_that_citizen_alone(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await merged(front, store, clock)
    await write(front, clock, HEATING[6:7], 300, minute=40)
    [(_, line_id)] = [(o, i) for o, i in await deliver_with_ids(store)
                      if o.purpose is Purpose.STAFF_NOTICE]
    await front.receive(staff("Уточните номер квартиры", line_id, message_id=1001))
    answered = [o.chat_id for o in await deliver(store) if o.purpose is Purpose.ANSWER]
    assert answered == ["300"]


async def test_an_edited_incident_answer_is_corrected_for_everyone_it_reached(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    card = await card_message(store, incident)
    await front.receive(staff("Тепло дадут к 18:00", card, message_id=1010))
    await deliver(store)
    edited = replace(staff("Тепло дадут к 21:00", card, message_id=1010), event=Event.EDITED)
    await front.receive(edited)
    corrections = [o for o in await deliver(store) if o.purpose is Purpose.ANSWER]
    assert sorted(o.chat_id for o in corrections) == ["100", "101", "102", "103", "104"]
    assert all(o.text.startswith("<b>Исправлено") or "Исправлено" in o.text.split("\n")[0]
               for o in corrections)
    assert all(o.text.endswith("Тепло дадут к 21:00") for o in corrections)


async def test_a_joining_citizens_photo_is_shown_under_the_incident_card(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    clock.moment = moscow(26, 10, 45).astimezone(UTC)
    photo = replace(citizen("Батареи ледяные, ул Ленина, фото прилагаю", user=300,
                            message_id=77),
                    attachments=(Attachment("photo", "file-1"),))
    await front.receive(photo)
    sent = [o for o in await deliver(store) if o.purpose is Purpose.STAFF_NOTICE]
    assert [o.copy_from for o in sent] == [None, ("300", "77")]
    assert all(o.reply_to == sent[0].reply_to and o.ticket_id == 9 for o in sent)
    assert sent[0].reply_to == await card_message(store, incident)


async def test_one_short_member_does_not_pull_other_messages_in(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await merged(front, store, clock)
    await write(front, clock, ["Когда будет перерасчет за отопление за октябрь?"], 800, 40)
    sent = await deliver(store)
    assert [o.purpose for o in sent if o.chat_id == STAFF_CHAT] == [Purpose.CARD]


async def test_staff_retitle_an_incident_and_new_reporters_hear_the_new_title(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    card = await card_message(store, incident)
    await front.receive(staff("/title", card, message_id=1020))
    assert f"№И-{incident}: напишите название после команды" in " ".join(
        o.text for o in await deliver(store))
    await front.receive(staff("/title Авария на теплотрассе <ул. Ленина>", card, 1021))
    told = " ".join(o.text for o in await deliver(store))
    assert f"№И-{incident} теперь называется «Авария на теплотрассе &lt;ул. Ленина&gt;»" in told
    await write(front, clock, HEATING[6:7], 300, minute=40)
    [ack] = [o for o in await deliver(store) if o.chat_id == "300"]
    assert "(«Авария на теплотрассе <ул. Ленина>»)" in ack.text  # plain text to the citizen


async def test_the_card_counts_the_answer_out_and_what_did_not_arrive(
    front: FrontDesk, store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    await front.receive(staff("Тепло дадут к 18:00", await card_message(store, incident), 1030))
    rows = await store.due_outbox(FAR, 1000)
    answers = [i for i in rows if i.outbound.purpose is Purpose.ANSWER]
    [first_edit] = [i.outbound for i in rows if i.outbound.purpose is Purpose.INCIDENT_CARD]
    assert "Ответ: отправлено 0 из 5." in first_edit.text
    feedback = DeliveryFeedback(store, texts, config)
    for item in answers[:4]:
        await store.outbox_sent(item, ["1"])
    await store.outbox_failed(answers[4], "403 Forbidden: bot was blocked by the user")
    await feedback.incident_progress(incident)
    edits = [i.outbound for i in await store.due_outbox(FAR, 1000)
             if i.outbound.purpose is Purpose.INCIDENT_CARD]
    assert "Ответ: отправлено 4 из 5, не доставлено 1." in edits[-1].text
    assert edits[-1].edits == await card_message(store, incident)


async def test_a_join_before_the_new_card_is_out_edits_no_other_message(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    suggestion = await card_message(store, card.incident)
    await front.receive(staff("/merge", suggestion))
    # The new card is still queued (a paced staff chat, a storm) when a reporter joins.
    await write(front, clock, HEATING[6:7], 300, minute=40)
    rows = [i.outbound for i in await store.due_outbox(FAR, 1000)]
    assert not [o for o in rows if o.purpose is Purpose.INCIDENT_CARD and o.edits]
    await deliver(store)
    assert await card_message(store, card.incident) != suggestion


async def test_a_closed_incidents_card_gets_no_buttons_back_from_its_count(
    front: FrontDesk, store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    card = await card_message(store, incident)
    await front.receive(staff("Тепло дадут к 18:00", card, 1050))
    await front.receive(staff("/close", card, 1051))  # closed at once, answers still out
    rows = await store.due_outbox(FAR, 1000)
    for item in rows:
        if item.outbound.purpose is not Purpose.ANSWER:
            await store.outbox_sent(item, [item.outbound.edits or "1"])
    feedback = DeliveryFeedback(store, texts, config)
    for item in [i for i in rows if i.outbound.purpose is Purpose.ANSWER]:
        await store.outbox_sent(item, ["1"])
        await feedback.incident_progress(incident)
    later = [i.outbound for i in await store.due_outbox(FAR, 1000)
             if i.outbound.purpose is Purpose.INCIDENT_CARD]
    assert later and not any(o.buttons for o in later)
    assert "Ответ: отправлено 5 из 5." in later[-1].text


async def test_a_new_title_is_cleaned_and_shown_on_the_card(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    await front.receive(staff("/title \u202eЛенина\u0007 авария", await card_message(
        store, incident), 1060))
    [edit] = [o for o in await deliver(store) if o.purpose is Purpose.INCIDENT_CARD]
    assert "Ленина авария" in edit.text and "\u202e" not in edit.text
    async with store.transaction() as tx:
        renamed = await tx.incident(incident)
    assert renamed is not None and renamed.title == "Ленина авария"
