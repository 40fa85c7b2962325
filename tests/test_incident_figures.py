"""Mass incidents in the figures staff read: a line each in the daily digest, one line in
/queue for a confirmed incident's waiting tickets.

On an injected clock and the real store; incidents are made through the desk as in
tests/test_incidents.py, or straight in the store where only their figures matter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.digest import INCIDENT_LIST_LIMIT, send_digest
from handlers.model import Inbound
from handlers.queue import QUEUE_LIMIT
from handlers.texts import Texts, escape
from storage import SqliteStore
from storage.values import Channel, Outbound, Platform, Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.test_escalation import add_ticket, citizen, deliver, moscow, staff
from tests.test_incidents import HEATING, card_message, suggested


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        incident_reports=5,
    )


@pytest.fixture
def front(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> FrontDesk:
    return FrontDesk(store, texts, calendar, config, now=clock)


def at(clock: FixedClock, moment: datetime) -> None:
    clock.moment = moment.astimezone(UTC)


def vk_citizen(text: str, user: int) -> Inbound:
    return Inbound(
        platform=Platform.VK, channel=Channel.DIRECT, chat_id=str(user), author_id=str(user),
        author_name="Ольга Сидорова", message_id=str(user), text=text,
    )


async def confirmed(front: FrontDesk, store: SqliteStore, clock: FixedClock) -> int:
    """Tickets №1-№3 of other matters, №4-№8 about the heating (Thursday 26 November,
    10:10-10:14), merged by staff at 10:30 into the incident whose number is returned."""
    card = await suggested(front, store, clock)
    assert card.incident is not None
    at(clock, moscow(26, 10, 30))
    await front.receive(staff("/merge", await card_message(store, card.incident), 910))
    await deliver(store)
    return card.incident


async def title_of(store: SqliteStore, incident_id: int) -> str:
    async with store.transaction() as tx:
        incident = await tx.incident(incident_id)
    assert incident is not None
    return incident.title


Digest = Callable[[datetime], Awaitable[list[str]]]


@pytest.fixture
def digest(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
) -> Digest:
    """The lines of the digest sent at a moment."""
    async def send(moment: datetime) -> list[str]:
        assert await send_digest(store, texts, calendar, config, moment)
        [sent] = [o for o in await deliver(store) if o.purpose is Purpose.DIGEST]
        return sent.text.splitlines()
    return send


async def queue(front: FrontDesk, store: SqliteStore, message_id: int) -> Outbound:
    await front.receive(staff("/queue", None, message_id))
    [reply] = await deliver(store)
    return reply


# the daily digest


async def test_digest_lists_an_answered_incident_with_its_platforms_and_times(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, digest: Digest,
) -> None:
    incident = await confirmed(front, store, clock)
    at(clock, moscow(26, 10, 40))  # a later reporter on VK joins it
    await front.receive(vk_citizen(HEATING[5], 300))
    at(clock, moscow(26, 11, 5))
    await front.receive(staff("Бригада на месте, тепло дадут к 18:00",
                              await card_message(store, incident), 920))
    await deliver(store)
    lines = await digest(moscow(27, 9))
    line = (
        f"№И-{incident} {escape(await title_of(store, incident))}: 6 сообщений "
        "(Telegram 5, ВКонтакте 1), первое 26 ноября, 10:10, ответ 26 ноября, 11:05"
    )
    assert lines[lines.index("Массовые: 1") + 1] == line
    # Period figures first, then what stands now.
    assert lines.index(line) < lines.index("Открыто сейчас: 9, из них ждут ответа: 3")


async def test_digest_says_an_unanswered_incident_is_without_an_answer(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, digest: Digest,
) -> None:
    incident = await confirmed(front, store, clock)
    lines = await digest(moscow(27, 9))
    assert (
        f"№И-{incident} {escape(await title_of(store, incident))}: 5 сообщений "
        "(Telegram 5, ВКонтакте 0), первое 26 ноября, 10:10, без ответа"
    ) in lines


@pytest.mark.parametrize("command", ["/apart", None], ids=["dismissed", "suggested"])
async def test_digest_leaves_out_incidents_never_confirmed(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, digest: Digest,
    command: str | None,
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    if command:
        await front.receive(staff(command, await card_message(store, card.incident), 930))
        await deliver(store)
    lines = await digest(moscow(27, 9))
    assert "Новых сообщений: 8" in lines
    assert not [line for line in lines if "Массовые" in line or "№И-" in line]


async def test_digest_lists_an_incident_in_the_periods_it_was_open_in_only(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, digest: Digest,
) -> None:
    incident = await confirmed(front, store, clock)
    # Thursday's digest covers Wednesday: the incident was not confirmed yet.
    lines = await digest(moscow(26, 17))
    assert not [line for line in lines if "№И-" in line]
    at(clock, moscow(26, 17, 30))
    await front.receive(staff("/close", await card_message(store, incident), 940))
    await deliver(store)
    # Friday's covers Thursday, when it was confirmed and closed.
    lines = await digest(moscow(27, 9))
    assert [line for line in lines if line.startswith(f"№И-{incident} ")]
    # Monday's covers Friday to Sunday: it was closed before.
    lines = await digest(moscow(30, 9))
    assert not [line for line in lines if "№И-" in line]


async def test_digest_lists_ten_incidents_and_counts_the_rest(
    store: SqliteStore, digest: Digest,
) -> None:
    count = INCIDENT_LIST_LIMIT + 2
    for n in range(count):
        ids = [await add_ticket(store, f"{n}-{k}", moscow(26, 9, n)) for k in range(2)]
        async with store.transaction() as tx:
            made = await tx.create_incident(f"нет воды <дом {n}>", None, ids, moscow(26, 9))
            await tx.set_incident_state(made.id, "open", moscow(26, 10))
    lines = await digest(moscow(27, 9))
    listed = [line for line in lines if line.startswith("№И-")]
    assert lines[lines.index(f"Массовые: {count}") + 1] == listed[0]
    assert len(listed) == INCIDENT_LIST_LIMIT
    assert listed[0] == (
        "№И-1 нет воды &lt;дом 0&gt;: 2 сообщения (Telegram 0, ВКонтакте 2), "
        "первое 26 ноября, 09:00, без ответа"
    )
    assert lines[lines.index(listed[-1]) + 1] == "и ещё 2"


# /queue


async def test_queue_shows_a_confirmed_incident_as_one_line_where_it_waited_longest(
    front: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    incident = await confirmed(front, store, clock)
    at(clock, moscow(26, 10, 45))
    await front.receive(citizen("Когда вывезут мусор со двора?", user=700, message_id=700))
    await deliver(store)
    at(clock, moscow(26, 12))
    reply = await queue(front, store, 950)
    lines = reply.text.splitlines()
    assert lines[0] == "<b>Ждут ответа: 9</b> (сначала самые давние)"
    assert [line.split(" · ")[0] for line in lines[1:]] == [
        "<b>№1</b>", "<b>№2</b>", "<b>№3</b>", f"<b>№И-{incident}</b>", "<b>№9</b>"]
    assert lines[4] == (
        f"<b>№И-{incident}</b> · массовое: 5 сообщений ждут · "
        f"{escape(await title_of(store, incident))}"
    )
    # A reply «№<n>» to the list answers a ticket it names; the incident's are its card's.
    assert reply.refers == (1, 2, 3, 9)
    # Answered through its card, the incident leaves the queue.
    await front.receive(staff("Чиним", await card_message(store, incident), 951))
    await deliver(store)
    lines = (await queue(front, store, 952)).text.splitlines()
    assert lines[0] == "<b>Ждут ответа: 4</b> (сначала самые давние)"
    assert not [line for line in lines if "№И-" in line]


async def test_queue_lists_a_suggested_incidents_tickets_one_by_one(
    front: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    await suggested(front, store, clock)
    reply = await queue(front, store, 960)
    lines = reply.text.splitlines()
    assert lines[0] == "<b>Ждут ответа: 8</b> (сначала самые давние)"
    assert [line.split(" · ")[0] for line in lines[1:]] == [f"<b>№{n}</b>" for n in range(1, 9)]
    assert reply.refers == tuple(range(1, 9))


async def test_queue_in_a_storm_still_lists_the_other_tickets(
    front: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    storm = [
        await add_ticket(store, f"s{n}", moscow(26, 9, n)) for n in range(QUEUE_LIMIT + 2)
    ]
    async with store.transaction() as tx:
        made = await tx.create_incident("отопление", None, storm, moscow(26, 9))
        await tx.set_incident_state(made.id, "open", moscow(26, 10))
    others = [await add_ticket(store, f"o{n}", moscow(26, 11, n)) for n in range(3)]
    at(clock, moscow(26, 12))
    lines = (await queue(front, store, 970)).text.splitlines()
    assert lines[0] == f"<b>Ждут ответа: {QUEUE_LIMIT + 5}</b> (сначала самые давние)"
    assert lines[1] == f"<b>№И-{made.id}</b> · массовое: 52 сообщения ждут · отопление"
    assert [line.split(" · ")[0] for line in lines[2:]] == [f"<b>№{n}</b>" for n in others]


async def test_queue_caps_its_lines_and_counts_the_tickets_left_over(
    front: FrontDesk, store: SqliteStore, clock: FixedClock,
) -> None:
    for n in range(QUEUE_LIMIT):
        await add_ticket(store, f"t{n}", moscow(26, 9, n))
    late = [await add_ticket(store, f"l{n}", moscow(26, 11, n)) for n in range(3)]
    async with store.transaction() as tx:
        made = await tx.create_incident("отопление", None, late, moscow(26, 11))
        await tx.set_incident_state(made.id, "open", moscow(26, 11, 30))
    at(clock, moscow(26, 12))
    text = (await queue(front, store, 980)).text
    assert text.count("<b>№") == QUEUE_LIMIT and "№И-" not in text
    assert text.splitlines()[0].startswith(f"<b>Ждут ответа: {QUEUE_LIMIT + 3}</b>")
    assert text.endswith("… и ещё 3")
