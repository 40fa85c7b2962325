"""Three real desks on one PostgreSQL store: the one polling killed mid-storm, nothing lost.

Each desk is a `python -m bot` process; the fake Bot API runs in the test. One desk polls at
a time (the fake answers a second getUpdates at once with 409, as Telegram does); all three
handle the inbox and send. SIGKILL of the one polling: another takes over, and the rows the
dead desk had claimed go out from the others once their lease runs out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import asyncpg

from storage import store_from_url
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, TOKEN
from tests.pg import fresh_schema
from tests.test_crash import acks, card_numbers

ROOT = Path(__file__).resolve().parent.parent
CITIZENS = range(8_000_001, 8_000_501)  # 500 citizens, one message each
TOOK = "took the role poll:telegram"


def desk_env(tg: FakeTelegram, url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "VK_", "STAFF_", "DATABASE_", "ESCALATION_"))}
    return {
        **keep, "PYTHONPATH": str(ROOT), "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_URL": tg.base_url, "STAFF_CHAT_ID": str(STAFF_CHAT),
        "DATABASE_URL": url, "PACING": "off", "BUSINESS_HOURS": "24/7", "DIGEST_AT": "off",
        "LOG_LEVEL": "INFO",
    }


async def spawn(tg: FakeTelegram, url: str, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=log.parent, env=desk_env(tg, url),
            stdout=sink, stderr=sink,
        )


async def rows(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def conflicts(tg: FakeTelegram) -> int:
    return sum(1 for r in tg.requests if r.method == "getUpdates" and r.status == 409)


async def test_three_desks_one_killed_mid_storm_lose_nothing_and_make_nothing_twice(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with fresh_schema() as url:
        installing = store_from_url(url)  # an installed store: no "new store" notice
        await installing.open()
        await installing.close()
        logs = [tmp_path / f"desk{i}.log" for i in range(3)]
        desks = [await spawn(tg, url, log) for log in logs]
        try:
            await tg.wait_for(lambda: tg.calls("getUpdates"), timeout=60)
            await tg.wait_for(
                lambda: sum(TOOK in log.read_text() for log in logs if log.exists()) == 1,
                timeout=60,
            )
            leader = next(i for i, log in enumerate(logs) if TOOK in log.read_text())
            for citizen in CITIZENS:
                tg.push_update(tg.private_text(citizen, f"Сообщение жителя {citizen}"))
            await tg.wait_for(lambda: len(tg.calls("sendMessage")) >= 150, timeout=120)
            assert conflicts(tg) == 0  # one desk polled at a time
            desks[leader].send_signal(signal.SIGKILL)
            await desks[leader].wait()
            await tg.wait_for(
                lambda: sum(TOOK in log.read_text() for log in logs) == 2, timeout=30
            )
            # Every citizen answered and every card posted, the dead desk's claimed rows
            # too once their lease has run out.
            await tg.wait_for(
                lambda: all(acks(tg).values()) and len(card_numbers(tg)) >= 500, timeout=120
            )
            await tg.wait_for(lambda: not tg.pending_updates(), timeout=30)
        finally:
            for desk in desks:
                if desk.returncode is None:
                    desk.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(desk.wait(), timeout=60) for desk in desks]
        assert sorted(codes) == [-signal.SIGKILL, 0, 0]

        tickets = await rows(url, "SELECT id, citizen_id FROM tickets")
        ack_rows = await rows(url, "SELECT ticket_id FROM outbox WHERE purpose = 'ack'")
        unsent = await rows(url, "SELECT id FROM outbox WHERE status <> 'sent'")
        waiting = await rows(url, "SELECT id FROM inbox WHERE done = 0")
    # Nothing lost: a ticket for every citizen, each acknowledged.
    assert sorted(int(r["citizen_id"]) for r in tickets) == list(CITIZENS)
    assert all(n >= 1 for n in acks(tg).values())
    assert not unsent and not waiting
    # Nothing twice: one ticket and one acknowledgement row each, numbers distinct.
    assert len({r["id"] for r in tickets}) == 500
    assert sorted(Counter(r["ticket_id"] for r in ack_rows).values()) == [1] * 500
    # On the wire Telegram has no idempotency key: only what the dead desk had in flight
    # may have gone twice, and nothing more than twice.
    repeated = sum(1 for n in acks(tg).values() if n > 1)
    repeated += sum(1 for n in card_numbers(tg).values() if n > 1)
    print(f"\nthree desks: {repeated} messages repeated on the wire after the kill")
    assert max(acks(tg).values()) <= 2 and max(card_numbers(tg).values()) <= 2
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert TOKEN.split(":")[1] not in text and "Сообщение жителя" not in text

