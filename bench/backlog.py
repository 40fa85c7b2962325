"""Benchmark: a citizen's acknowledgement while 100,000 staff-chat rows wait in the outbox.

In a long outage of the staff chat (or a storm with pacing on) its rows pile up while the
sender keeps the chat busy. After every commit the sender asks the store for due rows of the
chats that are not busy; the question must cost the same with a backlog as without. Measured
in-process on a real store: the time from a citizen's message to the sender's query returning
its acknowledgement, and the query alone, with the query plan.

    python -m bench.backlog            # 100,000 pending rows
    python -m bench.backlog 20000
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.model import Inbound
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Channel, Outbound, Platform, Purpose

STAFF_CHAT = "-1001000000001"
ROUNDS = 40
BATCH = 200  # what the sender asks for at most


def _card(number: int) -> Outbound:
    return Outbound(Platform.TELEGRAM, STAFF_CHAT, Purpose.CARD, text=f"<b>№{number}</b> ·",
                    html=True, ticket_id=number)


async def fill(store: SqliteStore, pending: int) -> None:
    """`pending` staff-chat rows waiting, as a staff chat refusing for hours leaves them."""
    now = datetime.now(UTC).timestamp()
    rows = [(Platform.TELEGRAM.value, STAFF_CHAT, Purpose.CARD.value, n, _card(n).to_json(),
             now, now) for n in range(1, pending + 1)]
    async with store.transaction() as tx:
        await tx._db.executemany(
            "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, not_before, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _citizen(n: int) -> Inbound:
    return Inbound(platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=str(9000 + n),
                   author_id=str(9000 + n), author_name="Житель", message_id="1",
                   text="Не горит фонарь")


async def bench_backlog(pending: int = 100_000) -> dict[str, Any]:
    """Milliseconds: p50/p95 of message→acknowledgement picked up, and of the query alone."""
    with tempfile.TemporaryDirectory(prefix="frontdesk-backlog-") as tmp:
        store = SqliteStore(Path(tmp) / "backlog.sqlite3")
        await store.open()
        try:
            await fill(store, pending)
            zone = ZoneInfo("Europe/Moscow")
            desk = FrontDesk(store, Texts("ru"), WorkCalendar(BusinessHours.parse("24/7"), zone),
                             DeskConfig(staff_chat_id=STAFF_CHAT, timezone=zone,
                                        escalation_after=timedelta(hours=8)))
            skip = [(Platform.TELEGRAM.value, STAFF_CHAT)]  # the staff chat is under way
            ack_ms, query_ms = [], []
            for n in range(ROUNDS):
                started = clock.perf_counter()
                await desk.receive(_citizen(n))
                due = await store.due_outbox(datetime.now(UTC), BATCH, skip_chats=skip)
                ack_ms.append((clock.perf_counter() - started) * 1000)
                if not any(i.outbound.chat_id == str(9000 + n) for i in due):
                    raise RuntimeError("the acknowledgement was not among the due rows")
                await store.outbox_sent_many(due, ["1"])  # delivered: the next round is alike
                started = clock.perf_counter()
                await store.due_outbox(datetime.now(UTC), BATCH, skip_chats=skip)
                query_ms.append((clock.perf_counter() - started) * 1000)
            plan = await store.due_outbox_plan(skip_chats=skip)
        finally:
            await store.close()
    return {
        "pending": pending,
        "ack_p50_ms": round(statistics.median(ack_ms), 1),
        "ack_p95_ms": round(statistics.quantiles(ack_ms, n=20)[-1], 1),
        "query_p50_ms": round(statistics.median(query_ms), 1),
        "plan": plan,
    }


def main(argv: list[str]) -> int:
    pending = int(argv[0]) if argv else 100_000
    print(asyncio.run(bench_backlog(pending)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
