"""Delivery failures end to end: the real application and aiogram against the fake Bot API.

Each case ends with the message delivered or a person told: a muted staff chat, a closed
topic, a 429 in the middle of a message sent in parts, a citizen's message gone before its
copy, a deleted comment, a supervisors' chat that refuses the bot.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import DISCUSSION_CHAT, STAFF_CHAT, Desk
from tests.test_e2e_telegram import OPERATOR, card_of, texts_in

CITIZEN = 5553001
SUPERVISORS = -1001000000009


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        fake.add_group(DISCUSSION_CHAT, "Обсуждение канала")
        yield fake


def refused(tg: FakeTelegram, description: str) -> int:
    return sum(1 for r in tg.requests if r.description and description in r.description)


async def test_muted_staff_chat_keeps_the_card_until_the_bot_may_post_again(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tg.restrict_bot(STAFF_CHAT)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "вопрос, пока бот без права писать"))
        await tg.wait_for(lambda: refused(tg, "not enough rights to send text messages") >= 2)
        tg.unrestrict_bot(STAFF_CHAT)
        card = await card_of(tg, 1)
    assert "вопрос, пока бот без права писать" in card["text"]
    assert "STAFF_CHAT_ID: Telegram refuses messages" in caplog.text
    assert any(r.levelno == logging.ERROR and "not enough rights" in r.getMessage()
               for r in caplog.records)


async def test_closed_general_topic_keeps_the_card_until_it_is_reopened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegram() as tg:
        tg.add_group(STAFF_CHAT, "Операторы", is_forum=True)
        tg.close_topic(STAFF_CHAT)
        async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
            tg.push_update(tg.private_text(CITIZEN, "вопрос в закрытую тему"))
            await tg.wait_for(lambda: refused(tg, "TOPIC_CLOSED") >= 2)
            tg.reopen_topic(STAFF_CHAT)
            card = await card_of(tg, 1)
    assert "вопрос в закрытую тему" in card["text"]
    assert "STAFF_CHAT_ID: Telegram refuses messages to chat" in caplog.text


async def test_429_on_part_two_resumes_after_part_one_and_a_reply_to_it_counts(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    long_text = " ".join(f"слово{n}" for n in range(1000))  # a card of three parts
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=STAFF_CHAT, skip=1)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, long_text))
        parts = await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= 3 and tg.sent(STAFF_CHAT))
        first = parts[0]["message"]
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "Ответ на первую часть", reply_to=first["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
    assert [r.status for r in tg.requests
            if r.method == "sendMessage" and r.params.get("chat_id") == STAFF_CHAT] == [
        200, 429, 200, 200,  # part 2 refused once; part 1 never sent again
    ]
    texts = texts_in(tg, STAFF_CHAT)
    assert len(texts) == 3 and len(set(texts)) == 3  # each part once, in order
    assert texts[0].startswith("№1 ") and "слово999" in texts[2]
    assert texts_in(tg, CITIZEN)[1].endswith("Ответ на первую часть")


async def test_a_citizen_photo_that_cannot_be_copied_is_named_to_staff(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    update = tg.private_photo(CITIZEN, caption="яма на дороге")
    tg.push_update(update)
    tg.remove_message(CITIZEN, update["message"]["message_id"])  # gone before it is copied
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        card = await card_of(tg, 1)
        notice = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "не удалось показать" in (r["message"].get("text") or "")
        ])
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "Ответ через уведомление", reply_to=notice[0]["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN)
    assert "яма на дороге" in card["text"]
    assert notice[0]["text"].startswith("№1: ")
    assert "message to copy not found" in notice[0]["text"]
    assert texts_in(tg, CITIZEN)[1].endswith("Ответ через уведомление")


async def answer_under_comment(
    tg: FakeTelegram, tmp_path: Path, *, delete_post: bool
) -> tuple[int, int]:
    """A comment becomes №1; the comment (and the post) vanish; staff answer it."""
    post = tg.automatic_forward(DISCUSSION_CHAT, "Новость: ремонт моста")
    tg.push_update(post)
    thread = post["message"]["message_id"]
    comment = tg.discussion_comment(DISCUSSION_CHAT, CITIZEN, "А когда?", thread_id=thread)
    tg.push_update(comment)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", discussion_chat_id=DISCUSSION_CHAT):
        await tg.wait_sent(1, chat_id=DISCUSSION_CHAT)
        card = await card_of(tg, 1)
        tg.remove_message(DISCUSSION_CHAT, comment["message"]["message_id"])
        if delete_post:
            tg.remove_message(DISCUSSION_CHAT, thread)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "В июне.", reply_to=card["message_id"]))
        if delete_post:
            await tg.wait_for(lambda: any(
                t.startswith("№1: не удалось доставить") for t in texts_in(tg, STAFF_CHAT)
            ))
        else:
            await tg.wait_sent(2, chat_id=DISCUSSION_CHAT)
    return thread, comment["message"]["message_id"]


async def test_answer_under_a_deleted_comment_stays_under_the_post(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    thread, _ = await answer_under_comment(tg, tmp_path, delete_post=False)
    answer = tg.sent(DISCUSSION_CHAT)[1]["message"]
    assert answer["text"].endswith("В июне.")
    assert answer["reply_to_message"]["message_id"] == thread
    assert answer["message_thread_id"] == thread


async def test_answer_when_the_comment_and_its_post_are_gone_is_told_to_staff(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    await answer_under_comment(tg, tmp_path, delete_post=True)
    assert len(tg.sent(DISCUSSION_CHAT)) == 1  # the acknowledgement; nothing in the main chat
    notice = next(t for t in texts_in(tg, STAFF_CHAT) if t.startswith("№1: не удалось"))
    assert "the comment and the post it was under are gone" in notice


async def test_muted_supervisors_chat_keeps_escalations_and_staff_hear_of_it(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tg.add_group(SUPERVISORS, "Руководители")
    tg.restrict_bot(SUPERVISORS)
    ladder = {"escalation_after": 1, "escalation_check_interval": 1,
              "escalation_chat_id": SUPERVISORS, "business_hours": "24/7"}
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", **ladder):
        tg.push_update(tg.private_text(CITIZEN, "Нет воды"))
        await card_of(tg, 1)
        told = await tg.wait_for(lambda: [
            t for t in texts_in(tg, STAFF_CHAT) if "чат руководителей не принимает" in t
        ], timeout=20)
        tg.unrestrict_bot(SUPERVISORS)
        await tg.wait_for(lambda: any("№1 " in t for t in texts_in(tg, SUPERVISORS)), timeout=20)
    assert told[0].startswith("№1: ") and "ESCALATION_CHAT_ID" in told[0]
    assert not [t for t in texts_in(tg, STAFF_CHAT) if "гражданину" in t]
    assert "ESCALATION_CHAT_ID: Telegram refuses messages" in caplog.text


async def test_a_reply_to_a_delivery_notice_reaches_its_ticket(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        card = await card_of(tg, 1)
        tg.block_user(CITIZEN)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "ответ", reply_to=card["message_id"]))
        notice = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "не удалось доставить" in (r["message"].get("text") or "")
        ])
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "/close", reply_to=notice[0]["message_id"]
        ))
        await tg.wait_for(lambda: "№1 закрыто." in texts_in(tg, STAFF_CHAT))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM tickets WHERE id = 1").fetchone()[0] == "closed"
