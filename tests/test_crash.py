"""The real process killed with SIGKILL mid-storm, restarted: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, TOKEN
from tests.test_e2e_telegram import texts_in

ROOT = Path(__file__).resolve().parent.parent
CITIZENS = range(8_000_001, 8_000_501)  # 500 citizens, one message each


def bot_env(tg: FakeTelegram, db: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "VK_", "STAFF_", "DATABASE_", "ESCALATION_"))}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_URL": tg.base_url,
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "DATABASE_URL": f"sqlite:///{db}",
        "PACING": "off",
        "BUSINESS_HOURS": "24/7",
        "DIGEST_AT": "off",
        "LOG_LEVEL": "DEBUG",
    }


async def spawn(tg: FakeTelegram, db: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=db.parent, env=bot_env(tg, db),
            stdout=sink, stderr=sink,
        )


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        yield fake


def acks(tg: FakeTelegram) -> Counter[int]:
    counts: Counter[int] = Counter()
    for citizen in CITIZENS:
        counts[citizen] = sum(1 for t in texts_in(tg, citizen) if t.startswith("Ваше сообщение"))
    return counts


def card_numbers(tg: FakeTelegram) -> Counter[str]:
    numbers: Counter[str] = Counter()
    for text in texts_in(tg, STAFF_CHAT):
        if text.startswith("№"):  # not the notice of a new store
            numbers[text.split(" ", 1)[0]] += 1
    return numbers


async def test_sigkill_mid_storm_loses_nothing_and_creates_nothing_twice(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "desk.sqlite3"
    log = tmp_path / "bot.log"
    for citizen in CITIZENS:
        tg.push_update(tg.private_text(citizen, f"Сообщение жителя {citizen}"))

    first = await spawn(tg, db, log)
    # Kill it once about a third of the acknowledgements have gone out.
    await tg.wait_for(lambda: len(tg.calls("sendMessage")) >= 300, timeout=120)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    sent_before = len(tg.calls("sendMessage"))

    second = await spawn(tg, db, log)
    await tg.wait_for(lambda: all(acks(tg).values()) and len(card_numbers(tg)) >= 500,
                      timeout=120)
    second.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.wait(), timeout=30) == 0

    counts = acks(tg)
    lost = sum(1 for n in counts.values() if n == 0)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    cards = card_numbers(tg)
    print(f"\ncrash test: sent before the kill {sent_before}, acknowledgements lost {lost}, "
          f"duplicated {duplicated}; cards duplicated {sum(n - 1 for n in cards.values())}")

    with sqlite3.connect(db) as conn:
        tickets = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT citizen_id) FROM tickets"
        ).fetchone()
        messages = conn.execute(
            "SELECT COUNT(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id "
            "WHERE m.text = 'Сообщение жителя ' || t.citizen_id"
        ).fetchone()[0]
        ack_rows = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT ticket_id) FROM outbox WHERE purpose = 'ack'"
        ).fetchone()
        unsent = conn.execute("SELECT COUNT(*) FROM outbox WHERE status != 'sent'").fetchone()[0]
        pending_inbox = conn.execute("SELECT COUNT(*) FROM inbox WHERE done = 0").fetchone()[0]

    # Nothing lost: every citizen acknowledged, every message on its own ticket.
    assert lost == 0
    assert tickets == (500, 500)
    assert messages == 500
    assert pending_inbox == 0 and unsent == 0
    # Nothing created twice: one ticket, one acknowledgement row per citizen.
    assert ack_rows == (500, 500)
    # On the wire, Telegram has no idempotency key: only a request in flight at the very
    # moment of the kill can go twice, at most one per concurrent delivery.
    assert duplicated + sum(n - 1 for n in cards.values()) <= 32

    logged = log.read_text(encoding="utf-8", errors="replace")
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "Сообщение жителя" not in logged and str(CITIZENS[0]) not in logged


async def test_sigterm_stops_within_its_bound_and_the_rest_goes_after_restart(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "desk.sqlite3"
    log = tmp_path / "bot.log"
    tg.faults.timeout(methods=["sendMessage"])  # Telegram stops answering sends
    tg.push_update(tg.private_text(CITIZENS[0], "перед остановкой"))
    env_timeout = 2
    os.environ["SHUTDOWN_TIMEOUT"] = str(env_timeout)
    try:
        bot = await spawn(tg, db, log)
        await tg.wait_for(lambda: tg.calls("getUpdates") and len(tg.requests) > 3, timeout=30)
        await tg.wait_for(lambda: any(r.method == "sendMessage" for r in tg.requests))
        loop = asyncio.get_running_loop()
        started = loop.time()
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), timeout=30) == 0
        stopped_in = loop.time() - started
        assert stopped_in < env_timeout + 8
        tg.clear_faults()
        assert texts_in(tg, CITIZENS[0]) == []
        bot = await spawn(tg, db, log)
        await tg.wait_for(lambda: texts_in(tg, CITIZENS[0]), timeout=30)
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), timeout=30) == 0
    finally:
        del os.environ["SHUTDOWN_TIMEOUT"]
    assert texts_in(tg, CITIZENS[0])[0].startswith("Ваше сообщение №1")
    assert "front desk stopped" in log.read_text(encoding="utf-8")
