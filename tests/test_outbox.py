"""The outbox's own record of a delivered row, in SQLite: every part's message id.

What the interface promises of sent, retried and failed rows (references, parts kept, the
citizen reached again) is in the contract suite, tests/contract/test_outbox.py.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose
from tests.conftest import STAFF_CHAT
from tests.test_desk import outbox


async def test_a_row_sent_in_parts_over_several_tries_keeps_every_parts_id(
    store: SqliteStore, tmp_path: Path
) -> None:
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF_CHAT, Purpose.NOTICE, "длинный"))
    [row] = await outbox(store)
    await store.outbox_retry(row, datetime.now(UTC), "429 too many requests", ["7001"])
    [again] = await outbox(store)
    await store.outbox_sent(again, ["7002", "7003"])
    with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
        ids, parts, status = conn.execute(
            "SELECT message_ids, parts_sent, status FROM outbox WHERE id = ?", (row.id,)
        ).fetchone()
    assert json.loads(ids) == json.loads(parts) == ["7001", "7002", "7003"]
    assert status == "sent"
