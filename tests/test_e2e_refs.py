"""End to end: a staff reply to any bot message about tickets reaches them.

The `/queue` list and the digest name several tickets (a reply starts with `№<n>`); a note
that the citizen could not be reached names one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.test_e2e_telegram import card_of, texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

CITIZEN = 5554001
OPERATOR = 7001


async def test_reply_with_a_number_to_the_queue_answers_that_ticket(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        for n in range(2):
            tg.push_update(tg.private_text(CITIZEN + n, f"вопрос {n + 1}"))
            await card_of(tg, n + 1)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/queue"))
        listing = (await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "№2" in (r["message"].get("text") or "") and "№1" in r["message"]["text"]
            and not r["message"]["text"].startswith("№")
        ]))[0]
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "№2 Ответ второму.", reply_to=listing["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN + 1)
        assert texts_in(tg, CITIZEN + 1)[1].endswith("Ответ второму.")
        assert len(tg.sent(CITIZEN)) == 1  # only its acknowledgement


async def test_reply_to_the_undelivered_note_reaches_its_ticket(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        card = await card_of(tg, 1)
        await tg.wait_sent(1, chat_id=CITIZEN)
        tg.block_user(CITIZEN)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "ответ", reply_to=card["message_id"]))
        note = (await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "не удалось доставить" in (r["message"].get("text") or "")
        ]))[0]
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/close", reply_to=note["message_id"]))
        await tg.wait_for(lambda: "№1 закрыто." in texts_in(tg, STAFF_CHAT))


async def test_reply_with_a_number_to_the_digest_answers_that_ticket(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, escalation_after=1):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        await card_of(tg, 1)
    await asyncio.sleep(1.1)  # past the deadline: the digest lists №1 as overdue
    async with Desk(tg.base_url, db, escalation_after=1, digest_at="00:00"):
        digest = (await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if (r["message"].get("text") or "").startswith("Сводка")
        ]))[0]
        assert "№1" in digest["text"]
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "№1 Ответ по сводке.", reply_to=digest["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
        assert texts_in(tg, CITIZEN)[1].endswith("Ответ по сводке.")
