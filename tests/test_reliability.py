"""Faults, storms, abuse and hostile input, end to end against the fake Bot API server."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from bisect import bisect_left
from collections import Counter
from pathlib import Path

import pytest

from storage.values import Outbound, Platform, Purpose
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, TOKEN, Desk
from tests.test_e2e_telegram import OPERATOR, card_of, texts_in

CITIZEN = 6661001
FAULT_SECONDS = 30.0  # the outage README describes: 15 s of 502, then 15 s of hanging sends


def acks_by_citizen(tg: FakeTelegram, citizens: range) -> Counter[int]:
    counts: Counter[int] = Counter()
    for citizen in citizens:
        counts[citizen] = sum(
            1 for text in texts_in(tg, citizen) if text.startswith("Ваше сообщение №")
        )
    return counts


STORM = 300  # acknowledgements alone are ten seconds' worth of Telegram's 30 a second


def push_storm(tg: FakeTelegram) -> range:
    citizens = range(CITIZEN, CITIZEN + STORM)
    for citizen in citizens:
        tg.push_update(tg.private_text(citizen, f"авария, пишет {citizen}"))
    return citizens


def rejected(tg: FakeTelegram) -> list[str]:
    return [f"{r.method} {r.params.get('chat_id')}" for r in tg.requests if r.status == 429]


async def test_storm_paced_gets_no_429_and_merged_cards_name_every_ticket(
    tmp_path: Path,
) -> None:
    """Telegram's limits enforced: 30 a second, about 1 a second a chat, 20 a minute a group."""
    async with FakeTelegram(enforce_limits=True) as tg:
        tg.add_group(STAFF_CHAT, "Операторы")
        citizens = push_storm(tg)
        async with Desk(tg.base_url, tmp_path / "d.sqlite3", pacing=True):
            await tg.wait_for(lambda: all(tg.sent(c) for c in citizens), timeout=120)
            staff = await tg.wait_for(
                lambda: (t := " ".join(texts_in(tg, STAFF_CHAT)))
                and all(f"№{n} " in t for n in range(1, STORM + 1)) and t,
                timeout=240,
            )
        assert rejected(tg) == []
    assert staff
    assert set(acks_by_citizen(tg, citizens).values()) == {1}
    assert len(tg.sent(STAFF_CHAT)) < STORM // 5  # merged, not one message per ticket
    sends = sorted(r["at"] for r in tg.sent())
    busiest = max(bisect_left(sends, at + 1.0) - i for i, at in enumerate(sends))
    assert busiest <= 30


async def test_storm_unpaced_meets_429_so_the_pacer_is_what_keeps_within_limits(
    tmp_path: Path,
) -> None:
    """The control for the test above: the same storm with PACING=off is refused."""
    async with FakeTelegram(enforce_limits=True) as tg:
        tg.add_group(STAFF_CHAT, "Операторы")
        push_storm(tg)
        async with Desk(tg.base_url, tmp_path / "d.sqlite3", pacing=False):
            await tg.wait_for(lambda: rejected(tg), timeout=60)


