"""Two desks on one PostgreSQL store: who polls, who sends which row, who handles which update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage import store_from_url
from storage.base import HandledElsewhere, Store
from storage.values import Outbound, Platform, Purpose
from tests.pg import fresh_schema, pg_rows


@pytest.fixture
async def two() -> AsyncIterator[tuple[Store, Store, str]]:
    async with fresh_schema() as url:
        a, b = store_from_url(url), store_from_url(url)
        await a.open()
        await b.open()
        try:
            yield a, b, url
        finally:
            await a.close()
            await b.close()


def note(chat: str, text: str) -> Outbound:
    return Outbound(platform=Platform.TELEGRAM, chat_id=chat, purpose=Purpose.NOTICE, text=text)


async def test_both_count_each_other_alive(two: tuple[Store, Store, str]) -> None:
    a, b, _ = two
    assert await a.heartbeat() == 1
    assert await b.heartbeat() == 2
    assert await a.heartbeat() == 2


async def test_one_leads_a_role_and_the_other_takes_it_when_its_session_ends(
    two: tuple[Store, Store, str]
) -> None:
    a, b, url = two
    assert await a.lead("poll:telegram")
    assert not await b.lead("poll:telegram")
    assert await b.lead("scheduler")  # roles are apart
    assert await a.lead("poll:telegram")  # still a's, looked at again
    # a's session is cut (a desk killed, the network gone): the server lets the lock go.
    await pg_rows(url, "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks "
                   "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                   "AND granted AND objid = hashtext(current_schema())::oid "
                   "AND classid = hashtext('frontdesk:poll:telegram')::oid")
    assert await b.lead("poll:telegram")
    assert not await a.lead("poll:telegram")  # a finds it has lost it, and b has it


async def test_a_chat_one_desk_sends_to_is_left_to_it(
    two: tuple[Store, Store, str]
) -> None:
    a, b, _ = two
    async with a.transaction() as tx:
        await tx.enqueue_many([note("501", "1"), note("501", "2"), note("502", "3")])
    now = datetime.now(UTC)
    first = await a.due_outbox(now, 1)
    assert [i.outbound.text for i in first] == ["1"]
    # b takes the other chat, not the second row of the chat a is sending to...
    taken = await b.due_outbox(now, 10)
    assert [i.outbound.text for i in taken] == ["3"]
    await b.outbox_sent(taken[0], ["m3"])
    # ...nor after "1" went: a keeps the chat a little, its rate counted by one desk.
    await a.outbox_sent(first[0], ["m1"])
    assert await b.due_outbox(now, 10) == []
    assert [i.outbound.text for i in await a.due_outbox(now, 10)] == ["2"]


async def test_a_retry_keeps_the_chat_until_it_is_due(two: tuple[Store, Store, str]) -> None:
    """Nothing after a row that waits (a 429's retry_after, a back-off) goes before it from
    another desk: the chat stays with the desk that will try again."""
    a, b, url = two
    async with a.transaction() as tx:
        await tx.enqueue_many([note("501", "answer"), note("501", "closed")])
    now = datetime.now(UTC)
    answer, _ = await a.due_outbox(now, 1) + [None]
    assert answer is not None and answer.outbound.text == "answer"
    await a.outbox_retry(answer, now + timedelta(seconds=120), "429: retry after 120")
    await pg_rows(url, "UPDATE chat_claims SET until = until - 90")  # the lease alone ran out
    assert await b.due_outbox(now, 10) == []
    await pg_rows(url, "UPDATE chat_claims SET until = until - 60")  # now the retry is past
    later = now + timedelta(seconds=121)
    assert [i.outbound.text for i in await b.due_outbox(later, 10)] == ["answer", "closed"]


async def test_claims_go_with_a_desk_that_stops_and_run_out_with_one_killed(
    two: tuple[Store, Store, str]
) -> None:
    a, b, url = two
    async with a.transaction() as tx:
        await tx.enqueue_many([note("501", "1"), note("502", "2")])
    now = datetime.now(UTC)
    assert len(await a.due_outbox(now, 10)) == 2
    assert await b.due_outbox(now, 10) == []
    # As if a had been killed 31 seconds ago: its claims have run out.
    await pg_rows(url, "UPDATE chat_claims SET until = until - 31")
    taken = await b.due_outbox(now, 10)
    assert [i.outbound.text for i in taken] == ["1", "2"]
    async with a.transaction() as tx:
        await tx.enqueue(note("503", "3"))
    now = datetime.now(UTC)
    assert [i.outbound.text for i in await a.due_outbox(now, 10)] == ["3"]  # b has the rest
    await a.close()  # stopping in order lets a's claims go at once
    in_flight = [i.id for i in taken]
    assert [i.outbound.text for i in await b.due_outbox(now, 10, exclude=in_flight)] == ["3"]


async def test_an_update_is_finished_once_whichever_desks_handle_it(
    two: tuple[Store, Store, str]
) -> None:
    """At a handover two desks may hold one row: the second to finish it waits for the
    first's transaction, finds it done and rolls back all it did."""
    a, b, _ = two
    await a.put_inbox("telegram", [("tg:1", "{}")])
    assert await b.put_inbox("telegram", [("tg:1", "{}")]) == 0  # stored once
    row, = await a.pending_inbox("telegram", 10)
    assert [i.id for i in await b.pending_inbox("telegram", 10)] == [row.id]
    async with a.transaction() as tx:
        await tx.finish_inbox(row.id)
        await tx.set_state("handled-by", "a")
    with pytest.raises(HandledElsewhere):
        async with b.transaction() as tx:
            await tx.set_state("handled-by", "b")
            await tx.finish_inbox(row.id)
    assert await b.get_state("handled-by") == "a"
    assert await b.pending_inbox("telegram", 10) == []


async def test_updates_one_desk_stores_wake_the_other(two: tuple[Store, Store, str]) -> None:
    """Behind a load balancer any desk may receive an update; the one handling the inbox
    hears of it at once (LISTEN/NOTIFY), not at its next idle look."""
    a, b, _ = two
    await b.heartbeat()  # b listens from its first report on
    arrived = b.arrivals("vk")
    arrived.clear()
    await a.put_inbox("vk", [("vk:1", "{}")])
    await asyncio.wait_for(arrived.wait(), timeout=5)
    assert not b.arrivals("telegram").is_set()
    arrived.clear()
    await a.put_inbox("vk", [("vk:1", "{}")])  # nothing new: nobody is woken
    await asyncio.sleep(0.3)
    assert not arrived.is_set()


async def test_a_desk_stopping_keeps_a_chat_waiting_for_its_retry(
    two: tuple[Store, Store, str]
) -> None:
    a, b, url = two
    async with a.transaction() as tx:
        await tx.enqueue_many([note("501", "answer"), note("501", "closed"), note("-1001", "c")])
    now = datetime.now(UTC)
    taken = await a.due_outbox(now, 10)
    assert [i.outbound.text for i in taken] == ["answer", "closed", "c"]
    await a.outbox_retry(taken[0], now + timedelta(seconds=120), "429: retry after 120")
    await a.outbox_sent(taken[2], ["m1"])
    left = {r["chat_id"]: r["until"] - r["now"] for r in await pg_rows(
        url, "SELECT chat_id, until, extract(epoch FROM clock_timestamp())::float8 AS now "
             "FROM chat_claims")}
    assert 115 < left["501"] < 125  # until the retry
    assert 5 < left["-1001"] < 11  # a group stays with its desk 10 s after a send
    await a.close()
    assert {r["chat_id"] for r in await pg_rows(url, "SELECT chat_id FROM chat_claims")} == {"501"}
    assert await b.due_outbox(now, 10) == []  # "closed" waits behind "answer"


async def test_unreadable_updates_are_owed_to_staff_once_whichever_desk_finishes_them(
    two: tuple[Store, Store, str]
) -> None:
    a, b, _ = two
    await a.put_inbox("telegram", [("tg:1", "{}")])
    row, = await a.pending_inbox("telegram", 10)
    await a.finish_inbox_many([row.id], {row.id: "malformed update"})
    await b.finish_inbox_many([row.id], {row.id: "malformed update"})
    assert await a.get_state("inbox:unreadable-untold") == "1"


async def test_a_lost_session_for_the_others_news_is_listened_again(
    two: tuple[Store, Store, str]
) -> None:
    a, b, url = two
    await b.heartbeat()
    cut = await pg_rows(url, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                         "WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'")
    assert [row[0] for row in cut] == [True]  # b's session for the news, and only it
    await asyncio.sleep(0.2)
    await b.heartbeat()  # a new session; and every inbox looked at, in case of news missed
    arrived = b.arrivals("vk")
    arrived.clear()
    await a.put_inbox("vk", [("vk:2", "{}")])
    await asyncio.wait_for(arrived.wait(), timeout=5)
