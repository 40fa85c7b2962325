"""The audit trail: an entry for every staff action, written in the action's own transaction,
and `/audit №17` for supervisors only.

The desk's own rooms on the real SQLite store and an injected clock; once end to end, real
aiogram polling against the fake Bot API on both stores.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.audit import NAME_CHARS, TEXT_LIMIT, AuditDesk
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.model import Event, Inbound
from handlers.premises import Premises
from handlers.render import visible_length
from handlers.routing import parse_rules
from handlers.texts import Texts
from storage import SqliteStore
from storage.auditing import Actor, AuditAction, AuditEntry
from storage.values import Channel, Platform, Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT as TG_STAFF_CHAT
from tests.harness import Desk
from tests.test_e2e_telegram import card_of
from tests.test_escalation import FAR, deliver
from tests.test_incidents import HEATING, OTHER, card_message, write

SUPERVISORS = "-100900"
OPERATOR = "7"
CHIEF = "70"
RULES = parse_rules(
    '[[department]]\nkey = "housing"\nname = "ЖКХ"\nwords = ["отопление"]\n'
    '[[department]]\nkey = "roads"\nname = "Дороги"\nwords = ["яма"]\n', "rules.toml",
)
A = Actor.STAFF
E = AuditAction


def staff(text: str, reply_to: str | None, message_id: int = 900, *, chat: str = STAFF_CHAT,
          user: str = OPERATOR, name: str = "Оля <Ко> & Ко", **kw: Any) -> Inbound:
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=chat, author_id=user,
        author_name=name, message_id=str(message_id), text=text, html_text=text,
        reply_to=reply_to, is_staff_chat=True, **kw,
    )


def citizen(text: str, user: int = 42, message_id: int = 1) -> Inbound:
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=str(user),
        author_id=str(user), author_name="Иван Петров", message_id=str(message_id), text=text,
    )


def config(**changes: Any) -> DeskConfig:
    settings: dict[str, Any] = {"escalation_chat_id": SUPERVISORS, **changes}
    return DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        departments=RULES, incident_reports=5, **settings,
    )


@pytest.fixture
def front(store: SqliteStore, texts: Texts, clock: FixedClock) -> FrontDesk:
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    return FrontDesk(store, texts, calendar, config(), now=clock)


def actions(entries: list[AuditEntry]) -> list[tuple[str, str | None, str]]:
    return [(e.action.value, e.staff_id, e.detail) for e in entries]


async def card(store: SqliteStore, number: int) -> str:
    ticket = await store.ticket(number)
    assert ticket is not None and ticket.card_message_id is not None
    return ticket.card_message_id


async def ask(front: FrontDesk, store: SqliteStore, text: str, **kw: Any) -> str:
    """`/audit …` in a chat (the supervisors' unless told); the one reply it got."""
    reply_to = kw.pop("reply_to", None)
    await front.receive(staff(text, reply_to, 990, **{"chat": SUPERVISORS, "user": CHIEF,
                                                      "name": "Начальник", **kw}))
    [told] = [o for o in await deliver(store) if o.reply_to == "990"]
    assert told.html and told.ticket_id is None  # a reply to it answers no citizen
    return told.text


async def test_every_staff_action_on_a_ticket_is_recorded_by_whom_and_when(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await front.receive(citizen("Когда починят лифт?"))
    await deliver(store)
    first = await card(store, 1)
    steps: list[tuple[Inbound, datetime]] = [
        (staff("/take", first, 901, key="telegram:press:1"), clock.moment),  # «Взять»
        (staff("/take", first, 902, user="8", name="Петя"), clock.moment + timedelta(minutes=1)),
        (staff("Лифт починят завтра.", first, 903), clock.moment + timedelta(minutes=2)),
        (staff("/template 1", first, 904), clock.moment + timedelta(minutes=3)),
        (staff("/interim 3 ждём запчасть", first, 905), clock.moment + timedelta(minutes=4)),
        (staff("/move roads", first, 906), clock.moment + timedelta(minutes=5)),
    ]
    for inbound, moment in steps:
        clock.moment = moment
        await front.receive(inbound)
    await deliver(store)
    moved = await card(store, 1)  # the card is posted anew in the department's place
    clock.advance(minutes=1)
    await front.receive(staff("/move -", moved, 907))
    clock.advance(minutes=1)
    await front.receive(replace(staff("Лифт починят в среду.", first, 903),
                                event=Event.EDITED))
    for n, command in enumerate(("/block", "/unblock", "/close", "/close"), start=908):
        clock.advance(minutes=1)
        await front.receive(staff(command, first, n))
    closing = [o for o in await deliver(store) if o.purpose is Purpose.CLOSING]
    assert closing and closing[0].buttons  # answered, so asked for a rating
    clock.advance(minutes=1)
    for score in (2, 2, 4):  # a double tap is not a second entry
        await front.rate(replace(citizen(f"rate:1:{score}", message_id=6000 + score),
                                 key=f"telegram:rate:42:{score}"))
    entries = await store.audit_of_ticket(1)
    assert actions(entries) == [
        ("taken", OPERATOR, ""), ("taken", "8", "Оля <Ко> & Ко"), ("answered", OPERATOR, ""),
        ("answered", OPERATOR, ""), ("interim", OPERATOR, "3"),
        ("moved", OPERATOR, "- → roads"), ("moved", OPERATOR, "roads → -"),
        ("corrected", OPERATOR, ""), ("blocked", OPERATOR, ""), ("unblocked", OPERATOR, ""),
        ("closed", OPERATOR, ""), ("rated", None, "2"), ("rated", None, "4"),
    ]  # the second /close closed nothing: no entry
    assert [e.at for e in entries[:6]] == [moment for _, moment in steps]
    assert entries[1].staff_name == "Петя" and entries[0].staff_name == "Оля <Ко> & Ко"
    assert {e.actor for e in entries[-2:]} == {Actor.CITIZEN}
    assert all(e.staff_name == "" for e in entries[-2:])
    assert all(e.ticket_id == 1 and e.incident_id is None for e in entries)
    # No citizen's words anywhere in it: neither their message nor the answers' text.
    words = " ".join(f"{e.staff_name} {e.detail}" for e in entries)
    assert "лифт" not in words.lower() and "Иван" not in words


async def test_incident_actions_are_recorded_on_the_incident_and_on_each_ticket(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await write(front, clock, ["У дома 3 яма на дороге"], 700)  # №1, not one of them
    await write(front, clock, OTHER, 500, minute=1)
    await write(front, clock, HEATING[:5], 100, minute=10)  # №5–№9 suggested as one
    await deliver(store)
    incident = 1
    assert await store.incident(incident) is not None
    await front.receive(staff("/merge", await card_message(store, incident), 920))
    await deliver(store)
    opened = await card_message(store, incident)
    await front.receive(staff("/title Нет отопления на Ленина", opened, 921))
    await front.receive(staff(f"/join И-{incident}", await card(store, 1), 922))
    await front.receive(staff("Бригада на месте", opened, 923))
    await front.receive(staff("/apart 9", opened, 924))
    await front.receive(staff("/close", opened, 925))
    await deliver(store)
    found = [e async for e in store.audit_between(clock.moment - timedelta(days=1), FAR)]
    on_incident = [(e.action.value, e.detail) for e in found if e.ticket_id is None]
    assert on_incident == [
        ("incident_merged", ""), ("incident_titled", ""), ("incident_answered", "6"),
        ("incident_closed", "5"),
    ]
    assert all(e.incident_id == incident and e.staff_id == OPERATOR for e in found)
    by_ticket = await store.audit_for_tickets([1, 5, 9, 99])
    assert sorted(by_ticket) == [1, 5, 9]
    assert [e.action for e in by_ticket[1]] == [E.JOINED, E.ANSWERED, E.CLOSED]
    assert [e.action for e in by_ticket[5]] == [E.ANSWERED, E.CLOSED]
    assert [e.action for e in by_ticket[9]] == [E.ANSWERED, E.TAKEN_OUT]  # then out of it


async def test_a_dismissed_suggestion_is_recorded(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await write(front, clock, HEATING[:5], 100)
    await deliver(store)
    await front.receive(staff("/apart", await card_message(store, 1), 930))
    [entry] = [e async for e in store.audit_between(clock.moment - timedelta(days=1), FAR)]
    assert (entry.action, entry.incident_id, entry.detail) == (E.INCIDENT_DISMISSED, 1, "5")


async def test_an_action_whose_transaction_fails_leaves_no_entry_and_no_change(
    front: FrontDesk, store: SqliteStore, tmp_path: Path
) -> None:
    await front.receive(citizen("Не горит фонарь"))
    await deliver(store)
    first = await card(store, 1)
    db = sqlite3.connect(tmp_path / "desk.sqlite3")
    # The database refuses what comes after the entry: staff's «№1 закрыто.» notice.
    db.execute("CREATE TRIGGER refuse AFTER INSERT ON outbox WHEN NEW.purpose = "
               "'staff_notice' BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.commit()
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        await front.receive(staff("/close", first, 940))
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.is_open
    assert await store.audit_of_ticket(1) == []
    # And the other way round: an entry the database refuses takes its action with it.
    db.execute("DROP TRIGGER refuse")
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON audit "
               "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.commit()
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        await front.receive(staff("Фонарь заменят сегодня.", first, 941))
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.first_answer_at is None
    assert await deliver(store) == [] and len(await store.messages(1)) == 1
    db.execute("DROP TRIGGER refuse")
    db.commit()
    db.close()
    await front.receive(staff("/close", first, 942))  # with the database well again
    assert actions(await store.audit_of_ticket(1)) == [("closed", OPERATOR, "")]


async def test_audit_shows_a_supervisor_the_entries_in_local_time(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await front.receive(citizen("Яма у подъезда"))
    await deliver(store)
    first = await card(store, 1)
    await front.receive(staff("Засыплем до пятницы.", first, 950))
    clock.advance(minutes=5)
    await front.receive(staff("/close", first, 951))
    await deliver(store)
    for asked in ("/audit №1", "/audit 1", "/audit № 1", "/audit@frontdesk_bot №1"):
        told = await ask(front, store, asked)
        assert told.split("\n") == [
            "Журнал действий по сообщению №1 (записей: 2), время местное:",
            "24.11.2026 10:00 · Оля &lt;Ко&gt; &amp; Ко (id 7) · ответ",
            "24.11.2026 10:05 · Оля &lt;Ко&gt; &amp; Ко (id 7) · закрыто",
        ]


async def test_audit_is_refused_to_everyone_but_supervisors(
    front: FrontDesk, store: SqliteStore, texts: Texts
) -> None:
    await front.receive(citizen("Яма у подъезда"))
    await deliver(store)
    await front.receive(staff("/close", await card(store, 1), 960))
    await deliver(store)
    refused = texts.get("audit-refused")
    assert "руководител" in refused
    # The staff chat, a department's chat: not the supervisors' chat.
    assert await ask(front, store, "/audit №1", chat=STAFF_CHAT, user=OPERATOR) == refused
    assert await ask(front, store, "/audit №1", chat="-100777") == refused
    # The supervisors' chat with STAFF_USER_IDS: those on it (and anonymous admins) only.
    front.premises.config = config(staff_user_ids=frozenset({OPERATOR, CHIEF}))
    assert "закрыто" in await ask(front, store, "/audit №1")
    assert "закрыто" in await ask(front, store, "/audit №1", user=SUPERVISORS,
                                  name="администратор")
    assert await ask(front, store, "/audit №1", user="71") == refused
    # No supervisors' chat: the staff chat is theirs (escalations and low ratings go there).
    front.premises.config = config(escalation_chat_id="")
    shown = await ask(front, store, "/audit №1", chat=STAFF_CHAT)
    assert "закрыто" in shown
    # `/audit` as a reply to the card there: that ticket's.
    assert await ask(front, store, "/audit", chat=STAFF_CHAT, reply_to=await card(store, 1)) \
        == shown
    assert await ask(front, store, "/audit №1") == refused


async def test_audit_of_an_unknown_number_or_a_ticket_without_entries(
    front: FrontDesk, store: SqliteStore
) -> None:
    await front.receive(citizen("Яма у подъезда"))
    await deliver(store)
    assert await ask(front, store, "/audit №1") == (
        "По сообщению №1 действий сотрудников пока нет.")
    assert await ask(front, store, "/audit №17") == "Сообщения №17 нет."
    usage = "Напишите номер сообщения: /audit №17 (или ответьте /audit на его карточку)."
    for asked in ("/audit", "/audit семнадцать", "/audit 99999999999"):
        assert await ask(front, store, asked) == usage


async def test_a_long_history_fits_one_message_with_the_oldest_counted(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await front.receive(citizen("Яма у подъезда"))
    await deliver(store)
    first = await card(store, 1)
    long_name = "Иванова-Петровская " * 10
    for n in range(120):
        clock.advance(minutes=1)
        await front.receive(staff("/take", first, 1000 + n, user=str(100 + n), name=long_name))
    await deliver(store)
    told = await ask(front, store, "/audit №1")
    lines = told.split("\n")
    assert len(told) <= TEXT_LIMIT < 4096
    assert lines[0] == "Журнал действий по сообщению №1 (записей: 120), время местное:"
    left_out = int(lines[1].removeprefix("Более ранние записи не поместились: ").rstrip("."))
    assert left_out == 120 - len(lines[2:]) and left_out > 0
    cut = " ".join(long_name.split())[:NAME_CHARS - 1] + "…"  # names are cut in a line
    assert lines[-1] == f"24.11.2026 12:00 · {cut} (id 219) · взято в работу (раньше: {cut})"


async def test_a_long_history_of_emoji_names_fits_as_telegram_counts(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await front.receive(citizen("Яма у подъезда"))
    await deliver(store)
    first = await card(store, 1)
    for n in range(80):  # an emoji is two of Telegram's characters (UTF-16 units)
        clock.advance(minutes=1)
        await front.receive(staff("/take", first, 1000 + n, user=str(100 + n), name="🌻" * 60))
    await deliver(store)
    told = await ask(front, store, "/audit №1")
    assert visible_length(told) <= TEXT_LIMIT


async def test_both_locales_have_words_for_every_action(store: SqliteStore) -> None:
    for locale in ("ru", "en"):
        texts = Texts(locale)
        desk = AuditDesk(Premises(store, texts, WorkCalendar(
            BusinessHours.parse("24/7"), MOSCOW), config(), lambda: FAR))
        at = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
        for action in AuditAction:
            entry = AuditEntry(at=at, action=action, staff_id="7", staff_name="Оля",
                               ticket_id=1, incident_id=3, detail="5")
            line = desk.line(entry)
            assert line.startswith("04.12.2026 12:30 · Оля (id 7) · "), line
        assert texts.get("audit-refused") and texts.get("audit-usage")


OPERATOR_TG = 7001
CITIZEN_TG = 5557001
SUPERVISORS_TG = -1001000000009


@pytest.mark.usefixtures("either_store")
async def test_end_to_end_a_pressed_close_and_an_answer_are_shown_to_a_supervisor(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg:
        tg.add_group(TG_STAFF_CHAT, "Операторы")
        tg.add_group(SUPERVISORS_TG, "Руководители")
        async with Desk(tg.base_url, tmp_path / "d.sqlite3",
                        escalation_chat_id=SUPERVISORS_TG) as desk:
            tg.push_update(tg.private_text(CITIZEN_TG, "Не вывозят мусор"))
            found = await card_of(tg, 1)
            tg.push_update(tg.group_text(TG_STAFF_CHAT, OPERATOR_TG, "Вывезем сегодня.",
                                         reply_to=found, first_name="Оля"))
            await tg.wait_sent(2, chat_id=CITIZEN_TG)
            tg.push_update(tg.callback_query(OPERATOR_TG, "do:/close",
                                             message=found["message_id"],
                                             chat_id=TG_STAFF_CHAT, first_name="Оля"))
            await tg.wait_sent(3, chat_id=CITIZEN_TG)  # the closing message
            # Asked in the staff chat: refused; in the supervisors' chat: shown.
            tg.push_update(tg.group_text(TG_STAFF_CHAT, OPERATOR_TG, "/audit №1"))
            tg.push_update(tg.group_text(SUPERVISORS_TG, OPERATOR_TG + 1, "/audit №1"))
            [shown] = await tg.wait_sent(1, chat_id=SUPERVISORS_TG)
            lines = shown["message"]["text"].split("\n")
            assert lines[0].startswith("Журнал действий по сообщению №1 (записей: 2)")
            assert [line.split(" · ", 1)[1] for line in lines[1:]] == [
                f"Оля (id {OPERATOR_TG}) · ответ", f"Оля (id {OPERATOR_TG}) · закрыто"]
            await tg.wait_for(lambda: any(
                "только руководителям" in (r["message"].get("text") or "")
                for r in tg.sent(TG_STAFF_CHAT)))
            assert desk.app is not None
            entries = await desk.app.store.audit_of_ticket(1)
            assert [e.action for e in entries] == [E.ANSWERED, E.CLOSED]
            assert {e.staff_id for e in entries} == {str(OPERATOR_TG)}
