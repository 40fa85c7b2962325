"""Transactions: ticket numbers, all or nothing, the sender's wake-up, small named values."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage import MessageRecord, Store
from storage.values import Outbound, Platform, Purpose
from tests.contract.support import (
    FAR,
    STAFF,
    T0,
    due,
    new_ticket,
    open_ticket,
    ticket,
    to_citizen,
    to_staff,
)


class Boom(Exception):
    pass


async def test_the_first_ticket_of_a_new_store_is_number_one(store: Store) -> None:
    assert (await open_ticket(store)).id == 1


async def test_ticket_numbers_are_unique_and_increasing(store: Store) -> None:
    numbers = [(await open_ticket(store, str(citizen))).id for citizen in range(100, 104)]
    async with store.transaction() as tx:  # several in one transaction too
        numbers += [(await tx.create_ticket(new_ticket(str(c)))).id for c in range(200, 203)]
    numbers.append((await open_ticket(store, "300")).id)
    assert numbers == sorted(set(numbers)) and numbers[0] == 1
    assert [(await ticket(store, n)).citizen_id for n in numbers] == [
        "100", "101", "102", "103", "200", "201", "202", "300"
    ]


async def test_ticket_numbers_stay_unique_under_concurrent_transactions(store: Store) -> None:
    before = await open_ticket(store, "1")

    async def opener(citizen: str) -> int:
        async with store.transaction() as tx:
            created = await tx.create_ticket(new_ticket(citizen))
            await asyncio.sleep(0)  # let the others run while this one is under way
            await tx.add_message(MessageRecord(created.id, "in", T0, citizen,
                                               source_key=f"telegram:{citizen}:1"))
            await asyncio.sleep(0)
            return created.id

    citizens = [str(n) for n in range(10, 18)]
    numbers = await asyncio.gather(*(opener(c) for c in citizens))
    after = await open_ticket(store, "2")
    assert len(set(numbers)) == len(citizens)
    assert before.id < min(numbers) and max(numbers) < after.id
    for citizen, number in zip(citizens, numbers, strict=True):
        assert (await ticket(store, number)).citizen_id == citizen
        assert [m.text for m in await store.messages(number)] == [citizen]


async def test_a_transaction_that_raises_leaves_nothing(store: Store) -> None:
    await store.put_inbox("telegram", [("tg:1", "{}")])
    [row] = await store.pending_inbox("telegram", 10)
    with pytest.raises(Boom):
        async with store.transaction() as tx:
            made = await tx.create_ticket(new_ticket("42"))
            await tx.add_message(MessageRecord(made.id, "in", T0, "вопрос",
                                               source_key="telegram:42:1"))
            await tx.enqueue(to_citizen(Purpose.ACK, made))
            await tx.enqueue_many([to_staff(Purpose.CARD, made.id)])
            await tx.set_state("vk:ts", "42")
            await tx.set_blocked(Platform.TELEGRAM, "42", True)
            await tx.finish_inbox(row.id)
            assert await tx.ticket(made.id) == made  # there, inside
            raise Boom
    assert await store.ticket(made.id) is None
    assert await store.open_tickets() == []
    assert await store.messages(made.id) == []
    assert await due(store) == []
    assert await store.next_outbox_at() is None
    assert await store.get_state("vk:ts") is None
    assert [r.id for r in await store.pending_inbox("telegram", 10)] == [row.id]
    async with store.transaction() as tx:
        state = await tx.intake_state("telegram:42:1", Platform.TELEGRAM, "42", "42")
        assert (state.seen, state.blocked, state.ticket) == (False, False, None)
        assert await tx.ticket_by_message("telegram:42:1") is None
        assert await tx.waiting_count() == 0
    # The store goes on, and numbers never go back.
    assert (await open_ticket(store, "43")).id >= made.id


async def test_a_transaction_that_raises_leaves_a_ticket_as_it_was(store: Store) -> None:
    made = await open_ticket(store)
    with pytest.raises(Boom):
        async with store.transaction() as tx:
            await tx.citizen_wrote(made.id, "7", waits=(T0 + timedelta(hours=1), FAR))
            await tx.answered(made.id, T0 + timedelta(hours=2))
            await tx.set_unreachable(made.id, "blocked by the user")
            await tx.set_escalations([(made.id, 3, FAR)])
            await tx.close_ticket(made.id, T0 + timedelta(hours=3))
            raise Boom
    assert await store.ticket(made.id) == made


async def test_a_cancelled_transaction_leaves_nothing(store: Store) -> None:
    """A task cancelled midway (a shutdown) rolls back like one that raised."""
    inside = asyncio.Event()

    async def writer() -> None:
        async with store.transaction() as tx:
            made = await tx.create_ticket(new_ticket())
            await tx.enqueue(to_citizen(Purpose.ACK, made))
            await tx.set_state("key", "value")
            inside.set()
            await asyncio.Event().wait()  # never

    task = asyncio.create_task(writer())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.open_tickets() == []
    assert await due(store) == []
    assert await store.get_state("key") is None
    fresh = await open_ticket(store)  # and the store is free for the next writer
    assert [t.id for t in await store.open_tickets()] == [fresh.id]


async def test_changed_is_set_after_a_committing_transaction(store: Store) -> None:
    store.changed.clear()
    seen: list[str] = []

    async def sender() -> None:
        await store.changed.wait()
        seen.extend(i.outbound.text for i in await due(store))

    waiting = asyncio.create_task(sender())
    await asyncio.sleep(0)
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF, Purpose.NOTICE, "первое"))
    await asyncio.wait_for(waiting, 5)
    assert store.changed.is_set()
    assert seen == ["первое"]  # woken, the sender finds what was committed

    store.changed.clear()
    async with store.transaction() as tx:
        await tx.enqueue_many([Outbound(Platform.VK, "7", Purpose.NOTICE, "второе")])
    assert store.changed.is_set()


async def test_state_is_kept_by_key_on_the_store_and_in_a_transaction(store: Store) -> None:
    assert await store.get_state("telegram:offset") is None
    await store.set_state("telegram:offset", "100")
    await store.set_state("telegram:offset", "101")  # written again: replaced
    await store.set_state("digest:last", "2026-11-24")
    assert await store.get_state("telegram:offset") == "101"
    async with store.transaction() as tx:
        assert await tx.get_state("telegram:offset") == "101"
        assert await tx.get_state("nothing") is None
        await tx.set_state("vk:ts", "ключ «42»")
        await tx.set_state("digest:last", "2026-11-25")
        assert await tx.get_state("vk:ts") == "ключ «42»"  # its own write, before commit
    assert await store.get_state("vk:ts") == "ключ «42»"
    assert await store.get_state("digest:last") == "2026-11-25"
    assert await store.get_state("telegram:offset") == "101"
