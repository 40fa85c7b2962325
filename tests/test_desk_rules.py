"""The desk's rules for commands, edits and slowing down, against a real SQLite store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from handlers.desk import FrontDesk
from handlers.model import Event
from storage import SqliteStore
from storage.values import Channel, Outbound, Platform, Purpose
from tests.conftest import STAFF_CHAT, FixedClock
from tests.test_desk import citizen, outbox, send_all, staff


def slowed_desk(desk: FrontDesk, limit: int) -> FrontDesk:
    desk.premises.config = replace(desk.config, flood_limit=limit)
    return desk


async def merged_cards(desk: FrontDesk, store: SqliteStore) -> None:
    """Tickets №1 and №2 whose cards went out merged, as staff-chat message 7000."""
    await desk.receive(citizen("первый", 1, user=41))
    await desk.receive(citizen("второй", 1, user=42))
    items = await outbox(store)
    cards = [i for i in items if i.outbound.purpose is Purpose.CARD]
    await store.outbox_sent_many(cards, ["7000"])
    for item in items:
        if item not in cards:
            await store.outbox_sent(item, ["1"])


# commands after the number, and nothing with a slash to a citizen


async def test_close_after_the_number_on_a_merged_card_closes_that_ticket(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await merged_cards(desk, store)
    await desk.receive(staff("№1 /close", "7000"))
    rows = [i.outbound for i in await outbox(store)]
    assert [(o.purpose, o.chat_id) for o in rows] == [
        (Purpose.CLOSING, "41"), (Purpose.STAFF_NOTICE, STAFF_CHAT),
    ]
    assert not any("/close" in o.text for o in rows if o.chat_id == "41")
    first, second = await store.ticket(1), await store.ticket(2)
    assert first is not None and not first.is_open
    assert second is not None and second.is_open


async def test_block_after_the_number_blocks_that_citizen(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await merged_cards(desk, store)
    await desk.receive(staff("№2 /block", "7000"))
    await send_all(store, 8000)
    await desk.receive(citizen("ещё", 2, user=42))
    assert await outbox(store) == []  # blocked: no follow-up card
    assert [m.text for m in await store.messages(2)] == ["второй", "ещё"]


async def test_unknown_command_is_never_sent_to_the_citizen(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    for n, text in enumerate(["/closed", "№1 /queue", "№2 /close", "  /answer текст"]):
        await desk.receive(staff(text, "5001", message_id=900 + n))
    rows = [i.outbound for i in await outbox(store)]
    assert [o.chat_id for o in rows] == [STAFF_CHAT] * 4
    assert all(o.purpose is Purpose.STAFF_NOTICE and "не отправлено" in o.text for o in rows)
    assert "/closed" in rows[0].text
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.is_open and ticket.first_answer_at is None


async def test_number_then_text_still_answers_a_single_card(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    await desk.receive(staff("№1 — ремонт в мае", "5001"))
    answer = (await outbox(store))[0].outbound
    assert answer.chat_id == "42" and answer.text.endswith("№1 — ремонт в мае")


# edits obey the intake rules


async def test_edits_of_a_blocked_citizen_make_no_staff_messages(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос", 3))
    await send_all(store)
    await desk.receive(staff("/block", "5001"))
    await send_all(store, 6000)
    for n in range(50):
        await desk.receive(citizen(f"правка {n}", 3, event=Event.EDITED))
    assert await outbox(store) == []
    assert [m.text for m in await store.messages(1)] == ["правка 49"]  # the edit is kept


async def test_edits_count_towards_the_flood_limit(
    desk: FrontDesk, store: SqliteStore
) -> None:
    slowed_desk(desk, 3)
    await desk.receive(citizen("вопрос", 3))
    await send_all(store)
    for n in range(50):
        await desk.receive(citizen(f"правка {n}", 3, event=Event.EDITED))
    rows = [i.outbound for i in await outbox(store)]
    staff_rows = [o for o in rows if o.chat_id == STAFF_CHAT]
    # Two edits reach staff (the message itself was the first of three), then one notice each.
    assert [o.purpose for o in staff_rows] == [Purpose.FOLLOW_UP] * 2 + [Purpose.STAFF_NOTICE]
    assert [o.purpose for o in rows if o.chat_id == "42"] == [Purpose.NOTICE]
    assert [m.text for m in await store.messages(1)] == ["правка 49"]


async def test_deletions_of_a_blocked_citizen_make_no_staff_messages(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос", 3))
    await send_all(store)
    await desk.receive(staff("/block", "5001"))
    await send_all(store, 6000)
    await desk.receive(citizen("", 3, event=Event.DELETED))
    assert await outbox(store) == []


# slowing down never discards


async def test_flooding_citizen_after_close_gets_a_quiet_ticket(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    slowed_desk(desk, 3)
    for n in range(3):
        await desk.receive(citizen(f"сообщение {n}", n + 1))
    await send_all(store)
    await desk.receive(staff("/close", "5001"))
    await send_all(store, 6000)
    await desk.receive(citizen("после закрытия", 10))
    second = await store.ticket(2)
    assert second is not None and second.is_open
    assert [m.text for m in await store.messages(2)] == ["после закрытия"]
    rows = await outbox(store)
    by_purpose = {i.outbound.purpose: i for i in rows}
    assert by_purpose[Purpose.CARD].outbound.ticket_id == 2  # staff see it at once
    notice = by_purpose[Purpose.NOTICE].outbound
    assert notice.chat_id == "42" and "№2" in notice.text
    # The acknowledgement waits until the slow-down is over.
    ack = by_purpose[Purpose.ACK]
    assert "№2" in ack.outbound.text
    due_now = await store.due_outbox(clock.moment + timedelta(seconds=59), 100)
    assert ack.id not in {i.id for i in due_now}
    due_later = await store.due_outbox(clock.moment + timedelta(minutes=1), 100)
    assert ack.id in {i.id for i in due_later}


async def test_flooding_commenter_under_another_post_gets_a_quiet_ticket(
    desk: FrontDesk, store: SqliteStore
) -> None:
    slowed_desk(desk, 2)
    for n in range(3):
        comment = replace(
            citizen(f"комментарий {n}", 70 + n), channel=Channel.COMMENT, chat_id="-100777",
            thread_id=str(n + 1),
        )
        await desk.receive(comment)
    assert [(await store.ticket(n)) is not None for n in (1, 2, 3)] == [True] * 3
    assert [m.text for m in await store.messages(3)] == ["комментарий 2"]


# staff: anonymous administrators, corrections, the supervisors' chat


async def test_anonymous_admin_answers_as_administrator_even_with_a_staff_list(
    desk: FrontDesk, store: SqliteStore
) -> None:
    desk.premises.config = replace(desk.config, staff_user_ids=frozenset({"5001"}))
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    await desk.receive(staff("посторонний ответ", "5001", message_id=900))
    # Not on the list: nothing for the citizen, only a note to the outsider.
    [note] = [i.outbound for i in await outbox(store)]
    assert note.purpose is Purpose.STAFF_NOTICE and note.reply_to == "900"
    await send_all(store, 6000)
    await desk.receive(replace(
        staff("ответ администратора", "5001", message_id=901), author_id=STAFF_CHAT,
        author_name="Операторы",
    ))
    answer = (await outbox(store))[0].outbound
    assert answer.chat_id == "42" and answer.text.endswith("ответ администратора")
    [record] = [m for m in await store.messages(1) if m.direction == "out"]
    assert record.author == "администратор"


async def test_staff_edit_of_an_answer_is_relayed_as_a_correction(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    await desk.receive(staff("Ремонт в мае", "5001", message_id=901))
    await send_all(store, 6000)
    await desk.receive(staff("Ремонт в июне", "5001", message_id=901, event=Event.EDITED))
    [row] = [i.outbound for i in await outbox(store)]
    assert row.chat_id == "42" and row.purpose is Purpose.ANSWER
    assert row.text == "Исправлено: ответ на ваше сообщение №1:\n\nРемонт в июне"
    assert [m.text for m in await store.messages(1) if m.direction == "out"] == [
        "Ремонт в июне"
    ]


async def test_staff_edit_of_talk_or_a_command_is_not_relayed(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    await desk.receive(staff("коллеги, кто на смене?", None, message_id=901))
    await desk.receive(staff("коллеги, кто сегодня?", None, message_id=901, event=Event.EDITED))
    assert await outbox(store) == []


async def test_supervisors_reply_to_an_escalation_closes_and_is_told_in_their_chat(
    desk: FrontDesk, store: SqliteStore
) -> None:
    desk.premises.config = replace(desk.config, escalation_chat_id="-100900")
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(
            Platform.TELEGRAM, "-100900", Purpose.ESCALATION, "№1 ждёт", ticket_id=1
        ))
    await send_all(store, 300)  # the level-2 message is message 300 in the supervisors' chat
    await desk.receive(replace(staff("/close", "300", message_id=12), chat_id="-100900"))
    rows = [i.outbound for i in await outbox(store)]
    assert [(o.purpose, o.chat_id) for o in rows] == [
        (Purpose.CLOSING, "42"), (Purpose.STAFF_NOTICE, "-100900"),
    ]
    assert rows[1].reply_to == "12"


async def test_reply_to_a_bot_message_naming_no_ticket_gets_a_hint(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(staff("/help", None, message_id=900))
    await send_all(store)
    await desk.receive(staff("а как ответить?", "5000", message_id=901, reply_to_bot=True))
    [row] = [i.outbound for i in await outbox(store)]
    assert row.chat_id == STAFF_CHAT and row.reply_to == "901"
    assert "начните с номера" in row.text
    await send_all(store, 6000)
    await desk.receive(staff("ответ коллеге", "777", message_id=902))
    assert await outbox(store) == []  # a reply to a person stays staff talk


async def test_start_with_text_greets_and_opens_a_ticket(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.greet(citizen("/start не горит фонарь"))
    rows = [i.outbound for i in await outbox(store)]
    assert [o.purpose for o in rows] == [Purpose.GREETING, Purpose.ACK, Purpose.CARD]
    assert [m.text for m in await store.messages(1)] == ["не горит фонарь"]
    await desk.greet(citizen("/start", 2))
    assert (await store.ticket(2)) is None



async def test_staff_correction_reaches_a_vk_citizen_as_plain_text(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(replace(citizen("вопрос"), platform=Platform.VK))
    await send_all(store)
    await desk.receive(staff("Приём <b>в среду</b>", "5001", message_id=901))
    await send_all(store, 6000)
    await desk.receive(staff(
        "Приём в четверг", "5001", message_id=901, event=Event.EDITED,
        html_text="Приём <b>в четверг</b>",
    ))
    [row] = [i.outbound for i in await outbox(store)]
    assert row.platform is Platform.VK and not row.html
    assert row.text == "Исправлено: ответ на ваше сообщение №1:\n\nПриём в четверг"


async def test_unlisted_supervisor_is_told_in_the_supervisors_chat(
    desk: FrontDesk, store: SqliteStore
) -> None:
    desk.premises.config = replace(
        desk.config, escalation_chat_id="-100900", staff_user_ids=frozenset({"5001"})
    )
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(
            Platform.TELEGRAM, "-100900", Purpose.ESCALATION, "№1 ждёт", ticket_id=1
        ))
    await send_all(store, 300)
    await desk.receive(replace(staff("ответ", "300", message_id=12), chat_id="-100900"))
    [row] = [i.outbound for i in await outbox(store)]
    assert row.chat_id == "-100900" and row.reply_to == "12"
