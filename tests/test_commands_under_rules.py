"""/start, /help and /id obey the intake rules, and never swallow what a citizen wrote."""

from __future__ import annotations

from pathlib import Path

from handlers.desk import FrontDesk
from storage import SqliteStore
from storage.values import Platform, Purpose
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT
from tests.test_desk import citizen, outbox
from tests.test_e2e_telegram import texts_in
from tests.test_intake_faults import CITIZEN, FaultDesk

DISCUSSION = -1001000000555


async def greetings(store: SqliteStore) -> int:
    return sum(1 for i in await outbox(store) if i.outbound.purpose is Purpose.GREETING)


async def test_a_blocked_citizen_gets_no_greeting(desk: FrontDesk, store: SqliteStore) -> None:
    async with store.transaction() as tx:
        await tx.set_blocked(Platform.TELEGRAM, "42", True)
    for n in range(50):
        await desk.greet(citizen("/help", n + 1))
    assert await greetings(store) == 0


async def test_help_fifty_times_is_greeted_once_a_minute(
    desk: FrontDesk, store: SqliteStore
) -> None:
    for n in range(50):
        await desk.greet(citizen("/help", n + 1))
    assert await greetings(store) == 1


async def test_text_after_id_in_a_private_chat_is_a_message(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with FaultDesk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "/id у подъезда не горит фонарь"))
        await tg.wait_for(lambda: any("фонарь" in t for t in texts_in(tg, STAFF_CHAT)))
        tg.push_update(tg.private_text(CITIZEN + 1, "/id"))
        await tg.wait_sent(1, chat_id=CITIZEN + 1)
    assert any("№1" in t for t in texts_in(tg, CITIZEN))
    assert not any("№" in t for t in texts_in(tg, CITIZEN + 1))
    assert any(str(CITIZEN + 1) in t for t in texts_in(tg, CITIZEN + 1))


async def test_a_citizens_comment_starting_with_id_is_a_ticket(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.add_group(DISCUSSION, "Обсуждение")
    async with FaultDesk(tg.base_url, tmp_path / "d.sqlite3", discussion_chat_id=DISCUSSION):
        post = tg.automatic_forward(DISCUSSION, "Ремонт дорог")
        tg.push_update(post)
        thread = post["message"]["message_id"]
        tg.push_update(tg.discussion_comment(DISCUSSION, CITIZEN, "/id", thread))
        tg.push_update(
            tg.discussion_comment(DISCUSSION, CITIZEN + 1, "/id 17 — когда ремонт?", thread)
        )
        await tg.wait_for(lambda: len(texts_in(tg, STAFF_CHAT)) >= 2)
    staff = texts_in(tg, STAFF_CHAT)
    assert any("когда ремонт" in t for t in staff), staff
    assert sum("№" in t for t in texts_in(tg, DISCUSSION)) == 2, texts_in(tg, DISCUSSION)
