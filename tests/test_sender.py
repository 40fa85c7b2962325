"""The sender on a clock that runs fast, with the real aiogram client and the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import sender as sender_module
from bot.pacing import Pacer
from bot.sender import Sender
from bot.telegram.delivery import TelegramDelivery
from handlers.desk import FrontDesk
from handlers.feedback import DeliveryFeedback
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose
from tests.conftest import STAFF_CHAT
from tests.fakes.telegram import FakeTelegram
from tests.test_desk import citizen, outbox

CITIZEN = 42


class RunningClock:
    """Twenty minutes pass whenever the sender looks: a day of outage in a few seconds."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)
        self.first = self.moment

    def __call__(self) -> datetime:
        self.moment += timedelta(minutes=20)
        return self.moment


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(int(STAFF_CHAT), "Операторы")
        yield fake


@asynccontextmanager
async def running_sender(
    tg: FakeTelegram, store: SqliteStore, desk: FrontDesk, texts: Texts, clock: RunningClock,
) -> AsyncIterator[Sender]:
    async with tg.bot() as bot:
        sender = Sender(
            store, {Platform.TELEGRAM: TelegramDelivery(bot, store)},
            DeliveryFeedback(store, texts, desk.config), changed=store.changed, now=clock,
            give_up_after=timedelta(hours=24),
        )
        task = asyncio.create_task(sender.run())
        try:
            yield sender
        finally:
            sender.stop()
            await task


async def test_temporary_errors_are_retried_for_a_day_not_for_twelve_attempts(
    tg: FakeTelegram, store: SqliteStore, desk: FrontDesk, texts: Texts
) -> None:
    await desk.receive(citizen("вопрос", user=CITIZEN))
    tg.fail_next("sendMessage", 502, count=10_000, chat_id=CITIZEN)  # an outage, for them
    clock = RunningClock()
    async with running_sender(tg, store, desk, texts, clock):
        notice = await tg.wait_for(lambda: [
            t for r in tg.sent(int(STAFF_CHAT)) if "не удалось" in (t := r["message"]["text"])
        ], timeout=60)
    attempts = [r for r in tg.requests if r.params.get("chat_id") == CITIZEN]
    assert len(attempts) > 12  # the old limit: about a quarter of an hour of trying
    assert clock.moment - clock.first >= timedelta(hours=24)
    assert notice[0].startswith("№1: не удалось доставить сообщение гражданину")


async def test_staff_side_rows_are_never_given_up_by_time(
    tg: FakeTelegram, store: SqliteStore, desk: FrontDesk, texts: Texts
) -> None:
    async with store.transaction() as tx:
        await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF_CHAT, Purpose.CARD, "<b>№1</b>",
                                  html=True))
    tg.fail_next("sendMessage", 502, count=40, chat_id=int(STAFF_CHAT))
    clock = RunningClock()
    async with running_sender(tg, store, desk, texts, clock):
        await tg.wait_sent(1, chat_id=int(STAFF_CHAT), timeout=60)
    assert clock.moment - clock.first >= timedelta(hours=24)
    assert tg.sent(int(STAFF_CHAT))[0]["message"]["text"] == "№1"


class KilledAfterMarkingFailed(SqliteStore):
    """The process dies the instant a row is marked failed: nothing after it runs."""

    async def outbox_failed(self, *args: object, **kwargs: object) -> None:
        await super().outbox_failed(*args, **kwargs)  # type: ignore[arg-type]
        raise asyncio.CancelledError


async def test_a_crash_right_after_giving_up_still_leaves_staff_told(
    tg: FakeTelegram, desk: FrontDesk, texts: Texts, tmp_path: Path
) -> None:
    store = KilledAfterMarkingFailed(str(tmp_path / "killed.sqlite3"))
    await store.open()
    try:
        killed_desk = FrontDesk(store, texts, desk.calendar, desk.config, now=desk.now)
        await killed_desk.receive(citizen("вопрос", user=CITIZEN))
        tg.block_user(CITIZEN)  # 403: permanent, the row is given up at once
        clock = RunningClock()
        async with tg.bot() as bot:
            sender = Sender(
                store, {Platform.TELEGRAM: TelegramDelivery(bot, store)},
                DeliveryFeedback(store, texts, desk.config), changed=store.changed, now=clock,
                give_up_after=timedelta(hours=24),
            )
            with pytest.raises(asyncio.CancelledError):
                await sender._deliver([  # the first due row: the acknowledgement
                    next(i for i in await outbox(store) if i.outbound.chat_id == str(CITIZEN))
                ])
        notices = [
            i.outbound.text for i in await outbox(store)
            if i.outbound.purpose is Purpose.STAFF_NOTICE
        ]
        assert any("№1" in text for text in notices), notices
    finally:
        await store.close()


async def test_a_vk_message_left_when_vk_is_turned_off_is_told_to_staff(
    tg: FakeTelegram, store: SqliteStore, desk: FrontDesk, texts: Texts
) -> None:
    await desk.receive(replace(citizen("вопрос"), platform=Platform.VK))
    async with running_sender(tg, store, desk, texts, RunningClock()):  # Telegram only
        notice = await tg.wait_for(lambda: [
            t for r in tg.sent(int(STAFF_CHAT)) if "не удалось" in (t := r["message"]["text"])
        ])
    assert notice[0].startswith("№1")


async def test_a_staff_card_is_not_held_back_by_a_backlog_of_citizens_rows(
    tg: FakeTelegram, store: SqliteStore, desk: FrontDesk, texts: Texts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paced at Telegram's 30 a second, with more citizens' rows waiting than the sender
    holds in flight, a card written after them goes within the first few sends."""
    monkeypatch.setattr(sender_module, "MAX_INFLIGHT", 10)
    citizens = [6000 + n for n in range(60)]
    async with store.transaction() as tx:
        for user in citizens:
            tg.start_private_chat(user)
            await tx.enqueue(Outbound(Platform.TELEGRAM, str(user), Purpose.ACK, "принято"))
        await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF_CHAT, Purpose.CARD, "карточка"))
    async with tg.bot() as bot:
        pacer = Pacer(enabled=True)
        bot.session.middleware(pacer.telegram_middleware())
        sender = Sender(
            store, {Platform.TELEGRAM: TelegramDelivery(bot, store)},
            DeliveryFeedback(store, texts, desk.config), changed=store.changed, pacer=pacer,
        )
        task = asyncio.create_task(sender.run())
        try:
            await tg.wait_for(lambda: len(tg.sent()) == len(citizens) + 1, timeout=30)
        finally:
            sender.stop()
            await task
    order = [r["chat_id"] for r in tg.sent()]
    assert order.index(int(STAFF_CHAT)) < 25, order
