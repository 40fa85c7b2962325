"""The outbox's bookkeeping of sent messages: references, parts, the citizen reached again."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from handlers.desk import FrontDesk
from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose
from tests.conftest import STAFF_CHAT
from tests.test_desk import citizen, outbox, send_all


async def refers_to(store: SqliteStore, message_id: str) -> list[int]:
    async with store.transaction() as tx:
        return [t.id for t in await tx.ticket_by_ref(Platform.TELEGRAM, STAFF_CHAT, message_id)]


async def test_a_message_naming_several_tickets_refers_to_each(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("первый", user=1))
    await desk.receive(citizen("второй", user=2))
    await send_all(store)
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(
            Platform.TELEGRAM, STAFF_CHAT, Purpose.DIGEST, "№1, №2", refers=(1, 2),
        ))
    [digest] = await outbox(store)
    await store.outbox_sent(digest, ["9000"])
    assert await refers_to(store, "9000") == [1, 2]


async def test_parts_sent_before_a_retry_are_references_at_once_and_not_sent_again(
    desk: FrontDesk, store: SqliteStore, tmp_path: Path
) -> None:
    await desk.receive(citizen("длинный вопрос"))
    ack, card = await outbox(store)
    await store.outbox_sent(ack, ["1"])
    await store.outbox_retry(card, datetime.now(UTC), "429 too many requests", ["7001"])
    assert await refers_to(store, "7001") == [1]
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.card_message_id == "7001"
    [again] = await outbox(store)
    assert again.sent == ("7001",)
    await store.outbox_sent(again, ["7002", "7003"])
    assert await refers_to(store, "7003") == [1]
    with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
        ids = conn.execute("SELECT message_ids FROM outbox WHERE id = ?", (card.id,)).fetchone()
    assert json.loads(ids[0]) == ["7001", "7002", "7003"]


async def test_citizen_messages_refer_to_nothing(desk: FrontDesk, store: SqliteStore) -> None:
    await desk.receive(citizen("вопрос"))
    ack, _card = await outbox(store)
    await store.outbox_sent(ack, ["77"])
    async with store.transaction() as tx:
        assert await tx.ticket_by_ref(Platform.TELEGRAM, ack.outbound.chat_id, "77") == []
