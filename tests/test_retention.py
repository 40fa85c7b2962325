"""Personal data's retention: the nightly run on an injected clock anonymizes exactly the
closed tickets past RETENTION_DAYS, with every copy of their citizens' data, and nothing open
or recently closed; raw payloads go after PAYLOAD_DAYS while de-duplication still holds; an
update from a chat the desk does not serve keeps nothing, and the position moves on.

The store's part runs on both backends (SQLite and PostgreSQL), through the store's interface;
the whole store is then searched, table by table, for the citizens' names, ids and texts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.telegram.served import ServedChats
from handlers import retention
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.retention import apply_retention
from handlers.routing import parse_rules
from handlers.texts import Texts
from scheduler.jobs import DeskScheduler
from storage import MessageRecord, NewTicket, Store, Ticket
from storage.sql.connection import SqlConnection
from storage.values import Attachment, Channel, Outbound, Platform, Purpose
from tests.contract.backends import BACKENDS, Backend, BackendFactory
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT, Desk, store_rows
from tests.test_e2e_vk import polling

STAFF = str(STAFF_CHAT)
NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=1200)  # past RETENTION_DAYS (1095)
LATER = NOW + timedelta(days=8)  # the run's clock: past PAYLOAD_DAYS (7) for what is kept now


@pytest.fixture(params=BACKENDS, ids=lambda factory: factory.__name__)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    factory: BackendFactory = request.param
    backend: Backend
    async with factory(tmp_path) as backend:
        opened = backend.make()
        await opened.open()
        try:
            yield opened
        finally:
            await opened.close()


class Citizen:
    """A citizen with words of their own that can be searched for after."""

    def __init__(self, n: int, platform: Platform = Platform.TELEGRAM) -> None:
        self.id = f"777{n:04d}"
        self.name = f"Гражданка{n} Тайная"
        self.text = f"секретный-текст-{n}"
        self.file = f"FILE-ID-{n}"
        self.platform = platform

    @property
    def words(self) -> tuple[str, ...]:
        return self.id, self.name, self.text, self.file


async def file_ticket(
    store: Store, who: Citizen, *, opened: datetime, closed: datetime | None,
    rating: int | None = None,
) -> Ticket:
    """A ticket with every copy the desk makes: its messages both ways, the citizen's raw
    update in the inbox (handled), the acknowledgement, the card (names the citizen), the
    answer and the closing message in the outbox, all sent."""
    async with store.transaction() as tx:
        ticket = await tx.create_ticket(NewTicket(
            platform=who.platform, channel=Channel.DIRECT, chat_id=who.id,
            conversation=who.id, citizen_id=who.id, citizen_name=who.name,
            citizen_link=f"tg://user?id={who.id}", thread_id=None, reply_to="5",
            link="", summary=who.text, opened_at=opened,
            deadline_at=opened + timedelta(hours=8), category="roads",
        ))
        await tx.add_message(MessageRecord(
            ticket.id, "in", opened, text=who.text, author=who.name,
            attachments=(Attachment("photo", who.file, name="фото"),),
            source_key=f"telegram:{who.id}:5", platform_message_id="5",
        ))
        await tx.add_message(MessageRecord(
            ticket.id, "out", opened + timedelta(hours=1), text=f"Ответ для {who.name}",
            author="Сотрудник Петров",
        ))
        await tx.answered(ticket.id, opened + timedelta(hours=1))
        rows = [
            await tx.enqueue(Outbound(who.platform, who.id, Purpose.ACK, f"№{ticket.id}",
                                      ticket_id=ticket.id)),
            await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF, Purpose.CARD,
                                      f"{who.name}: {who.text}", ticket_id=ticket.id)),
            await tx.enqueue(Outbound(who.platform, who.id, Purpose.ANSWER,
                                      f"Ответ для {who.name}", ticket_id=ticket.id)),
        ]
        if closed is not None:
            await tx.close_ticket(ticket.id, closed)
            rows.append(await tx.enqueue(Outbound(
                who.platform, who.id, Purpose.CLOSING, f"№{ticket.id}", ticket_id=ticket.id)))
        if rating is not None:
            await tx.rate(ticket.id, rating, closed or opened)
    update_id = int(who.id[-4:])  # Telegram's count of updates: nobody's id
    update = {"update_id": update_id, "message": {
        "chat": {"id": int(who.id), "type": "private"}, "from": {"id": int(who.id)},
        "text": who.text, "photo": [{"file_id": who.file}]}}
    await store.put_inbox("telegram", [(f"telegram:{update_id}:d", json.dumps(update))])
    [item] = [i for i in await store.pending_inbox("telegram", 100)
              if i.source == f"telegram:{update_id}:d"]
    await store.finish_inbox_many([item.id], {})
    for row in await store.due_outbox(LATER, 100):
        if row.id in rows:
            await store.outbox_sent(row, ["900"])
    found = await store.ticket(ticket.id)
    assert found is not None
    return found


async def everything(store: Store) -> str:
    """Every row of every table of the store, as one text to search."""
    assert isinstance(store, SqlConnection)
    try:
        names = await store._fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    except Exception:  # SQLite
        names = await store._fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    rows: list[Any] = []
    for (name,) in names:
        rows += await store._fetchall(f"SELECT * FROM {name}")  # noqa: S608
    return "\n".join(str(row) for row in rows)


async def test_retention_anonymizes_old_closed_tickets_everywhere_and_nothing_else(
    store: Store,
) -> None:
    old, still_open, recent = Citizen(1), Citizen(2), Citizen(3)
    gone = await file_ticket(store, old, opened=LONG_AGO, closed=LONG_AGO + timedelta(days=1),
                             rating=4)
    kept_open = await file_ticket(store, still_open, opened=LONG_AGO, closed=None)
    kept_recent = await file_ticket(store, recent, opened=NOW - timedelta(days=30),
                                    closed=NOW - timedelta(days=29))

    run = await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    assert run.anonymized == 1 and run.complete
    dump = await everything(store)
    for word in old.words:
        assert word not in dump, f"{word!r} is still in the store"
    after = await store.ticket(gone.id)
    assert after is not None
    # The figures stay.
    assert (after.id, after.platform, after.channel, after.category, after.status) == (
        gone.id, gone.platform, gone.channel, gone.category, "closed")
    assert (after.opened_at, after.first_answer_at, after.closed_at) == (
        gone.opened_at, gone.first_answer_at, gone.closed_at)
    assert (after.citizen_id, after.citizen_name, after.summary) == ("", "", "")
    assert await store.ratings_between(LONG_AGO, LATER) == [("roads", 4)]
    messages = await store.messages(gone.id)
    assert [(m.direction, m.text, m.attachments) for m in messages] == [
        ("in", "", ()), ("out", "", ())]
    # Open and recently closed tickets keep all they had, whenever they were opened.
    assert await store.ticket(kept_open.id) == kept_open
    assert await store.ticket(kept_recent.id) == kept_recent
    for who in (still_open, recent):
        assert {m.text for m in await store.messages((await _of(store, who)).id)} >= {who.text}
    # A second run finds nothing left.
    again = await apply_retention(store, LATER, retention_days=1095, payload_days=7)
    assert (again.anonymized, again.inbox_pruned, again.outbox_pruned) == (0, 0, 0)


async def _of(store: Store, who: Citizen) -> Ticket:
    async with store.transaction() as tx:
        tickets = await tx.citizen_tickets(who.platform, who.id, 10)
    if tickets:
        return tickets[0]
    found = [t for t in await store.tickets_between(LONG_AGO, LATER) if t.citizen_id == who.id]
    return found[0]


async def test_retention_works_in_batches_and_leaves_pending_rows_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    citizens = [Citizen(10 + n) for n in range(5)]
    for who in citizens:
        await file_ticket(store, who, opened=LONG_AGO, closed=LONG_AGO + timedelta(hours=2))
    # A message to the first citizen still waiting for the sender: it keeps what it needs.
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(Platform.TELEGRAM, citizens[0].id, Purpose.NOTICE,
                                  f"ещё не отправлено {citizens[0].name}"))
    # And an update not handled yet.
    await store.put_inbox("telegram", [("telegram:pending", json.dumps({"text": "ждёт"}))])

    run = await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    assert run.anonymized == 5
    [pending] = await store.due_outbox(LATER, 100)
    assert pending.outbound.chat_id == citizens[0].id
    assert citizens[0].name in pending.outbound.text
    [waiting] = await store.pending_inbox("telegram", 10)
    assert json.loads(waiting.payload) == {"text": "ждёт"}
    dump = await everything(store)
    for who in citizens[1:]:
        assert not any(word in dump for word in who.words)


async def test_a_stop_between_batches_leaves_the_rest_for_the_next_run(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    for n in range(5):
        await file_ticket(store, Citizen(30 + n), opened=LONG_AGO, closed=LONG_AGO)
    batches = iter([False, True])  # stop after the first batch

    cut = await apply_retention(store, LATER, retention_days=1095, payload_days=7,
                                stopping=lambda: next(batches, True))
    rest = await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    assert (cut.anonymized, cut.complete) == (2, False)
    assert (rest.anonymized, rest.complete) == (3, True)


async def test_a_pruned_update_delivered_again_is_not_handled_twice(store: Store) -> None:
    update = json.dumps({"update_id": 5, "message": {"text": "секрет"}})
    await store.put_inbox("telegram", [("telegram:5:abc", update)])
    [item] = await store.pending_inbox("telegram", 10)
    await store.finish_inbox_many([item.id], {})

    run = await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    assert run.inbox_pruned == 1
    assert "секрет" not in await everything(store)
    assert await store.put_inbox("telegram", [("telegram:5:abc", update)]) == 0
    assert await store.pending_inbox("telegram", 10) == []


async def test_payloads_younger_than_payload_days_stay(store: Store) -> None:
    who = Citizen(40)
    await file_ticket(store, who, opened=NOW, closed=None)

    run = await apply_retention(store, NOW + timedelta(days=6), retention_days=1095,
                                payload_days=7)

    assert (run.inbox_pruned, run.outbox_pruned) == (0, 0)
    assert who.text in await everything(store)


async def test_the_block_list_stays_while_the_block_stands(store: Store) -> None:
    blocked, unblocked = Citizen(50), Citizen(51)
    async with store.transaction() as tx:
        await tx.set_blocked(Platform.TELEGRAM, blocked.id, True)
        await tx.set_blocked(Platform.TELEGRAM, unblocked.id, True)
        await tx.set_blocked(Platform.TELEGRAM, unblocked.id, False)

    run = await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    assert run.citizens_dropped == 1
    dump = await everything(store)
    assert blocked.id in dump and unblocked.id not in dump
    async with store.transaction() as tx:
        state = await tx.intake_state("x", Platform.TELEGRAM, blocked.id, blocked.id)
    assert state.blocked


async def test_an_update_from_a_chat_the_desk_does_not_serve_keeps_nothing(
    tg: FakeTelegram, tmp_path: Path,
) -> None:
    other = tg.add_group(-1001000000777, "Соседи по дому")["id"]
    talk = tg.push_update(tg.group_text(other, 7101, "Мой телефон +79990001122"))
    contact = tg.push_update(tg.message_update(other, 7102, contact={
        "phone_number": "+79990003344", "first_name": "Сосед"}))
    ask = tg.group_text(other, 7103, "/id")
    tg.set_member(other, 7103, "administrator")
    asked = tg.push_update(ask)
    staff = tg.push_update(tg.group_text(STAFF_CHAT, 7104, "обед в 13:00"))
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3"):
        await tg.wait_for(lambda: tg.sent(other))
        await tg.wait_for(lambda: tg.confirmed_offset > staff)
        rows = await store_rows(tmp_path / "desk.sqlite3",
                                "SELECT source, payload, done, error FROM inbox ORDER BY id")
    by_update = {int(source.split(":")[1]): (payload, done, error)
                 for source, payload, done, error in rows}
    # Stored once each and passed without an error, so nothing is asked again.
    assert by_update[talk] == ("", 1, None) and by_update[contact] == ("", 1, None)
    assert "+7999" not in str(rows)
    # The /id there keeps what it needs to be answered; the staff chat's talk is served.
    assert json.loads(by_update[asked][0])["message"]["text"] == "/id"
    assert "обед" in by_update[staff][0]
    assert [r["message"]["text"] for r in tg.sent(other)] == [
        f"id этого чата: {other}\nВаш id: 7103"]


async def test_the_scheduler_runs_retention_nightly_on_its_clock_with_the_desks_settings(
    store: Store,
) -> None:
    old = Citizen(60)
    await file_ticket(store, old, opened=LONG_AGO, closed=LONG_AGO + timedelta(days=1))
    config = DeskConfig(staff_chat_id=STAFF, timezone=ZoneInfo("Europe/Moscow"),
                        escalation_after=timedelta(hours=8), retention_days=2000,
                        payload_days=7)
    calendar = WorkCalendar(BusinessHours.parse("24/7"), config.timezone)
    jobs = DeskScheduler(store, Texts("ru"), calendar, config,
                         check_interval=timedelta(minutes=1), digest_at=None, now=lambda: LATER)

    kept = await jobs.retention()  # 2000 days: not yet
    jobs.config = replace(config, retention_days=1095)
    done = await jobs.retention()

    assert (kept.anonymized, done.anonymized) == (0, 1)
    assert old.name not in await everything(store)
    jobs.start()
    try:
        assert jobs._scheduler is not None
        nightly = jobs._scheduler.get_job("retention")
        assert nightly.coalesce and nightly.max_instances == 1
        assert jobs._scheduler.get_job("retention-catch-up") is not None
    finally:
        await jobs.stop()


async def test_a_vk_group_chat_message_keeps_nothing(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing of VK's may land in the working directory
    async with FakeVK() as vk:
        vk.add_user(1001, "Анна", "Иванова")
        async with Desk(tg.base_url, tmp_path / "desk.sqlite3", vk_token=vk.token,
                        vk_group_id=vk.group_id, vk_api_url=vk.api_url):
            await polling(vk)
            vk.message_new(1001, "Мой телефон +79990005566", peer_id=2_000_000_001)
            vk.message_new(1001, "Не горит фонарь")
            await vk.wait_messages(1, peer_id=1001)  # handled after the group chat's
            rows = await store_rows(tmp_path / "desk.sqlite3",
                                    "SELECT payload, done, error FROM inbox "
                                    "WHERE platform = 'vk' ORDER BY id")
    assert rows[0] == ("", 1, None)
    assert "+7999" not in str(rows) and "Не горит фонарь" in rows[1][0]


async def test_an_incident_named_after_a_report_loses_the_words_with_it(store: Store) -> None:
    who = Citizen(70)
    ticket = await file_ticket(store, who, opened=LONG_AGO, closed=None)
    async with store.transaction() as tx:
        incident = await tx.create_incident(who.text[:60], "roads", [ticket.id], LONG_AGO)
        named = await tx.create_incident("Нет воды, ул. Ленина", None, [], LONG_AGO)
        await tx.close_ticket(ticket.id, LONG_AGO + timedelta(days=1))

    await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    gone, kept = await store.incident(incident.id), await store.incident(named.id)
    assert gone is not None and gone.title == "—"
    assert kept is not None and kept.title == "Нет воды, ул. Ленина"
    assert who.text not in await everything(store)


def test_every_chat_the_desk_serves_keeps_its_updates_whole() -> None:
    """The staff chat, the supervisors', a department's own chat and the discussion group:
    messages, edits and presses there are the desk's work and keep their payload; any other
    group keeps none, and private chats only while the desk takes citizens there."""
    rules = parse_rules('[[department]]\nkey = "roads"\nname = "Дороги"\nwords = ["яма"]\n'
                        'chat = "-1001000000003"\n', "rules.toml")
    config = DeskConfig(staff_chat_id="-1001000000001", timezone=ZoneInfo("Europe/Moscow"),
                        escalation_after=timedelta(hours=8),
                        escalation_chat_id="-1001000000002", departments=rules)
    served = ServedChats.of(config, discussion=-1001000000004, citizens=True)
    without_citizens = ServedChats.of(config, discussion=-1001000000004, citizens=False)

    def update(kind: str, chat: int, text: str = "Ответ жителю", **more: Any) -> dict[str, Any]:
        kind_of_chat = "private" if chat > 0 else "supergroup"
        message = {"chat": {"id": chat, "type": kind_of_chat}, "from": {"id": 7}, "text": text}
        return {"update_id": 1, kind: {**message, **more}}

    for chat in (-1001000000001, -1001000000002, -1001000000003, -1001000000004):
        for kind in ("message", "edited_message"):
            assert served.keeps(update(kind, chat)), (kind, chat)
            assert without_citizens.keeps(update(kind, chat)), (kind, chat)
    assert served.keeps(update("message", 5554001))
    assert not without_citizens.keeps(update("message", 5554001))
    other = -1001000000777
    assert not served.keeps(update("message", other, "Мой телефон +79990001122"))
    assert not served.keeps(update("edited_message", other))
    assert served.keeps(update("message", other, "/id")) and served.keeps(
        update("message", other, " /id@frontdesk_bot "))
    press = {"update_id": 2, "callback_query": {"id": "1", "from": {"id": 7}, "data": "x",
             "message": {"chat": {"id": other, "type": "supergroup"}}}}
    assert served.keeps(press) and without_citizens.keeps(press)  # answered, wherever


async def test_claims_on_chats_that_ran_out_go_with_the_nightly_run(store: Store) -> None:
    """PostgreSQL's claims name the chats a desk sends to, a citizen's among them: one that
    ran out over an hour ago goes; one still standing, or just run out, stays."""
    if "chat_claims" not in await everything_tables(store):
        pytest.skip("one SQLite desk keeps its claims in memory")
    async with store.transaction() as tx:
        for chat, until in (("7770001", LATER - timedelta(hours=2)),
                            ("7770002", LATER - timedelta(minutes=30)),
                            ("7770003", LATER + timedelta(seconds=30))):
            await tx._do(  # type: ignore[attr-defined]
                "INSERT INTO chat_claims (platform, chat_id, desk_id, until) "
                "VALUES ('telegram', ?, 'desk-a', ?)", (chat, until.timestamp()))

    await apply_retention(store, LATER, retention_days=1095, payload_days=7)

    dump = await everything(store)
    assert "7770001" not in dump and "7770002" in dump and "7770003" in dump


async def everything_tables(store: Store) -> set[str]:
    assert isinstance(store, SqlConnection)
    try:
        names = await store._fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    except Exception:  # SQLite
        names = await store._fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(n) for (n,) in names}