async def test_reply_to_a_merged_card_with_number_reaches_that_citizen(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg:
        tg.add_group(STAFF_CHAT, "Операторы")
        for citizen in range(CITIZEN, CITIZEN + 6):
            tg.push_update(tg.private_text(citizen, "вопрос"))
        async with Desk(tg.base_url, tmp_path / "d.sqlite3", pacing=True):
            merged = await tg.wait_for(lambda: next(
                (r["message"] for r in tg.sent(STAFF_CHAT)
                 if "№5 " in r["message"]["text"] and "№6 " in r["message"]["text"]), None,
            ), timeout=20)
            tg.push_update(tg.group_text(
                STAFF_CHAT, OPERATOR, "№5 Ответ пятому", reply_to=merged["message_id"]
            ))
            await tg.wait_for(lambda: len(tg.sent(CITIZEN + 4)) >= 2, timeout=20)
            assert texts_in(tg, CITIZEN + 4)[1].endswith("Ответ пятому")
            assert len(tg.sent(CITIZEN + 5)) == 1


async def test_429_storm_is_waited_out_and_nothing_is_lost(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.faults.rate_limit(retry_after=1, for_seconds=3)
    citizens = range(CITIZEN, CITIZEN + 20)
    for citizen in citizens:
        tg.push_update(tg.private_text(citizen, "в 429"))
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        await tg.wait_for(lambda: all(tg.sent(c) for c in citizens), timeout=30)
        await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 20, timeout=30)
    assert set(acks_by_citizen(tg, citizens).values()) == {1}
    assert any(r.status == 429 for r in tg.requests)


async def test_server_errors_and_timeouts_for_a_while_lose_nothing(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """5xx, then hanging requests, each for half of FAULT_SECONDS."""
    citizens = range(CITIZEN, CITIZEN + 10)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN - 1, "до аварии"))
        await tg.wait_sent(1, chat_id=CITIZEN - 1)
        tg.faults.server_error(502, for_seconds=FAULT_SECONDS / 2)
        for citizen in citizens[:5]:
            tg.push_update(tg.private_text(citizen, "во время 502"))
        await tg.wait_for(lambda: any(r.status == 502 for r in tg.requests), timeout=10)
        await asyncio.sleep(FAULT_SECONDS / 2)  # the outage runs its course
        tg.faults.timeout(for_seconds=FAULT_SECONDS / 2, methods=["sendMessage"])
        for citizen in citizens[5:]:
            tg.push_update(tg.private_text(citizen, "во время таймаутов"))
        await tg.wait_for(lambda: all(tg.sent(c) for c in citizens), timeout=FAULT_SECONDS + 90)
    counts = acks_by_citizen(tg, citizens)
    assert set(counts.values()) == {1}, counts


