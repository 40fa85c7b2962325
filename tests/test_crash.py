"""The real process killed with SIGKILL mid-storm, restarted: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

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
        "REPORT_AT": "off",
        "LOG_LEVEL": "DEBUG",
    }


async def spawn(tg: FakeTelegram, db: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=db.parent, env=bot_env(tg, db),
            stdout=sink, stderr=sink,
        )


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


def on_the_wire(tg: FakeTelegram) -> set[str]:
    """Every acknowledgement (`ack:<citizen>`) and card (`card:<n>`) Telegram has taken."""
    wire = {f"ack:{c}" for c, n in acks(tg).items() if n}
    return wire | {f"card:{number[1:]}" for number in card_numbers(tg)}


def unrecorded(db: Path, wire: set[str]) -> set[str]:
    """Messages on the wire whose outbox row is still pending: their request was in flight.

    The sender marks a row sent only after Telegram's answer; a message Telegram took whose
    row is pending is one the next process will send again.
    """
    with sqlite3.connect(db) as conn:
        pending = conn.execute(
            "SELECT o.purpose, t.citizen_id, t.id FROM outbox o JOIN tickets t "
            "ON t.id = o.ticket_id WHERE o.status = 'pending' AND o.purpose IN ('ack', 'card')"
        ).fetchall()
    rows = {f"ack:{citizen}" if purpose == "ack" else f"card:{number}"
            for purpose, citizen, number in pending}
    return rows & wire


async def kill(tg: FakeTelegram, proc: asyncio.subprocess.Process) -> None:
    """SIGKILL; then let the fake finish whatever sends had reached it (a long poll of the
    dead process is left to run out)."""
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    await tg.wait_for(lambda: all(
        r.status is not None for r in tg.requests if r.method != "getUpdates"
    ), timeout=30)


def inbox(db: Path) -> tuple[int, int]:
    """(updates stored, of them not yet handled)."""
    with sqlite3.connect(db) as conn:
        total, waiting = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(done = 0), 0) FROM inbox"
        ).fetchone()
    return int(total), int(waiting)


def hold_the_store(db: Path) -> sqlite3.Connection:
    """Take the store's write lock: the desk's next write waits on it (busy_timeout)."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def release(lock: sqlite3.Connection) -> None:
    lock.execute("ROLLBACK")
    lock.close()


async def test_sigkill_at_three_points_mid_storm_loses_nothing_and_repeats_only_in_flight(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """Killed before an inbox commit, between inbox and outbox, and mid-send; then restarted.

    Each kill is checked to have come where it was meant to, with work still to do.
    """
    db = tmp_path / "desk.sqlite3"
    log = tmp_path / "bot.log"
    in_flight: set[str] = set()

    # 1. Before the inbox commit: Telegram has handed over a batch, the store is locked.
    bot = await spawn(tg, db, log)
    await tg.wait_for(lambda: tg.calls("getUpdates"), timeout=60)
    lock = hold_the_store(db)
    for citizen in CITIZENS:
        tg.push_update(tg.private_text(citizen, f"Сообщение жителя {citizen}"))
    await tg.wait_for(lambda: any(
        r.method == "getUpdates" and r.status == 200 and r.result for r in tg.requests
    ), timeout=60)
    # The desk now waits on the lock to store the batch and must not poll again until it has:
    # give it a second to show otherwise (a getUpdates confirming the batch, say).
    def polls() -> int:
        return sum(1 for r in tg.requests if r.method == "getUpdates")

    asked = polls()
    with contextlib.suppress(TimeoutError):
        await tg.wait_for(lambda: polls() > asked, timeout=1)
    await kill(tg, bot)
    release(lock)
    assert inbox(db) == (0, 0)  # nothing of the batch stored...
    assert len(tg.pending_updates()) == len(CITIZENS)  # ...and nothing confirmed
    assert not any(acks(tg).values()) and not card_numbers(tg)

    # 2. Between inbox and outbox: updates stored, not yet turned into tickets.
    bot = await spawn(tg, db, log)
    await tg.wait_for(lambda: inbox(db)[1] > 0, timeout=60)
    lock = hold_the_store(db)
    stored, waiting = inbox(db)
    await kill(tg, bot)
    in_flight |= unrecorded(db, on_the_wire(tg))
    release(lock)
    assert waiting > 0 and inbox(db) == (stored, waiting)  # stored, not handled
    with sqlite3.connect(db) as conn:
        tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    assert tickets == stored - waiting < len(CITIZENS)

    # 3. Mid-send: a third of the acknowledgements out, more requests under way.
    bot = await spawn(tg, db, log)
    await tg.wait_for(lambda: len(tg.calls("sendMessage")) >= 300, timeout=120)
    await kill(tg, bot)
    in_flight |= unrecorded(db, on_the_wire(tg))
    answered = sum(1 for n in acks(tg).values() if n)
    stored, waiting = inbox(db)
    assert answered < len(CITIZENS)  # mid-storm: citizens still waiting, and work left
    assert tg.pending_updates() or waiting or stored < len(CITIZENS) or answered < stored

    bot = await spawn(tg, db, log)
    await tg.wait_for(lambda: all(acks(tg).values()) and len(card_numbers(tg)) >= 500,
                      timeout=120)
    bot.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(bot.wait(), timeout=60) == 0

    counts = acks(tg)
    cards = card_numbers(tg)
    repeated = {f"ack:{c}" for c, n in counts.items() if n > 1}
    repeated |= {f"card:{number[1:]}" for number, n in cards.items() if n > 1}
    print(f"\ncrash test: in flight at the kills {len(in_flight)}, repeated on the wire "
          f"{len(repeated)}: {sorted(repeated)}")

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
    assert all(n >= 1 for n in counts.values())
    assert tickets == (500, 500)
    assert messages == 500
    assert pending_inbox == 0 and unsent == 0
    # Nothing created twice: one ticket, one acknowledgement row per citizen.
    assert ack_rows == (500, 500)
    # On the wire, Telegram has no idempotency key: what went twice is among the messages
    # whose request was in flight at a kill (taken by Telegram, not yet recorded as sent),
    # and none more than twice.
    assert repeated <= in_flight
    assert max(counts.values()) <= 2 and max(cards.values()) <= 2

    logged = log.read_text(encoding="utf-8", errors="replace")
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "Сообщение жителя" not in logged and str(CITIZENS[0]) not in logged


async def test_sigterm_gives_up_the_drain_at_its_bound_and_the_rest_goes_after_restart(
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
        bot.send_signal(signal.SIGTERM)
        # Sends never answer, so only SHUTDOWN_TIMEOUT can end the drain: the process says it
        # gave up with the message still in the outbox, then that it stopped, and exits 0.
        # (How long that takes is for `make bench`; the wait below only guards against a hang.)
        assert await asyncio.wait_for(bot.wait(), timeout=60) == 0
        stopping = log.read_text(encoding="utf-8")
        gave_up = stopping.find("stopping with messages still in the outbox")
        assert 0 <= gave_up < stopping.find("front desk stopped")
        tg.clear_faults()
        assert texts_in(tg, CITIZENS[0]) == []
        bot = await spawn(tg, db, log)
        await tg.wait_for(lambda: texts_in(tg, CITIZENS[0]), timeout=120)  # start-up, loaded
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), timeout=30) == 0
    finally:
        del os.environ["SHUTDOWN_TIMEOUT"]
    assert texts_in(tg, CITIZENS[0])[0].startswith("Ваше сообщение №1")
    assert "front desk stopped" in log.read_text(encoding="utf-8")
