"""The inbox: updates kept once, handed out in order, retried, set aside, finished."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage import InboxItem, Store
from storage.base import UNREADABLE_UNTOLD
from tests.contract.support import FAR


def sources(items: list[InboxItem]) -> list[str]:
    return [i.source for i in items]


async def test_put_inbox_keeps_each_source_once_and_counts_the_new(store: Store) -> None:
    assert await store.put_inbox("telegram", [("tg:1", '{"n": 1}'), ("tg:2", '{"n": 2}'),
                                              ("tg:3", '{"n": 3}')]) == 3
    assert await store.put_inbox("telegram", [("tg:2", '{"n": "again"}'),
                                              ("tg:4", '{"n": 4}')]) == 1
    assert await store.put_inbox("telegram", [("tg:5", '{"n": 5}'), ("tg:5", '{"n": 5}')]) == 1
    assert await store.put_inbox("telegram", []) == 0
    pending = await store.pending_inbox("telegram", 10)
    assert [(i.source, i.payload) for i in pending] == [
        ("tg:1", '{"n": 1}'), ("tg:2", '{"n": 2}'), ("tg:3", '{"n": 3}'), ("tg:4", '{"n": 4}'),
        ("tg:5", '{"n": 5}'),
    ]  # the first copy kept


async def test_pending_inbox_hands_out_a_platforms_rows_in_arrival_order(store: Store) -> None:
    await store.put_inbox("telegram", [("tg:9", "{}"), ("tg:3", "{}")])
    await store.put_inbox("vk", [("vk:1", '{"type": "message_new"}')])
    await store.put_inbox("telegram", [("tg:1", "{}")])
    assert sources(await store.pending_inbox("telegram", 10)) == ["tg:9", "tg:3", "tg:1"]
    assert sources(await store.pending_inbox("telegram", 2)) == ["tg:9", "tg:3"]
    [vk] = await store.pending_inbox("vk", 10)
    assert (vk.platform, vk.source, vk.payload, vk.attempts) == (
        "vk", "vk:1", '{"type": "message_new"}', 0)
    ids = [i.id for i in await store.pending_inbox("telegram", 10)]
    assert ids == sorted(ids) and vk.id not in ids


async def test_finished_rows_are_pending_no_more(store: Store) -> None:
    await store.put_inbox("telegram", [(f"tg:{n}", "{}") for n in range(4)])
    rows = await store.pending_inbox("telegram", 10)
    await store.finish_inbox_many([rows[0].id, rows[2].id], {})
    assert sources(await store.pending_inbox("telegram", 10)) == ["tg:1", "tg:3"]
    async with store.transaction() as tx:  # finished with the ticket it made
        await tx.finish_inbox(rows[1].id)
        await tx.finish_inbox(rows[3].id, "handled, with a note")
    assert await store.pending_inbox("telegram", 10) == []
    await store.finish_inbox_many([rows[0].id], {})  # again: nothing changes
    assert await store.get_state(UNREADABLE_UNTOLD) is None  # no errors, nothing owed
    assert await store.put_inbox("telegram", [("tg:0", "{}")]) == 0  # still known


async def test_rows_finished_with_errors_are_counted_as_unreadable_in_the_same_write(
    store: Store,
) -> None:
    await store.put_inbox("telegram", [(f"tg:{n}", "{}") for n in range(6)])
    rows = await store.pending_inbox("telegram", 10)
    await store.finish_inbox_many([r.id for r in rows[:3]],
                                  {rows[1].id: "malformed update: ValidationError"})
    assert await store.get_state(UNREADABLE_UNTOLD) == "1"
    assert sources(await store.pending_inbox("telegram", 10)) == ["tg:3", "tg:4", "tg:5"]
    await store.finish_inbox_many([r.id for r in rows[3:5]],
                                  {rows[3].id: "malformed update: KeyError",
                                   rows[4].id: "malformed update: KeyError"})
    assert await store.get_state(UNREADABLE_UNTOLD) == "3"
    await store.set_state(UNREADABLE_UNTOLD, "0")  # staff were told
    await store.finish_inbox_many([rows[5].id], {rows[5].id: "malformed update: TypeError"})
    assert await store.get_state(UNREADABLE_UNTOLD) == "1"
    assert await store.pending_inbox("telegram", 10) == []


async def test_concurrent_finishes_lose_no_unreadable_count(store: Store) -> None:
    """Telegram and VK finish their rows each in their own loop, at the same time."""
    await store.put_inbox("telegram", [(f"tg:{n}", "{}") for n in range(6)])
    await store.put_inbox("vk", [(f"vk:{n}", "{}") for n in range(6)])
    rows = [*await store.pending_inbox("telegram", 10), *await store.pending_inbox("vk", 10)]
    batches = [rows[n:n + 3] for n in range(0, 12, 3)]
    await asyncio.gather(*(
        store.finish_inbox_many([r.id for r in batch],
                                {r.id: "malformed update: ValueError" for r in batch[:2]})
        for batch in batches
    ))
    assert await store.get_state(UNREADABLE_UNTOLD) == "8"
    assert await store.pending_inbox("telegram", 10) == []
    assert await store.pending_inbox("vk", 10) == []


async def test_a_row_to_retry_waits_until_its_time_with_its_tries_counted(store: Store) -> None:
    await store.put_inbox("telegram", [("tg:1", "{}"), ("tg:2", "{}")])
    first, _ = await store.pending_inbox("telegram", 10)
    now = datetime.now(UTC)
    await store.inbox_retry(first.id, now + timedelta(minutes=1), "OperationalError: locked")
    assert sources(await store.pending_inbox("telegram", 10)) == ["tg:2"]  # now by default
    assert sources(await store.pending_inbox("telegram", 10, now=now)) == ["tg:2"]
    later = await store.pending_inbox("telegram", 10, now=now + timedelta(minutes=1))
    assert [(i.source, i.attempts) for i in later] == [("tg:1", 1), ("tg:2", 0)]
    await store.inbox_retry(first.id, now + timedelta(minutes=3), "OperationalError: locked")
    assert [(i.source, i.attempts) for i in await store.pending_inbox(
        "telegram", 10, now=now + timedelta(minutes=3))] == [("tg:1", 2), ("tg:2", 0)]


async def test_rows_set_aside_wait_for_an_operator_to_try_them_again(store: Store) -> None:
    assert await store.set_aside_inbox() == (0, None)
    assert await store.retry_set_aside() == 0
    await store.put_inbox("telegram", [("tg:1", "{}"), ("tg:2", "{}"), ("tg:3", "{}")])
    await store.put_inbox("vk", [("vk:1", "{}")])
    first, _, _ = await store.pending_inbox("telegram", 10)
    [vk] = await store.pending_inbox("vk", 10)
    await store.inbox_retry(first.id, datetime.now(UTC), "KeyError: x")
    await store.inbox_set_aside(first.id, "KeyError: x")
    await store.inbox_set_aside(vk.id, "OSError: disk I/O error")
    assert sources(await store.pending_inbox("telegram", 10, now=FAR)) == ["tg:2", "tg:3"]
    assert await store.pending_inbox("vk", 10, now=FAR) == []
    assert await store.set_aside_inbox() == (2, "OSError: disk I/O error")  # the latest reason
    assert await store.retry_set_aside() == 2
    again = await store.pending_inbox("telegram", 10)
    assert [(i.source, i.attempts) for i in again] == [("tg:1", 0), ("tg:2", 0), ("tg:3", 0)]
    assert [(i.source, i.attempts) for i in await store.pending_inbox("vk", 10)] == [
        ("vk:1", 0)]
    assert await store.set_aside_inbox() == (0, None)
    assert await store.retry_set_aside() == 0
