"""The figures behind /metrics and the read behind /healthz, on every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import Store
from storage.values import Purpose
from tests.contract.support import T0, due, enqueue, new_ticket, open_ticket, to_staff


async def test_an_empty_store_has_nothing_open_or_pending(store: Store) -> None:
    figures = await store.figures(T0)
    assert (figures.open_tickets, figures.overdue_tickets) == (0, 0)
    assert (figures.outbox_pending, figures.outbox_oldest) == (0, None)
    assert (figures.inbox_pending, figures.inbox_oldest) == (0, None)


async def test_overdue_counts_open_tickets_waiting_past_their_deadline(store: Store) -> None:
    waiting = await open_ticket(store, "1")  # due at T0 + 8 h
    answered = await open_ticket(store, "2")
    closed = await open_ticket(store, "3")
    async with store.transaction() as tx:
        await tx.answered(answered.id, T0 + timedelta(hours=1))
        await tx.close_ticket(closed.id, T0 + timedelta(hours=1))
    before = await store.figures(T0 + timedelta(hours=7))
    assert (before.open_tickets, before.overdue_tickets) == (2, 0)
    after = await store.figures(T0 + timedelta(hours=9))
    assert (after.open_tickets, after.overdue_tickets) == (2, 1)
    async with store.transaction() as tx:
        await tx.answered(waiting.id, T0 + timedelta(hours=10))
    assert (await store.figures(T0 + timedelta(hours=11))).overdue_tickets == 0


async def test_pending_outbox_rows_are_counted_with_the_oldest(store: Store) -> None:
    before = datetime.now(UTC)
    await enqueue(store, to_staff(Purpose.STAFF_NOTICE), to_staff(Purpose.STAFF_NOTICE))
    figures = await store.figures(datetime.now(UTC))
    assert figures.outbox_pending == 2
    assert figures.outbox_oldest is not None
    assert before - timedelta(seconds=1) <= figures.outbox_oldest <= datetime.now(UTC)
    first, second = await due(store)
    await store.outbox_sent(first, ["7"])
    await store.outbox_failed(second, "gone")
    figures = await store.figures(datetime.now(UTC))
    assert (figures.outbox_pending, figures.outbox_oldest) == (0, None)


async def test_unhandled_inbox_rows_are_counted_with_the_oldest(store: Store) -> None:
    before = datetime.now(UTC)
    await store.put_inbox("telegram", [("telegram:1:a", "{}"), ("telegram:2:b", "{}")])
    await store.put_inbox("vk", [("vk:1", "{}")])
    figures = await store.figures(datetime.now(UTC))
    assert figures.inbox_pending == 3
    assert figures.inbox_oldest is not None and figures.inbox_oldest >= before - timedelta(
        seconds=1
    )
    rows = await store.pending_inbox("telegram", 10) + await store.pending_inbox("vk", 10)
    await store.finish_inbox_many([rows[0].id, rows[2].id], {})
    await store.inbox_set_aside(rows[1].id, "failed three times")  # waits for a restart
    figures = await store.figures(datetime.now(UTC))
    assert (figures.inbox_pending, figures.inbox_oldest) == (0, None)


async def test_ping_answers_while_the_store_is_open_and_raises_after_close(store: Store) -> None:
    await store.ping()
    await store.close()
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the backend raises
        await store.ping()
    await store.open()  # the fixture closes it


async def test_what_follows_a_commit_runs_after_it_and_never_after_a_rollback(
    store: Store,
) -> None:
    """What /metrics counts (handlers/events.py) is told once the store kept it."""
    ran: list[str] = []
    with pytest.raises(LookupError):
        async with store.transaction() as tx:
            await tx.create_ticket(new_ticket("1"))
            tx.after_commit(lambda: ran.append("rolled back"))
            raise LookupError
    async with store.transaction() as tx:
        made = await tx.create_ticket(new_ticket("2"))
        tx.after_commit(lambda: ran.append(f"№{made.id}"))
        assert ran == []  # not before the commit
    assert ran == [f"№{made.id}"]  # once, and nothing of the rolled-back one