async def test_citizen_who_blocked_the_bot_flags_ticket_and_staff_hear_of_each_answer(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        card = await card_of(tg, 1)
        tg.block_user(CITIZEN)
        for answer in ("первый ответ", "второй ответ"):
            tg.push_update(
                tg.group_text(STAFF_CHAT, OPERATOR, answer, reply_to=card["message_id"])
            )
        notices = await tg.wait_for(lambda: len(found := [
            t for t in texts_in(tg, STAFF_CHAT) if "не удалось доставить" in t
        ]) >= 2 and found)
    assert all(n.startswith("№1: не удалось доставить ответ") for n in notices)
    assert all("blocked" in n for n in notices)
    assert sorted(n.rsplit("«", 1)[1] for n in notices) == ["второй ответ».", "первый ответ»."]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT purpose, status, payload FROM outbox WHERE purpose IN ('answer', "
            "'staff_notice') ORDER BY id"
        ).fetchall()
    answers = [status for purpose, status, _ in rows if purpose == "answer"]
    stored = [payload for purpose, _, payload in rows if purpose == "staff_notice"]
    assert answers == ["failed", "failed"]
    assert len(stored) == 2  # one per undelivered answer, no more


async def test_staff_block_keeps_messages_without_acks_or_cards(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_update(tg.private_text(CITIZEN, "спам"))
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/block", reply_to=card["message_id"]))
        await tg.wait_for(lambda: any("заблокирован" in t for t in texts_in(tg, STAFF_CHAT)))
        tg.push_update(tg.private_text(CITIZEN, "ещё спам"))
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/close", reply_to=card["message_id"]))
        await tg.wait_sent(2, chat_id=CITIZEN)  # the closing message
        tg.push_update(tg.private_text(CITIZEN, "после закрытия"))
        tg.push_update(tg.private_text(CITIZEN + 1, "другой житель"))
        await card_of(tg, 2)
        assert "другой житель" in texts_in(tg, STAFF_CHAT)[-1]
        tg.push_update(
            tg.group_text(STAFF_CHAT, OPERATOR, "/unblock", reply_to=card["message_id"])
        )
        await tg.wait_for(lambda: any("разблокирован" in t for t in texts_in(tg, STAFF_CHAT)))
        tg.push_update(tg.private_text(CITIZEN, "я исправился"))
        await card_of(tg, 3)
    assert len(tg.sent(CITIZEN)) == 3  # ack №1, closing №1, ack №3
    with sqlite3.connect(db) as conn:
        texts = [r[0] for r in conn.execute("SELECT text FROM messages ORDER BY id")]
        kept = [r[0] for r in conn.execute("SELECT payload FROM inbox WHERE payload LIKE ?",
                                           ("%после закрытия%",))]
    assert "ещё спам" in texts and kept


async def test_flooding_citizen_is_slowed_with_one_notice(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", flood_limit=5):
        for index in range(12):
            tg.push_update(tg.private_text(CITIZEN, f"сообщение {index}"))
        await tg.wait_for(lambda: any("слишком часто" in t for t in texts_in(tg, CITIZEN)))
        tg.push_update(tg.private_text(CITIZEN + 1, "спокойный житель"))
        await card_of(tg, 2)
    notices = [t for t in texts_in(tg, CITIZEN) if "слишком часто" in t]
    assert len(notices) == 1 and "№1" in notices[0]
    follow_ups = [t for t in texts_in(tg, STAFF_CHAT) if t.startswith("№1 · новое")]
    assert len(follow_ups) == 4  # messages 2..5; the rest kept without cards


async def test_citizen_cannot_reach_another_citizens_ticket(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_update(tg.private_text(CITIZEN, "мой вопрос"))
        card = await card_of(tg, 1)
        # Another citizen replies, in their private chat, to a message id equal to the card's.
        intruder = CITIZEN + 1
        tg.push_update(tg.private_text(intruder, "первое"))
        await tg.wait_sent(1, chat_id=intruder)
        tg.push_update(tg.message_update(
            intruder, intruder, text="/close подделка", message_id=card["message_id"] + 50,
        ))
        tg.push_update(tg.private_text(intruder, "ответ чужому", reply_to_message_id=1))
        await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 4)
    assert len(tg.sent(CITIZEN)) == 1  # only their own acknowledgement
    # Everything the intruder sent is on his own ticket, №2, still open; №1 holds only its
    # citizen's question and was not closed.
    with sqlite3.connect(db) as conn:
        tickets = conn.execute(
            "SELECT id, citizen_id, status FROM tickets ORDER BY id"
        ).fetchall()
        messages = conn.execute(
            "SELECT ticket_id, direction, text FROM messages ORDER BY id"
        ).fetchall()
    assert tickets == [(1, str(CITIZEN), "open"), (2, str(intruder), "open")]
    assert messages == [
        (1, "in", "мой вопрос"), (2, "in", "первое"), (2, "in", "/close подделка"),
        (2, "in", "ответ чужому"),
    ]
    follow_ups = [t for t in texts_in(tg, STAFF_CHAT) if t.startswith("№2 · новое")]
    assert len(follow_ups) == 2 and "ответ чужому" in follow_ups[1]


async def test_only_listed_staff_may_answer(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", staff_user_ids=str(OPERATOR)):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        card = await card_of(tg, 1)
        card_id = card["message_id"]
        tg.push_update(tg.group_text(STAFF_CHAT, 9999, "не сотрудник", reply_to=card_id))
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "сотрудник", reply_to=card_id))
        await tg.wait_sent(2, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN)[1].endswith("сотрудник")
    assert not any("не сотрудник" in t for t in texts_in(tg, CITIZEN))


HOSTILE = [
    "<b>bold</b><i>x</i><a href='tg://user?id=1'>me</a>",
    "*bold* _it_ [link](https://evil.example) `code` ||spoiler||",
    "x" * 10_000,
    "невидимый\u200b\u200c\u200dтекст \u202eesrever\u202c",
    "нулевой\x00байт",
    "👨‍👩‍👧‍👦" * 600,
    "&amp; &lt;script&gt; &#0; &#x110000;",
    "\u00ad\ufeff",
]


async def test_hostile_texts_each_become_a_ticket(tg: FakeTelegram, tmp_path: Path) -> None:
    citizens = range(CITIZEN, CITIZEN + len(HOSTILE))
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        for citizen, text in zip(citizens, HOSTILE, strict=True):
            tg.push_update(tg.private_text(citizen, text))
        dice = {"emoji": "🎲", "value": 3}
        tg.push_update(tg.message_update(CITIZEN + 100, CITIZEN + 100, dice=dice))
        await tg.wait_for(lambda: all(tg.sent(c) for c in citizens), timeout=20)
        last = (await card_of(tg, len(HOSTILE) + 1))["text"]
    assert "[кубик: 🎲 3]" in last
    for citizen in citizens:
        assert texts_in(tg, citizen)[0].startswith("Ваше сообщение №")
    assert not [r for r in tg.requests if r.status == 400]
    assert "\u202e" not in " ".join(texts_in(tg, STAFF_CHAT))


async def test_malformed_and_unknown_updates_do_not_stop_the_bot(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_raw({"message": {"message_id": "not a number", "chat": None}})
        tg.push_raw({"some_future_update": {"id": 1}})
        tg.push_raw({"message_reaction": {"chat": {"id": 1, "type": "private"}}})
        tg.push_update(tg.private_text(CITIZEN, "после мусора"))
        await tg.wait_sent(1, chat_id=CITIZEN)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT done, error FROM inbox ORDER BY id").fetchall()
    assert all(done for done, _ in rows)
    assert [error for _, error in rows] == [
        "malformed update: ValidationError",  # a message with a bad id and no chat
        "unknown update kind: some_future_update",
        "malformed update: ValidationError",  # a reaction without its required fields
        None,  # the citizen after them, answered
    ]


async def test_logs_hold_no_token_and_no_personal_data(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(
            CITIZEN, "Пишет Секретова, тел. +79991234567", first_name="Секретова"
        ))
        card = await card_of(tg, 1)
        tg.block_user(CITIZEN)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Ответ", reply_to=card["message_id"]))
        await tg.wait_for(lambda: any("не удалось" in t for t in texts_in(tg, STAFF_CHAT)))
    logged = caplog.text
    assert logged  # the desk did log something
    for secret in (TOKEN, TOKEN.split(":")[1], "Секретова", "+79991234567", str(CITIZEN)):
        assert secret not in logged


async def test_cards_wait_while_the_bot_is_out_of_the_staff_chat(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Removed while the desk runs (at start it would not start: test_startup_checks.py).
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        await tg.wait_for(lambda: tg.getupdates_calls)
        tg.block_user(STAFF_CHAT)  # the bot was removed from the staff chat
        tg.push_update(tg.private_text(CITIZEN, "вопрос, пока бота нет в чате"))
        await tg.wait_for(lambda: sum(r.status == 403 for r in tg.requests) >= 2)
        tg.unblock_user(STAFF_CHAT)  # someone adds it back
        card = await card_of(tg, 1)
    assert "вопрос, пока бота нет в чате" in card["text"]
    assert "STAFF_CHAT_ID: Telegram refuses messages" in caplog.text


async def test_one_bad_staff_message_does_not_hold_back_the_cards_after_it(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3") as desk:
        assert desk.app is not None
        async with desk.app.store.transaction() as tx:
            await tx.enqueue(Outbound(
                Platform.TELEGRAM, str(STAFF_CHAT), Purpose.FOLLOW_UP,
                copy_from=(str(CITIZEN), "424242"),  # a message Telegram cannot find
            ))
        tg.push_update(tg.private_text(CITIZEN, "после плохой строки"))
        card = await card_of(tg, 1)
    assert "после плохой строки" in card["text"]
    assert any(r.status == 400 for r in tg.requests)
