"""Interim answers: `/interim N reason` on a card sets a new date the citizen hears of.

On an injected clock and the real store; the escalation ladder and the digest follow the
new deadline. End to end on both platforms in tests/test_e2e_interim.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.digest import send_digest
from handlers.escalation import escalate_due
from handlers.interim import MAX_DAYS
from handlers.model import Event
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.test_escalation import (
    FAR,
    Sweep,
    card_of,
    deliver,
    escalations,
    moscow,
    open_ticket,
    staff,
)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        escalation_repeat=timedelta(hours=4),
    )


@pytest.fixture
def front(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> FrontDesk:
    return FrontDesk(store, texts, calendar, config, now=clock)


@pytest.fixture
def sweep(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> Sweep:
    async def run() -> int:
        return await escalate_due(store, texts, calendar, config, clock())
    return run


def moscow_dec(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MOSCOW)


async def test_interim_sets_the_close_of_the_nth_working_day_and_tells_the_citizen(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    # Thursday 26 Nov 11:00; 3 working days from that day: Fri 27, Mon 30, Tue 1 Dec → 18:00.
    ticket = await open_ticket(front, store, clock, moscow(26, 10), "Течёт крыша")
    clock.moment = moscow(26, 11).astimezone(UTC)
    await front.receive(staff("/interim 3 ждём подрядчика", await card_of(store, ticket.id)))
    sent = await deliver(store)
    [to_citizen] = [o for o in sent if o.chat_id == ticket.chat_id]
    assert to_citizen.purpose is Purpose.ANSWER and not to_citizen.html
    assert to_citizen.text == (
        "Работа по сообщению №1 продолжается: ответ займёт больше времени. "
        "Ответим до 1 декабря, 18:00.\nПричина: ждём подрядчика"
    )
    [notice] = [o for o in sent if o.chat_id == STAFF_CHAT]
    assert notice.text == (
        "№1: новый срок — 1 декабря, 18:00. Сообщение с новой датой отправляется гражданину; "
        "если оно не дойдёт, бот скажет."
    )
    after = await store.ticket(ticket.id)
    assert after is not None and after.is_open
    assert after.deadline_at == moscow_dec(1, 18).astimezone(UTC)
    assert after.interim_at == moscow(26, 11).astimezone(UTC)
    assert after.interim_count == 1 and after.waiting_since is not None
    [record] = [m for m in await store.messages(ticket.id) if m.direction == "out"]
    assert record.text == to_citizen.text


async def test_the_escalation_ladder_follows_the_new_deadline(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    # Tuesday 10:00 + 8 working hours = Tuesday 18:00; the interim moves it to Friday 18:00.
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    clock.moment = moscow(24, 12).astimezone(UTC)
    await front.receive(staff("/interim 3", await card_of(store, ticket.id)))
    await deliver(store)
    clock.moment = moscow(25, 10).astimezone(UTC)  # past the old deadline
    assert await sweep() == 0
    clock.moment = moscow(27, 18, 1).astimezone(UTC)  # past the new one
    assert await sweep() == 1
    [escalation] = await escalations(store)
    assert "№1" in escalation.text


async def test_an_interim_handled_twice_tells_the_citizen_once(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    order = staff("/interim 2", await card_of(store, ticket.id))
    await front.receive(order)
    await front.receive(order)  # an update handled again after a crash
    sent = await deliver(store)
    assert len([o for o in sent if o.chat_id == ticket.chat_id]) == 1
    after = await store.ticket(ticket.id)
    assert after is not None and after.interim_count == 1


@pytest.mark.parametrize("order", [
    "/interim", "/interim 0", f"/interim {MAX_DAYS + 1}", "/interim пять", "/interim ５",
    "/interim -3",
])
async def test_an_interim_without_a_good_number_of_days_only_says_how(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, order: str
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    await front.receive(staff(order, await card_of(store, ticket.id)))
    sent = await deliver(store)
    assert [o.chat_id for o in sent] == [STAFF_CHAT]
    assert sent[0].text.startswith("Чтобы назначить новый срок, ответьте на карточку: /interim 5")
    after = await store.ticket(ticket.id)
    assert after is not None and after.interim_count == 0
    assert after.deadline_at == ticket.deadline_at


async def test_an_interim_on_a_closed_ticket_changes_nothing(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    card = await card_of(store, ticket.id)
    await front.receive(staff("/close", card, message_id=901))
    await deliver(store)
    await front.receive(staff("/interim 2", card, message_id=902))
    sent = await deliver(store)
    assert [o.text for o in sent] == ["№1 закрыто: новый срок не назначен."]


async def test_interim_on_a_list_names_its_number(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    """`№2 /interim 4` replying to `/queue`'s list sets the date of №2 only."""
    first = await open_ticket(front, store, clock, moscow(24, 10), "первое", user=1)
    second = await open_ticket(front, store, clock, moscow(24, 10), "второе", user=2)
    await front.receive(staff("/queue", None, message_id=950))
    [listing] = await store.due_outbox(FAR, 10)
    assert set(listing.outbound.refers) == {first.id, second.id}
    await store.outbox_sent(listing, ["7777"])
    await front.receive(staff(f"№{second.id} /interim 4", "7777", message_id=951))
    sent = await deliver(store)
    assert [o.chat_id for o in sent if o.chat_id != STAFF_CHAT] == [second.chat_id]
    one, two = await store.ticket(first.id), await store.ticket(second.id)
    assert one is not None and one.interim_count == 0
    assert two is not None and two.interim_count == 1


