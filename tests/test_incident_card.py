"""An incident's card in a storm: reporters beyond the first few fold into it, and its edits
go at most once a stretch, in order, the last one saying all.

On an injected clock and the real store; the storm against the fake Bot API enforcing
Telegram's limits is in tests/test_e2e_incidents.py and `make bench`.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.sender import Sender
from bot.telegram.delivery import TelegramDelivery
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.feedback import DeliveryFeedback
from handlers.incident_card import (
    ALARMS_EACH,
    LATEST,
    LINES_EACH,
    LIST_PARTS,
    Lines,
    edit_at,
)
from handlers.render import visible_length
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.fakes.telegram import FakeTelegram
from tests.test_escalation import citizen, deliver, moscow, staff
from tests.test_incidents import card_message, deliver_with_ids, merged, suggested

STORM = 12


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        incident_reports=5,
    )


def desk(store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock) -> FrontDesk:
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    return FrontDesk(store, texts, calendar, config, now=clock)


@pytest.fixture
def front(store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock) -> FrontDesk:
    return desk(store, texts, config, clock)


def joined_lines(sent: list[Outbound]) -> list[Outbound]:
    return [o for o in sent if o.purpose is Purpose.STAFF_NOTICE and "ещё сообщение" in o.text]


def card_edits(sent: list[Outbound]) -> list[Outbound]:
    return [o for o in sent if o.purpose is Purpose.INCIDENT_CARD and o.edits]


async def storm(front: FrontDesk, clock: FixedClock, count: int, first_user: int,
                texts: list[str] | None = None) -> None:
    """`count` more citizens write about the heating on Lenina street, a second apart."""
    for n in range(count):
        clock.advance(seconds=1)
        text = texts[n] if texts else f"Ленина {n + 1}: не топят, батареи холодные"
        await front.receive(citizen(text, user=first_user + n, message_id=first_user + n))


async def test_beyond_the_first_few_reporters_fold_into_the_card(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)  # tickets №4…№8; the others are №1…№3
    await storm(front, clock, STORM, 4000)
    sent = await deliver(store)
    # Every reporter is acknowledged as one of the incident's.
    acks = [o for o in sent if o.purpose is Purpose.ACK]
    assert len(acks) == STORM and all("Мы знаем об этой проблеме" in o.text for o in acks)
    # The first LINES_EACH have a line under the card; the rest none, only the card.
    lines = joined_lines(sent)
    assert [o.ticket_id for o in lines] == list(range(9, 9 + LINES_EACH))
    last = card_edits(sent)[-1]
    folded = STORM - LINES_EACH
    assert f"{5 + STORM} сообщений (Telegram: {5 + STORM}, ВКонтакте: 0)" in last.text
    assert f"Ещё {folded} сообщений присоединилось без отдельной строки" in last.text
    latest = list(range(8 + STORM - LATEST + 1, 8 + STORM + 1))
    quoted = [line for line in last.text.split("\n") if line.startswith("— №")]
    assert [int(q.split(":")[0].removeprefix("— №")) for q in quoted] == latest
    assert quoted[-1].endswith(f"Ленина {STORM}: не топят, батареи холодные")
    async with store.transaction() as tx:
        members = await tx.incident_tickets(incident)
    assert len(members) == 5 + STORM


async def test_after_a_quiet_while_a_reporter_has_a_line_again(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await merged(front, store, clock)
    await storm(front, clock, LINES_EACH + 2, 4000)
    assert len(joined_lines(await deliver(store))) == LINES_EACH
    clock.advance(minutes=11)
    await storm(front, clock, 1, 4100, ["ул. Ленина 40, отопления нет, батареи холодные"])
    [line] = joined_lines(await deliver(store))
    assert line.text.endswith("ул. Ленина 40, отопления нет, батареи холодные")
    await storm(front, clock, LINES_EACH + 1, 4200)
    assert len(joined_lines(await deliver(store))) == LINES_EACH - 1
    clock.advance(hours=-1)  # the clock stepped back: a window starts there
    await storm(front, clock, 1, 4300)
    assert len(joined_lines(await deliver(store))) == 1


async def test_a_folded_reporter_taken_out_gets_a_card_and_leaves_the_quotes(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(front, store, clock)
    await storm(front, clock, LINES_EACH + 2, 4000)
    await deliver(store)
    folded = 8 + LINES_EACH + 2  # the last one, quoted on the card
    await front.receive(staff(f"/apart {folded}", await card_message(store, incident), 1200))
    sent = await deliver(store)
    [card] = [o for o in sent if o.purpose is Purpose.CARD and o.ticket_id == folded]
    assert "Ленина 7: не топят" in card.text
    [edit] = card_edits(sent)  # the card counts one fewer and quotes it no more
    assert f"— №{folded}:" not in edit.text and f"— №{folded - 1}:" in edit.text
    assert f"{5 + LINES_EACH + 1} сообщений" in edit.text


async def test_a_citizens_markup_on_the_card_is_shown_as_text(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await merged(front, store, clock)
    hostile = "<b>Ленина</b> не топят & батареи холодные <a href='x'>"
    await storm(front, clock, LINES_EACH + 1, 4000,
                [f"Ленина {n}: не топят, батареи холодные" for n in range(LINES_EACH)]
                + [hostile])
    last = card_edits(await deliver(store))[-1]
    assert "&lt;b&gt;Ленина&lt;/b&gt; не топят &amp; батареи холодные &lt;a href=" in last.text


@pytest.fixture
def paced(store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock) -> FrontDesk:
    """The desk as composed with PACING=on: the card's edits every 10 s."""
    return desk(store, texts, replace(config, card_edit_every=timedelta(seconds=10)), clock)


