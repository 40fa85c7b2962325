"""What the desk does with messages that could not be delivered, against a real store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.feedback import DeliveryFeedback
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose
from tests.conftest import MOSCOW, STAFF_CHAT
from tests.test_desk import citizen, outbox, send_all, staff

SUPERVISORS = "-100900"
BLOCKED = "Forbidden: bot was blocked by the user"


@pytest.fixture
def feedback(store: SqliteStore, texts: Texts) -> DeliveryFeedback:
    config = DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        escalation_chat_id=SUPERVISORS,
    )
    return DeliveryFeedback(store, texts, config)


async def notices(store: SqliteStore) -> list[Outbound]:
    return [i.outbound for i in await outbox(store) if i.outbound.chat_id == STAFF_CHAT]


async def test_failed_acknowledgement_flags_ticket_and_tells_staff_once_per_reason(
    desk: FrontDesk, feedback: DeliveryFeedback, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    ack = (await outbox(store))[0].outbound
    await send_all(store)
    await feedback.delivery_failed(ack, BLOCKED)
    await feedback.delivery_failed(ack, BLOCKED)
    rows = await notices(store)
    assert len(rows) == 1 and "№1" in rows[0].text and rows[0].reply_to_card
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.unreachable == BLOCKED


async def test_each_undelivered_answer_is_told_with_its_words(
    desk: FrontDesk, feedback: DeliveryFeedback, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    for number, words in enumerate(("Первый ответ", "Второй ответ")):
        await desk.receive(staff(words, reply_to="5001", message_id=900 + number))
    answers = [i.outbound for i in await outbox(store) if i.outbound.purpose is Purpose.ANSWER]
    await send_all(store)
    for answer in answers:
        await feedback.delivery_failed(answer, BLOCKED)
    rows = await notices(store)
    assert len(rows) == 2
    assert "№1" in rows[0].text and "«Первый ответ»" in rows[0].text
    assert "№1" in rows[1].text and "«Второй ответ»" in rows[1].text


async def test_a_delivery_clears_the_flag_so_the_next_failure_is_told_again(
    desk: FrontDesk, feedback: DeliveryFeedback, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    ack = (await outbox(store))[0].outbound
    await send_all(store)
    await feedback.delivery_failed(ack, BLOCKED)
    await send_all(store)
    await desk.receive(citizen("ещё", message_id=2))  # a follow-up: nothing to the citizen
    await desk.receive(staff("Ответ", reply_to="5001"))
    await send_all(store)  # the answer reaches the citizen
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.unreachable is None
    await feedback.delivery_failed(ack, BLOCKED)
    assert len(await notices(store)) == 1


async def test_failure_in_the_supervisors_chat_is_not_told_as_citizen_unreachable(
    feedback: DeliveryFeedback, desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    escalation = Outbound(
        Platform.TELEGRAM, SUPERVISORS, Purpose.ESCALATION, "<b>№1</b> без ответа", html=True,
        ticket_id=1,
    )
    await feedback.delivery_failed(escalation, "Bad Request: message is too long")
    rows = await notices(store)
    assert len(rows) == 1
    assert rows[0].text.startswith("№1: сообщение бота в чат руководителей не отправлено")
    assert "гражданину" not in rows[0].text
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.unreachable is None


async def test_a_failed_failure_notice_ends_in_the_log_not_in_another_notice(
    feedback: DeliveryFeedback, store: SqliteStore
) -> None:
    card = Outbound(Platform.TELEGRAM, STAFF_CHAT, Purpose.CARD, "<b>№1</b>", html=True)
    await feedback.delivery_failed(card, "Bad Request: message is too long")
    notice = (await notices(store))[0]
    assert not notice.html and notice.purpose is Purpose.STAFF_NOTICE
    await send_all(store)
    await feedback.delivery_failed(notice, "Bad Request: something odd")
    assert await notices(store) == []