async def test_the_digest_counts_interim_answers_of_its_day(
    front: FrontDesk, store: SqliteStore, texts: Texts, calendar: WorkCalendar, *,
    config: DeskConfig, clock: FixedClock,
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    other = await open_ticket(front, store, clock, moscow(24, 10), "другой", user=43)
    clock.moment = moscow(24, 12).astimezone(UTC)
    await front.receive(staff("/interim 2", await card_of(store, ticket.id), message_id=903))
    await front.receive(staff("/interim 3", await card_of(store, other.id), message_id=904))
    await deliver(store)
    now = datetime.combine(date(2026, 11, 25), time(9), tzinfo=MOSCOW)
    assert await send_digest(store, texts, calendar, config, now)
    [digest] = [o for o in await deliver(store) if o.purpose is Purpose.DIGEST]
    assert "Получили промежуточный ответ (новый срок): 2" in digest.text


async def test_an_interim_not_later_than_the_deadline_changes_nothing(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, clock: FixedClock
) -> None:
    """With 40 working hours to answer, one more working day would be earlier: refused."""
    config = DeskConfig(staff_chat_id=STAFF_CHAT, timezone=MOSCOW,
                        escalation_after=timedelta(hours=40))
    front = FrontDesk(store, texts, calendar, config, now=clock)
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    await front.receive(staff("/interim 1", await card_of(store, ticket.id)))
    [notice] = await deliver(store)
    assert notice.chat_id == STAFF_CHAT
    assert notice.text.startswith(
        "№1: срок через столько рабочих дней (25 ноября, 18:00) не позже"
    )
    after = await store.ticket(ticket.id)
    assert after is not None and after.interim_count == 0
    assert after.deadline_at == ticket.deadline_at


async def test_a_bare_interim_on_a_closed_ticket_says_it_is_closed(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    card = await card_of(store, ticket.id)
    await front.receive(staff("/close", card, message_id=901))
    await deliver(store)
    await front.receive(staff("/interim", card, message_id=902))
    assert [o.text for o in await deliver(store)] == ["№1 закрыто: новый срок не назначен."]


async def test_an_edited_interim_is_not_carried_out_again_and_staff_are_told(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    order = staff("/interim 2", await card_of(store, ticket.id))
    await front.receive(order)
    await deliver(store)
    before = await store.ticket(ticket.id)
    await front.receive(replace(order, text="/interim 10", html_text="/interim 10",
                                event=Event.EDITED))
    [notice] = await deliver(store)
    assert notice.chat_id == STAFF_CHAT
    assert notice.text.startswith("№1: правка команды «/interim» не выполняется")
    assert await store.ticket(ticket.id) == before
