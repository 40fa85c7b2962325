"""The escalation ladder, /queue and the daily digest, on an injected clock and a real store."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast

from bench.sweep import bench_sweep
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.digest import STATE_KEY, median, percentile, send_digest
from handlers.escalation import card_link, escalate_due, escalate_ticket, escalation_message
from handlers.model import Inbound
from handlers.queue import QUEUE_LIMIT
from handlers.texts import DEFAULT_LOCALES, Texts
from scheduler.jobs import DeskScheduler
from storage import NewTicket, SqliteStore, Ticket
from storage.values import Channel, Outbound, Platform, Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock

SUPERVISORS = "-100777"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
Sweep = Callable[[], Awaitable[int]]


def moscow(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in November 2026 (or `month`), Moscow time; 23 Nov 2026 is a Monday."""
    return datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


def citizen(text: str, user: int = 42, message_id: int = 1) -> Inbound:
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=str(user),
        author_id=str(user), author_name="Иван Петров", message_id=str(message_id), text=text,
    )


def staff(text: str, reply_to: str | None, message_id: int = 900) -> Inbound:
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=STAFF_CHAT,
        author_id="7", author_name="Оператор", message_id=str(message_id), text=text,
        html_text=text, reply_to=reply_to, is_staff_chat=True,
    )


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        escalation_repeat=timedelta(hours=4), escalation_chat_id=SUPERVISORS,
        duty_mentions="@duty_officer",
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