def test_edits_of_one_stretch_go_at_its_end(config: DeskConfig) -> None:
    assert edit_at(config, datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC)) is None
    every = replace(config, card_edit_every=timedelta(seconds=10))
    end = datetime(2026, 12, 3, 12, 0, 10, tzinfo=UTC)
    assert edit_at(every, datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC)) == end
    assert edit_at(every, datetime(2026, 12, 3, 12, 0, 9, 500000, tzinfo=UTC)) == end
    assert edit_at(every, end) == end


async def test_paced_the_count_waits_for_the_stretch_and_only_the_latest_edit_waits(
    paced: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident = await merged(paced, store, clock)
    card = await card_message(store, incident)
    clock.moment = moscow(26, 10, 30).astimezone(UTC)
    await storm(paced, clock, 3, 4000)  # 10:30:01 … 10:30:03
    await paced.receive(staff("/close", card, 1300))
    end = moscow(26, 10, 30).astimezone(UTC) + timedelta(seconds=10)
    early = await store.due_outbox(end - timedelta(milliseconds=1), 1000)
    assert not card_edits([i.outbound for i in early])
    # One edit waits, the latest, at the stretch's end: the closed card, without buttons.
    [edit] = card_edits([i.outbound for i in await store.due_outbox(end, 1000)])
    assert edit.edits == card and edit.buttons == ()
    assert edit.text.endswith("Закрыто: все сообщения закрыты, гражданам сообщено.")
    assert "8 сообщений (Telegram: 8, ВКонтакте: 0)" in edit.text


def test_a_damaged_record_of_lines_starts_anew() -> None:
    for value in (None, "", "[]", "{not json", '{"since": "x"}', '{"latest": 5}'):
        assert Lines.parse(value) == Lines()
    state = Lines(since=1.5, lines=2, folded=7, latest=[3, 4])
    assert Lines.parse(state.dump()) == state


async def test_a_card_closed_before_it_was_posted_is_edited_to_closed_once_out(
    front: FrontDesk, store: SqliteStore, texts: Texts, config: DeskConfig, clock: FixedClock,
) -> None:
    """Staff close the incident while its new card still waits in the outbox (a paced or
    failing staff chat): once it is out, an edit makes it say closed, without buttons."""
    card = await suggested(front, store, clock)
    assert card.incident is not None
    suggestion = await card_message(store, card.incident)
    await front.receive(staff("/merge", suggestion))
    await front.receive(staff("/close", suggestion, 901))
    async with FakeTelegram() as tg, tg.bot() as bot:
        tg.add_group(int(STAFF_CHAT), "Операторы")
        for user in [*range(100, 105), *range(500, 503)]:
            tg.start_private_chat(user)
        sender = Sender(store, {Platform.TELEGRAM: TelegramDelivery(bot, store)},
                        DeliveryFeedback(store, texts, config), changed=store.changed)
        task = asyncio.create_task(sender.run())
        try:
            def closed_card() -> bool:
                posted = [r for r in tg.sent(int(STAFF_CHAT))
                          if r["message"].get("text", "").startswith("№И-")]
                message = tg.message(int(STAFF_CHAT), posted[0]["message"]["message_id"]) \
                    if posted else None
                return bool(message) and "reply_markup" not in message and \
                    message["text"].endswith("гражданам сообщено.")
            await tg.wait_for(closed_card, timeout=20)
        finally:
            sender.stop()
            await task


async def test_a_reporter_who_tells_of_a_danger_has_a_line_even_in_a_storm(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await merged(front, store, clock)
    await storm(front, clock, LINES_EACH + 2, 4000)
    await deliver(store)
    await storm(front, clock, 1, 4100, ["Ленина 9: не топят, и в подъезде пахнет газом!"])
    [line] = joined_lines(await deliver(store))
    assert line.text.endswith("Ленина 9: не топят, и в подъезде пахнет газом!")


async def listed(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, texts: list[str]
) -> tuple[int, str]:
    """A merged incident that these citizens joined, and `/list` replying to its card: the
    incident and its card; the list's parts still queued."""
    incident = await merged(front, store, clock)
    await storm(front, clock, len(texts), 4000, texts)
    await deliver(store)
    card = await card_message(store, incident)
    await front.receive(staff("/list", card, 1500))
    return incident, card


async def test_list_on_the_card_names_every_reporter_and_each_can_be_answered(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident, _ = await listed(front, store, clock, [
        f"Ленина {n}: не топят, батареи холодные. " + "ж" * 90 for n in range(60)])
    lists = [(o, i) for o, i in await deliver_with_ids(store)
             if o.purpose is Purpose.STAFF_NOTICE]
    assert len(lists) > 1 and all(len(o.text) < 4096 for o, _ in lists)
    assert lists[0][0].text.startswith(f"<b>№И-{incident}: все сообщения (65), часть 1 из ")
    named = [n for o, _ in lists for n in o.refers]
    assert named == list(range(4, 9)) + list(range(9, 69))
    # «№40 …» replying to a part of the list answers that citizen alone.
    [part_id] = [i for o, i in lists if 40 in o.refers]
    await front.receive(staff("№40 Бригада придёт к вам в 15:00", str(part_id), 1501))
    answers = [o for o in await deliver(store) if o.purpose is Purpose.ANSWER]
    assert [o.ticket_id for o in answers] == [40]


async def test_reporters_who_all_tell_of_a_danger_still_fold_past_a_few(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await merged(front, store, clock)
    await storm(front, clock, 20, 4000, [f"Ленина {n}: не топят, прорвало трубу, кипяток"
                                          for n in range(20)])
    assert len(joined_lines(await deliver(store))) == LINES_EACH + ALARMS_EACH


async def test_apart_on_a_suggestion_leaves_its_card_as_it_is(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    card = await suggested(front, store, clock)
    assert card.incident is not None
    await front.receive(staff("/apart 5", await card_message(store, card.incident), 1500))
    assert not card_edits(await deliver(store))  # its «Объединить» and «Это разные» stay


async def test_a_long_list_goes_a_few_parts_at_a_time_each_within_telegrams_limit(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    incident, card = await listed(front, store, clock, [
        f"Ленина {n}: не топят 🥶🥶 " + "🔥" * 100 for n in range(200)])
    first = [o for o in await deliver(store) if o.purpose is Purpose.STAFF_NOTICE]
    assert len(first) == LIST_PARTS
    assert all(visible_length(o.text) < 4096 for o in first)
    assert first[-1].text.endswith(f"Дальше: «/list {LIST_PARTS + 1}» в ответ на карточку.")
    await front.receive(staff(f"/list {LIST_PARTS + 1}", card, 1501))
    rest = [o for o in await deliver(store) if o.purpose is Purpose.STAFF_NOTICE]
    named = [n for o in [*first, *rest] for n in o.refers]
    assert rest and named[0] == 4 and len(set(named)) == len(named)
    assert rest[0].text.startswith(f"<b>№И-{incident}: все сообщения (205), часть "
                                   f"{LIST_PARTS + 1} из ")
