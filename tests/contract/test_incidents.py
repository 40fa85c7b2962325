"""Incidents: suggested over several tickets, confirmed or dismissed, joined, closed; the
card that names one; what detection reads back after a restart."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from storage import MessageRecord, Store
from storage.values import Outbound, Platform, Purpose
from tests.contract.support import STAFF, T0, due, new_ticket, open_ticket, ticket

H = timedelta(hours=1)


async def three_tickets(store: Store) -> list[int]:
    return [(await open_ticket(store, citizen)).id for citizen in ("41", "42", "43")]


async def test_a_suggested_incident_holds_its_tickets(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        made = await tx.create_incident("отопление, ул. Ленина", "housing", ids[:2], T0)
        assert made.state == "suggested" and made.is_live
        assert (made.title, made.category, made.created_at) == ("отопление, ул. Ленина",
                                                                 "housing", T0)
        assert (made.confirmed_at, made.answered_at, made.closed_at) == (None, None, None)
        assert await tx.incident(made.id) == made
        assert [t.id for t in await tx.incident_tickets(made.id)] == ids[:2]
        assert await tx.live_incidents() == [made]
        assert await tx.incident(made.id + 1) is None
    assert (await ticket(store, ids[0])).incident_id == made.id
    assert (await ticket(store, ids[2])).incident_id is None


async def test_a_ticket_is_in_one_incident_at_most(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        first = await tx.create_incident("a", None, ids[:2], T0)
        second = await tx.create_incident("b", None, ids[1:], T0)
        assert [t.id for t in await tx.incident_tickets(first.id)] == ids[:2]
        assert [t.id for t in await tx.incident_tickets(second.id)] == ids[2:]
        await tx.join_incident(ids[0], second.id)  # already in the first: stays there
        assert [t.id for t in await tx.incident_tickets(second.id)] == ids[2:]


async def test_confirming_opens_and_closing_closes_once(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        made = await tx.create_incident("a", None, ids, T0)
        await tx.set_incident_state(made.id, "open", T0 + H)
        await tx.set_incident_state(made.id, "open", T0 + 2 * H)  # a second press
        opened = await tx.incident(made.id)
        assert opened is not None and opened.state == "open" and opened.confirmed_at == T0 + H
        await tx.incident_answered(made.id, T0 + 2 * H)
        await tx.incident_answered(made.id, T0 + 3 * H)  # the first answer is kept
        await tx.set_incident_state(made.id, "closed", T0 + 4 * H)
        closed = await tx.incident(made.id)
        assert closed is not None and closed.state == "closed" and not closed.is_live
        assert (closed.answered_at, closed.closed_at) == (T0 + 2 * H, T0 + 4 * H)
        assert await tx.live_incidents() == []
        # A closed incident keeps its tickets: its figures are theirs.
        assert [t.id for t in await tx.incident_tickets(made.id)] == ids
        with pytest.raises(ValueError):
            await tx.set_incident_state(made.id, "suggested", T0)


async def test_dismissed_tickets_leave_it_and_are_set_apart(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        made = await tx.create_incident("a", None, ids[:2], T0)
        await tx.set_incident_state(made.id, "dismissed", T0 + H)
        assert await tx.incident_tickets(made.id) == []
        assert await tx.apart(ids) == set(ids[:2])
        again = await tx.create_incident("b", None, ids, T0 + H)
        assert [t.id for t in await tx.incident_tickets(again.id)] == ids[2:]


async def test_a_ticket_taken_out_is_set_apart_and_joins_no_more(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        made = await tx.create_incident("a", None, ids, T0)
        await tx.join_incident(ids[1], None)
        assert [t.id for t in await tx.incident_tickets(made.id)] == [ids[0], ids[2]]
        await tx.join_incident(ids[1], made.id)
        assert [t.id for t in await tx.incident_tickets(made.id)] == [ids[0], ids[2]]
        assert await tx.apart([ids[1], 999]) == {ids[1]}
        assert await tx.apart([]) == set()


async def test_the_title_is_staffs_to_change(store: Store) -> None:
    async with store.transaction() as tx:
        made = await tx.create_incident("отопление", None, [], T0)
        await tx.set_incident_title(made.id, "Нет отопления в Заречном")
        renamed = await tx.incident(made.id)
        assert renamed is not None and renamed.title == "Нет отопления в Заречном"


async def test_a_sent_incident_card_refers_to_the_incident(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        made = await tx.create_incident("a", None, ids, T0)
        await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF, Purpose.INCIDENT_CARD, "card",
                                  html=True, incident=made.id))
    [row] = await due(store)
    assert row.outbound.incident == made.id  # it comes back from the outbox
    await store.outbox_sent(row, ["501", "502"])
    async with store.transaction() as tx:
        for part in ("501", "502"):
            assert await tx.incident_by_ref(Platform.TELEGRAM, STAFF, part) == \
                await tx.incident(made.id)
        assert await tx.incident_by_ref(Platform.TELEGRAM, STAFF, "503") is None
        assert await tx.incident_by_ref(Platform.VK, STAFF, "501") is None
        carded = await tx.incident(made.id)
        assert carded is not None and (carded.card_chat_id, carded.card_message_id) == (
            STAFF, "501")
        # An incident card names no ticket: a reply to it is the incident's, not theirs.
        assert await tx.ticket_by_ref(Platform.TELEGRAM, STAFF, "501") == []


async def test_an_incidents_waiting_card_edits_are_superseded_and_nothing_else(
    store: Store,
) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        made = await tx.create_incident("a", None, ids, T0)
        other = await tx.create_incident("b", None, [], T0)
        card = Outbound(Platform.TELEGRAM, STAFF, Purpose.INCIDENT_CARD, "card", html=True,
                        incident=made.id)
        post = await tx.enqueue(card)  # the card itself, not yet out
        first = await tx.enqueue(replace(card, text="2", edits="501"))
        second = await tx.enqueue(replace(card, text="3", edits="501"))
        theirs = await tx.enqueue(replace(card, text="b", edits="601", incident=other.id))
        answer = await tx.enqueue(Outbound(Platform.TELEGRAM, "41", Purpose.ANSWER, "ответ",
                                           ticket_id=ids[0], incident=made.id))
        assert await tx.supersede_card_edits(made.id) == 2
        latest = await tx.enqueue(replace(card, text="4", edits="501"))
    assert {row.id for row in await due(store)} == {post, theirs, answer, latest}
    assert first < second < latest
    async with store.transaction() as tx:
        assert await tx.supersede_card_edits(made.id) == 1
        assert await tx.supersede_card_edits(made.id) == 0


async def test_recent_reports_are_the_open_tickets_since_with_their_first_text(
    store: Store,
) -> None:
    old = await open_ticket(store, new_ticket("40", opened_at=T0 - 4 * H))
    first = await open_ticket(store, new_ticket("41", opened_at=T0))
    second = await open_ticket(store, new_ticket("42", opened_at=T0 + H))
    closed = await open_ticket(store, new_ticket("43", opened_at=T0 + H))
    async with store.transaction() as tx:
        for made, text in ((first, "Не топят"), (first, "И горячей воды нет")):
            await tx.add_message(MessageRecord(
                ticket_id=made.id, direction="in", created_at=T0, text=text, attachments=(),
                author="Житель", source_key=f"telegram:{text}", platform_message_id="1",
            ))
        await tx.close_ticket(closed.id, T0 + 2 * H)
    recent = await store.recent_reports(T0 - H, 10)
    assert [(t.id, text) for t, text in recent] == [(second.id, ""), (first.id, "Не топят")]
    assert [t.id for t, _ in await store.recent_reports(T0 - H, 1)] == [second.id]
    assert old.id in [t.id for t, _ in await store.recent_reports(T0 - 5 * H, 10)]


async def test_tickets_are_read_together(store: Store) -> None:
    ids = await three_tickets(store)
    async with store.transaction() as tx:
        assert sorted(t.id for t in await tx.tickets([ids[2], ids[0], 999])) == [ids[0], ids[2]]
        assert await tx.tickets([]) == []


async def test_incidents_between_are_those_open_in_the_period_with_their_tickets(
    store: Store,
) -> None:
    """Open at any time in [T0, T0 + 24h), closed in it included; suggested, dismissed, and
    those confirmed after or closed before are not."""
    start, end = T0, T0 + 24 * H
    made = {}
    async with store.transaction() as tx:
        for name, citizens in (("before", "ab"), ("early", "cd"), ("closed", "e"),
                               ("gone", "f"), ("later", "g"), ("dismissed", "h"),
                               ("suggested", "i"), ("empty", "")):
            ids = []
            for n, who in enumerate(citizens):
                platform = Platform.VK if n % 2 else Platform.TELEGRAM
                opened = T0 - 2 * H + n * H
                created = await tx.create_ticket(
                    new_ticket(who, platform=platform, opened_at=opened))
                ids.append(created.id)
            made[name] = await tx.create_incident(name, None, ids, T0 - 2 * H)
        moves = {
            "before": [("open", T0 - H)],  # still open
            "early": [("open", T0 + H), ("closed", T0 + 30 * H)],
            "closed": [("open", T0 - 48 * H), ("closed", T0 + 2 * H)],
            "gone": [("open", T0 - 48 * H), ("closed", T0 - H)],
            "later": [("open", end)],
            "dismissed": [("dismissed", T0 + H)],
            "empty": [("open", T0)],
        }
        for name, steps in moves.items():
            for state, at in steps:
                await tx.set_incident_state(made[name].id, state, at)
        await tx.incident_answered(made["early"].id, T0 + 3 * H)
    found = await store.incidents_between(start, end)
    assert [(i.id, i.state, telegram, vk, first) for i, telegram, vk, first in found] == [
        (made["before"].id, "open", 1, 1, T0 - 2 * H),
        (made["early"].id, "closed", 1, 1, T0 - 2 * H),
        (made["closed"].id, "closed", 1, 0, T0 - 2 * H),
    ]
    assert found[1][0].answered_at == T0 + 3 * H and found[0][0].answered_at is None
    # "empty", with no ticket to count, is not among them.
    assert [i.id for i, *_ in await store.incidents_between(end, end + H)] == [
        made["before"].id, made["early"].id, made["later"].id]
    assert await store.incidents_between(T0 - 100 * H, T0 - 99 * H) == []


async def test_waiting_incidents_count_their_waiting_tickets_apart_from_the_rest(
    store: Store,
) -> None:
    """An open incident's waiting tickets are counted for it, not listed with the others;
    a suggested one's are listed as any ticket."""
    opened = [await open_ticket(store, new_ticket(str(n), opened_at=T0 + n * H))
              for n in range(6)]
    ids = [t.id for t in opened]
    async with store.transaction() as tx:
        confirmed = await tx.create_incident("a", None, ids[1:4], T0)
        await tx.set_incident_state(confirmed.id, "open", T0 + 4 * H)
        suggested = await tx.create_incident("b", None, ids[4:5], T0)
        await tx.answered(ids[1], T0 + 5 * H)  # its longest waiting one was answered
        [(incident, waiting, oldest)] = await tx.waiting_incidents()
        assert (incident.id, incident.state, waiting, oldest) == (
            confirmed.id, "open", 2, T0 + 2 * H)
        alone = await tx.waiting_outside_incidents(10)
        assert [t.id for t in alone] == [ids[0], ids[4], ids[5]]
        assert alone[1].incident_id == suggested.id
        assert [t.id for t in await tx.waiting_outside_incidents(2)] == [ids[0], ids[4]]
        await tx.set_incident_state(confirmed.id, "closed", T0 + 6 * H)
        assert await tx.waiting_incidents() == []
        # A closed incident's ticket still waiting (reopened, say) is in the queue again.
        assert ids[2] in [t.id for t in await tx.waiting_outside_incidents(10)]


async def test_an_incidents_reporters_are_counted_by_platform(store: Store) -> None:
    telegram = [await open_ticket(store, citizen) for citizen in ("41", "42")]
    vk = await open_ticket(store, new_ticket("43", platform=Platform.VK))
    async with store.transaction() as tx:
        made = await tx.create_incident("a", None, [t.id for t in (*telegram, vk)], T0)
        assert await tx.incident_reporters(made.id, 2) == (
            {"telegram": 2, "vk": 1}, [telegram[0].id, telegram[1].id])
        assert await tx.incident_reporters(made.id + 1, 2) == ({}, [])