@pytest.fixture
def step(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> Callable[[int], Awaitable[bool]]:
    async def run(ticket_id: int) -> bool:
        return await escalate_ticket(
            store, texts, calendar, config, ticket_id=ticket_id, now=clock()
        )
    return run


@pytest.fixture
def jobs(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> DeskScheduler:
    return DeskScheduler(
        store, texts, calendar, config, check_interval=timedelta(seconds=30),
        digest_at=time(9), now=clock,
    )


_message_ids = itertools.count(5000)


async def deliver(store: SqliteStore) -> list[Outbound]:
    """Pretend the sender delivered every pending row; returns what it sent."""
    sent = []
    for item in await store.due_outbox(FAR, 1000):
        # An edit is of the message it edits, as Telegram answers it; the rest are new.
        await store.outbox_sent(item, [item.outbound.edits or str(next(_message_ids))])
        sent.append(item.outbound)
    return sent


async def open_ticket(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, at: datetime, text: str, *,
    user: int = 42,
) -> Ticket:
    """A citizen writes at `at`; the ack and the card are delivered."""
    clock.moment = at.astimezone(UTC)
    await front.receive(citizen(text, user=user, message_id=next(_message_ids)))
    await deliver(store)
    tickets = [t for t in await store.open_tickets() if t.citizen_id == str(user)]
    return tickets[-1]


async def card_of(store: SqliteStore, ticket_id: int) -> str:
    ticket = await store.ticket(ticket_id)
    assert ticket is not None and ticket.card_message_id is not None
    return ticket.card_message_id


async def escalations(store: SqliteStore) -> list[Outbound]:
    return [o for o in await deliver(store) if o.purpose is Purpose.ESCALATION]


# the ladder


async def test_ladder_goes_level_1_then_2_then_repeats_on_working_time(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    # Tuesday 10:00 + 8 working hours (Mon-Fri 09-18) = Tuesday 18:00.
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "Нет <горячей> воды")
    clock.moment = moscow(24, 17, 59)
    assert await sweep() == 0

    clock.moment = moscow(24, 18)
    assert await sweep() == 1
    [level1] = await escalations(store)
    assert level1.chat_id == STAFF_CHAT and level1.reply_to_card and level1.html
    assert "<b>№1</b> ждёт ответа 8 ч рабочего времени" in level1.text
    assert "Нет &lt;горячей&gt; воды" in level1.text and "@duty_officer" in level1.text
    assert await sweep() == 0  # never twice for one step
    after1 = await store.ticket(ticket.id)
    assert after1 is not None and after1.escalation_level == 1
    # Level 2 is another 8 working hours on: Wednesday 09:00 + 8 h = Wednesday 17:00.
    assert after1.next_escalation_at == moscow(25, 17)

    clock.moment = moscow(25, 17)
    assert await sweep() == 1
    [level2] = await escalations(store)
    assert level2.chat_id == SUPERVISORS and "@duty_officer" not in level2.text
    assert "без ответа 16 ч рабочего времени" in level2.text
    card = await card_of(store, ticket.id)
    assert f'<a href="https://t.me/c/500/{card}">Открыть карточку №1</a>' in level2.text

    # Then the top level again every 4 working hours: Thursday 12:00, then 16:00.
    clock.moment = moscow(26, 11, 59)
    assert await sweep() == 0
    clock.moment = moscow(26, 12)
    assert await sweep() == 1
    [repeat] = await escalations(store)
    assert repeat.chat_id == SUPERVISORS and "(уровень 3)" in repeat.text
    after3 = await store.ticket(ticket.id)
    assert after3 is not None and after3.escalation_level == 3
    assert after3.next_escalation_at == moscow(26, 16)


async def test_answered_ticket_never_escalates(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    clock.moment = moscow(24, 12)
    await front.receive(staff("Ответ", await card_of(store, ticket.id)))
    answered = await store.ticket(ticket.id)
    assert answered is not None and answered.next_escalation_at is None
    clock.moment = moscow(30, 12)
    assert await sweep() == 0
    assert await escalations(store) == []


async def test_closed_ticket_never_escalates(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    await front.receive(staff("/close", await card_of(store, ticket.id)))
    clock.moment = moscow(30, 12)
    assert await sweep() == 0
    assert await escalations(store) == []


async def test_stale_mark_on_closed_ticket_is_cleared_not_escalated(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    async with store.transaction() as tx:
        # closed, its mark left behind, as a bug or an old version might
        await tx._do("UPDATE tickets SET status = 'closed' WHERE id = ?", (ticket.id,))
    clock.moment = moscow(30, 12)
    assert await sweep() == 0
    assert await store.due_escalations(clock(), 10) == []


async def test_answer_racing_the_sweep_wins(
    front: FrontDesk, store: SqliteStore, clock: FixedClock,
    step: Callable[[int], Awaitable[bool]],
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    clock.moment = moscow(24, 18, 5)
    [due] = await store.due_escalations(clock(), 10)
    # The answer commits between the sweep's query and its transaction for the ticket.
    await front.receive(staff("Ответ", await card_of(store, ticket.id)))
    assert not await step(due.id)
    assert await escalations(store) == []


async def test_restart_long_after_deadline_escalates_once_to_reached_level(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    # Down from Tuesday until Monday 12:00: Wed, Thu, Fri 9 h each and Monday 3 h = 30 h past
    # the deadline, so level 2 at 8 h and a reminder every 4 h: level 2 + (30 - 8) // 4 = 7.
    clock.moment = moscow(30, 12)
    assert await sweep() == 1
    [message] = await escalations(store)
    assert message.chat_id == SUPERVISORS and "(уровень 7)" in message.text
    assert "38 ч рабочего времени" in message.text
    assert await sweep() == 0
    after = await store.ticket(ticket.id)
    assert after is not None and after.escalation_level == 7
    # Level 8 at 8 + 6 * 4 = 32 working hours past the deadline: Monday 14:00.
    assert after.next_escalation_at == moscow(30, 14)


async def test_sweep_is_a_no_op_when_nothing_is_due(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    assert await sweep() == 0
    await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    clock.moment = moscow(24, 17)
    assert await sweep() == 0
    assert await deliver(store) == []


async def test_citizen_message_after_answer_restarts_the_clock(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, sweep: Sweep
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    clock.moment = moscow(24, 18)
    assert await sweep() == 1
    await deliver(store)
    clock.moment = moscow(25, 10)
    await front.receive(staff("Ответ", await card_of(store, ticket.id)))
    clock.moment = moscow(25, 11)
    await front.receive(citizen("а когда?", message_id=next(_message_ids)))
    await deliver(store)
    # Wednesday 11:00 + 8 working hours = Thursday 10:00, starting again from level 1.
    clock.moment = moscow(26, 9, 59)
    assert await sweep() == 0
    clock.moment = moscow(26, 10)
    assert await sweep() == 1
    [message] = await escalations(store)
    assert message.chat_id == STAFF_CHAT and "ждёт ответа 8 ч" in message.text
    after = await store.ticket(ticket.id)
    assert after is not None and after.escalation_level == 1


def test_card_link_only_for_supergroups() -> None:
    assert card_link("-1001234567890", "42") == "https://t.me/c/1234567890/42"
    assert card_link("-4001234", "42") == ""
    assert card_link("-1001234567890", None) == ""


def test_level_2_without_a_supergroup_card_names_the_card_in_words(
    texts: Texts, config: DeskConfig
) -> None:
    ticket = _ticket(deadline_at=moscow(24, 18), card_chat_id="-500", card_message_id="9")
    message = escalation_message(texts, config, ticket, 2, timedelta(hours=16))
    assert "Карточка №1 — в чате сотрудников." in message.text and "href" not in message.text


def test_level_2_goes_to_staff_chat_without_escalation_chat(
    texts: Texts, config: DeskConfig
) -> None:
    plain = DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        duty_mentions="@duty_officer",
    )
    ticket = _ticket(deadline_at=moscow(24, 18))
    message = escalation_message(texts, plain, ticket, 2, timedelta(hours=16))
    assert message.chat_id == STAFF_CHAT and message.reply_to_card
    assert "@duty_officer" not in message.text  # mentions are level 1's (README)


def _ticket(**fields: object) -> Ticket:
    values: dict[str, object] = {
        "id": 1, "platform": Platform.TELEGRAM, "channel": Channel.DIRECT, "chat_id": "42",
        "conversation": "42", "citizen_id": "42", "citizen_name": "Иван",
        "citizen_link": "", "thread_id": None, "reply_to": None, "link": "",
        "summary": "вопрос", "status": "open", "opened_at": moscow(24, 10),
        "waiting_since": moscow(24, 10), "deadline_at": None, "first_answer_at": None,
        "last_answer_at": None, "closed_at": None, "escalation_level": 0,
        "next_escalation_at": None, "card_chat_id": None, "card_message_id": None,
        "unreachable": None,
    }
    values.update(fields)
    return Ticket(**values)  # type: ignore[arg-type]


# /queue


async def test_queue_lists_waiting_tickets_oldest_first_with_time_left_or_overdue(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await open_ticket(front, store, clock, moscow(23, 10), "старое <дело>", user=1)
    await open_ticket(front, store, clock, moscow(24, 11), "новое", user=2)
    answered = await open_ticket(front, store, clock, moscow(24, 11, 30), "отвечено", user=3)
    await front.receive(staff("Ответ", await card_of(store, answered.id), message_id=901))
    await deliver(store)
    clock.moment = moscow(24, 12)
    await front.receive(staff("/queue", None, message_id=902))
    [reply] = await deliver(store)
    assert reply.chat_id == STAFF_CHAT and reply.html and reply.reply_to == "902"
    lines = reply.text.splitlines()
    assert lines[0].startswith("<b>Ждут ответа: 2</b>")
    # №1's deadline was Monday 18:00: Tuesday 09:00-12:00 makes it 3 hours overdue.
    assert lines[1] == "<b>№1</b> · ⏰ просрочено на 3 ч · старое &lt;дело&gt;"
    # №2's deadline is Wednesday 10:00: 6 hours today and 1 tomorrow are left.
    assert lines[2] == "<b>№2</b> · осталось 7 ч · новое"
    assert len(lines) == 3


async def test_queue_caps_the_list_and_counts_the_rest(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    for user in range(QUEUE_LIMIT + 2):
        await open_ticket(front, store, clock, moscow(24, 10, user % 60), "вопрос", user=user)
    await front.receive(staff("/queue", None))
    [reply] = await deliver(store)
    assert reply.text.count("<b>№") == QUEUE_LIMIT
    assert reply.text.endswith("… и ещё 2")


async def test_queue_when_empty(front: FrontDesk, store: SqliteStore) -> None:
    await front.receive(staff("/queue@frontdesk_bot", None))
    [reply] = await deliver(store)
    assert reply.text == "Очередь пуста: на все сообщения есть ответ."


# the daily digest


async def add_ticket(
    store: SqliteStore, number_hint: str, opened: datetime, *,
    answered: datetime | None = None, deadline: datetime | None = None, closed: bool = False,
) -> int:
    """A ticket straight in the store, for figures on known data."""
    async with store.transaction() as tx:
        ticket = await tx.create_ticket(NewTicket(
            platform=Platform.VK, channel=Channel.DIRECT, chat_id=number_hint,
            conversation=number_hint, citizen_id=number_hint, citizen_name="Ирина",
            citizen_link="", thread_id=None, reply_to=None, link="", summary=number_hint,
            opened_at=opened, deadline_at=deadline,
        ))
        if answered is not None:
            await tx.answered(ticket.id, answered)
        if closed:
            assert answered is not None
            await tx.close_ticket(ticket.id, answered)
    return ticket.id


async def test_digest_counts_the_previous_working_day_with_median_and_p90(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig
) -> None:
    # First answers in working hours: 1, 2, 3, 4 and 9 (Friday 17:00 to Monday 17:00).
    await add_ticket(store, "a", moscow(23, 9), answered=moscow(23, 10), closed=True)
    await add_ticket(store, "b", moscow(23, 9), answered=moscow(23, 11), closed=True)
    await add_ticket(store, "c", moscow(23, 10), answered=moscow(23, 13))
    await add_ticket(store, "d", moscow(23, 12), answered=moscow(23, 16))
    await add_ticket(store, "e", moscow(20, 17), answered=moscow(23, 17))
    await add_ticket(store, "f", moscow(23, 15), deadline=moscow(24, 14))  # waiting, in time
    overdue = await add_ticket(store, "g", moscow(20, 9), deadline=moscow(20, 17))
    # Opened on Sunday and answered today: in the period of Monday's digest, not this one.
    await add_ticket(store, "h", moscow(22, 12), answered=moscow(24, 9, 30))

    assert await send_digest(store, texts, calendar, config, moscow(24, 10))
    [digest] = await deliver(store)
    assert digest.purpose is Purpose.DIGEST and digest.chat_id == STAFF_CHAT and digest.html
    assert digest.text.splitlines() == [
        "<b>Сводка за 23 ноября</b>",
        "Новых сообщений: 5",
        "Получили первый ответ: 5",
        "Время первого ответа (рабочее): медиана 3 ч, 90% — не дольше 9 ч",
        "Открыто сейчас: 6, из них ждут ответа: 2",
        "Просрочено сейчас: 1",
        f"№{overdue}",
    ]


async def test_monday_digest_covers_the_weekend_and_lists_overdue_with_a_cap(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig
) -> None:
    for n in range(23):
        await add_ticket(store, f"t{n}", moscow(20, 10), deadline=moscow(20, 18))
    assert await send_digest(store, texts, calendar, config, moscow(23, 9))
    [digest] = await deliver(store)
    lines = digest.text.splitlines()
    assert lines[0] == "<b>Сводка за 20 ноября — 22 ноября</b>"
    assert "Новых сообщений: 23" in lines
    assert "Время первого ответа: ответов за этот период не было" in lines
    assert lines[-1].startswith("№1, №2, ") and lines[-1].endswith("№20 и ещё 3")


async def test_digest_goes_once_a_day_even_across_restarts(
    tmp_path: Path, texts: Texts, calendar: WorkCalendar, config: DeskConfig
) -> None:
    path = tmp_path / "digest.sqlite3"
    first = SqliteStore(path)
    await first.open()
    assert await send_digest(first, texts, calendar, config, moscow(24, 9))
    assert not await send_digest(first, texts, calendar, config, moscow(24, 15))
    assert await first.get_state(STATE_KEY) == "2026-11-24"
    await first.close()

    again = SqliteStore(path)
    await again.open()
    try:
        assert not await send_digest(again, texts, calendar, config, moscow(24, 18))
        assert not await send_digest(again, texts, calendar, config, moscow(28, 10))  # Sat
        assert await send_digest(again, texts, calendar, config, moscow(25, 9))
        assert len(await again.due_outbox(FAR, 10)) == 2
    finally:
        await again.close()


def test_median_and_nearest_rank_percentile() -> None:
    hours = [timedelta(hours=h) for h in (4, 1, 3, 2)]
    assert median(hours) == timedelta(hours=2, minutes=30)
    assert percentile(hours, 0.9) == timedelta(hours=4)
    assert percentile(hours, 0.5) == timedelta(hours=2)
    assert median([]) is None and percentile([], 0.9) is None


# texts


def _keys(locale: str) -> set[str]:
    source = (DEFAULT_LOCALES / locale / "escalation.ftl").read_text(encoding="utf-8")
    resource = FluentParser().parse(source)
    assert not [e for e in resource.body if isinstance(e, ast.Junk)], f"{locale}: broken entry"
    return {e.id.name for e in resource.body if isinstance(e, ast.Message)}


def test_ru_and_en_define_the_same_escalation_keys() -> None:
    assert _keys("ru") == _keys("en")


async def test_english_texts_render(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig
) -> None:
    english = Texts("en")
    ticket = _ticket(deadline_at=moscow(24, 18), card_chat_id="-100500", card_message_id="9")
    for level in (1, 2, 3):
        assert "№1" in escalation_message(english, config, ticket, level, timedelta(hours=9)).text
    await add_ticket(store, "x", moscow(20, 10), deadline=moscow(20, 18))
    assert await send_digest(store, english, calendar, config, moscow(24, 9))
    [digest] = await deliver(store)
    assert digest.text.startswith("<b>Digest for November 23</b>")


# the scheduler


async def test_scheduler_sweeps_at_once_and_catches_up_on_the_digest(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, jobs: DeskScheduler
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    clock.moment = moscow(25, 10)  # past the deadline, and past today's 09:00 digest
    assert jobs._scheduler is None  # nothing scheduled before start()
    jobs.start()
    try:
        assert jobs._scheduler is not None
        assert str(jobs._scheduler.timezone) == "Europe/Moscow"
        sweep_job = jobs._scheduler.get_job("escalation-sweep")
        assert sweep_job.coalesce and sweep_job.max_instances == 1
        for _ in range(300):
            escalated = await store.ticket(ticket.id)
            if await store.get_state(STATE_KEY) and escalated and escalated.escalation_level:
                break
            await asyncio.sleep(0.01)
    finally:
        await jobs.stop()
    purposes = sorted(o.purpose.value for o in await deliver(store))
    assert purposes == ["digest", "escalation"]


# the benchmark, as a smoke test: it runs and escalates what is due (no timings asserted)


async def test_bench_sweep_escalates_every_due_ticket_through_the_index(tmp_path: Path) -> None:
    [row] = await bench_sweep(sizes=(2_000,), due=30, data=tmp_path)
    assert row["tickets"] == 2_000 and row["escalated"] == 30 and row["uses_index"]


async def test_scheduler_stop_lets_a_sweep_under_way_finish(
    jobs: DeskScheduler, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started, release, finished = asyncio.Event(), asyncio.Event(), []

    async def slow_sweep(*args: object) -> int:
        started.set()
        await release.wait()
        finished.append(True)
        return 0

    monkeypatch.setattr("scheduler.jobs.escalate_due", slow_sweep)
    jobs.start()
    await asyncio.wait_for(started.wait(), 5)
    stopping = asyncio.create_task(jobs.stop(timeout=5))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the sweep, not cutting it off
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert finished == [True]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
