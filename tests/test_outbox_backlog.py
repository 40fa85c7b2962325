"""The sender's question skips chats under way without reading their rows, however many wait."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import SqliteStore
from storage.sqlite import WINDOW
from storage.values import Outbound, Platform, Purpose

STAFF = "-1001000000001"
LATER = datetime(2100, 1, 1, tzinfo=UTC)


def row(platform: Platform, chat: str, n: int) -> Outbound:
    return Outbound(platform, chat, Purpose.ACK, text=f"№{n}", ticket_id=n)


async def test_due_rows_of_other_chats_come_in_id_order_past_a_backlog_under_way(
    store: SqliteStore,
) -> None:
    # The staff chat's backlog is older than all the rest and longer than the first look.
    backlog = 200 * WINDOW + 50
    async with store.transaction() as tx:
        await tx.enqueue_many([row(Platform.TELEGRAM, STAFF, n) for n in range(backlog)])
        await tx.enqueue_many([
            row(platform, chat, n)
            for n in range(30)
            for platform, chat in ((Platform.TELEGRAM, str(500 + n % 3)), (Platform.VK, "77"),
                                   (Platform.TELEGRAM, STAFF))
        ])
    everything = await store.due_outbox(LATER, 10_000)
    skip = [("telegram", STAFF), ("telegram", "501")]
    expected = [i.id for i in everything
                if (i.outbound.platform.value, i.outbound.chat_id) not in skip]
    got = await store.due_outbox(LATER, 200, skip_chats=skip)
    assert [i.id for i in got] == expected  # 20 private, 30 VK, in id order
    assert len(expected) == 50
    # Rows in flight are left out too, and the limit holds.
    got = await store.due_outbox(LATER, 5, exclude=expected[:3], skip_chats=skip)
    assert [i.id for i in got] == expected[3:8]


async def test_the_question_searches_the_chat_index_and_never_scans(store: SqliteStore) -> None:
    plan = await store.due_outbox_plan([("telegram", STAFF), ("vk", "77")])
    assert "SEARCH outbox USING INDEX outbox_chat_pending (platform=? AND chat_id<?)" in plan
    assert "SCAN" not in plan, plan
