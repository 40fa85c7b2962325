"""Two desks on one PostgreSQL store: who polls, who sends which row, who handles which update."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from storage import store_from_url
from storage.base import Store
from storage.values import Outbound, Platform, Purpose
from tests.pg import fresh_schema


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


async def sql(url: str, statement: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(statement))
    finally:
        await conn.close()


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
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_locks "
                   "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                   "AND granted AND objid = hashtext(current_schema())::oid "
                   "AND classid = hashtext('frontdesk:poll:telegram')::oid")
    assert await b.lead("poll:telegram")
    assert not await a.lead("poll:telegram")  # a finds it has lost it, and b has it


async def test_a_chat_in_flight_at_one_desk_is_left_to_it(
    two: tuple[Store, Store, str]
) -> None:
    a, b, _ = two
    async with a.transaction() as tx:
        await tx.enqueue_many([note("501", "1"), note("501", "2"), note("502", "3")])
    now = datetime.now(UTC)
    first = await a.due_outbox(now, 1)
    assert [i.outbound.text for i in first] == ["1"]
    # b takes the other chat, not the second row of the chat a is sending to.
    taken = await b.due_outbox(now, 10)
    assert [i.outbound.text for i in taken] == ["3"]
    await b.outbox_sent(taken[0], ["m3"])
    assert await b.due_outbox(now, 10) == []  # 501 is a's while "1" is under way there
    await a.outbox_sent(first[0], ["m1"])
    # Once "1" is done the chat is free: its next row may go from either desk, after it.
    assert [i.outbound.text for i in await b.due_outbox(now, 10)] == ["2"]
    assert await a.due_outbox(now, 10) == []


async def test_claims_go_with_a_desk_that_stops_and_run_out_with_one_killed(
    two: tuple[Store, Store, str]
) -> None:
    a, b, url = two
    async with a.transaction() as tx:
        await tx.enqueue_many([note("501", "1"), note("502", "2")])
    now = datetime.now(UTC)
    assert len(await a.due_outbox(now, 10)) == 2
    assert await b.due_outbox(now, 10) == []
    # As if a had been killed 31 seconds ago: its leases have run out.
    await sql(url, "UPDATE outbox SET claimed_until = claimed_until - 31")
    taken = await b.due_outbox(now, 10)
    assert [i.outbound.text for i in taken] == ["1", "2"]
    async with a.transaction() as tx:
        await tx.enqueue(note("503", "3"))
    now = datetime.now(UTC)
    assert [i.outbound.text for i in await a.due_outbox(now, 10)] == ["3"]  # b has the rest
    await a.close()  # stopping in order lets a's claims go at once
    in_flight = [i.id for i in taken]
    assert [i.outbound.text for i in await b.due_outbox(now, 10, exclude=in_flight)] == ["3"]


async def test_an_update_is_handled_by_one_desk(two: tuple[Store, Store, str]) -> None:
    a, b, _ = two
    await a.put_inbox("telegram", [("tg:1", "{}"), ("tg:2", "{}")])
    assert await b.put_inbox("telegram", [("tg:2", "{}"), ("tg:3", "{}")]) == 1
    mine = await a.pending_inbox("telegram", 2)
    assert [i.source for i in mine] == ["tg:1", "tg:2"]
    assert [i.source for i in await b.pending_inbox("telegram", 10)] == ["tg:3"]
    await a.finish_inbox_many([mine[0].id], {})
    assert [i.source for i in await a.pending_inbox("telegram", 10)] == ["tg:2"]
    assert [i.source for i in await b.pending_inbox("telegram", 10)] == ["tg:3"]  # its own
