"""The pacer between aiogram and the Bot API: every request that posts or edits a message
waits for its slot, as Telegram counts both against a chat's limit."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.pacing import TELEGRAM_LIMITS, Limits, Pacer, Rate, posts_a_message
from storage.values import Platform
from tests.fakes.telegram import TOKEN, FakeTelegram, FloodLimits

GROUP = -1009900
LIMIT = (3, 2.0)  # a group takes 3 messages in any 2 seconds, edits included


@pytest.mark.parametrize(("method", "paced"), [
    ("sendMessage", True), ("sendPhoto", True), ("copyMessage", True),
    ("editMessageText", True), ("editMessageReplyMarkup", True), ("editMessageCaption", True),
    ("sendChatAction", False), ("getUpdates", False), ("answerCallbackQuery", False),
    ("deleteMessage", False),
])
def test_what_counts_against_the_limits(method: str, paced: bool) -> None:
    assert posts_a_message(method) is paced


async def test_edits_of_a_card_wait_for_the_groups_limit_like_sends() -> None:
    limits = {Platform.TELEGRAM: Limits(overall=TELEGRAM_LIMITS.overall,
                                        private=TELEGRAM_LIMITS.private, group=Rate(*LIMIT))}
    pacer = Pacer(enabled=True, limits=limits)
    async with FakeTelegram(enforce_limits=FloodLimits(per_group=LIMIT)) as tg:
        tg.add_group(GROUP, "Операторы")
        session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
        session.middleware(pacer.telegram_middleware())
        bot = Bot(TOKEN, session=session)
        try:
            card = await bot.send_message(GROUP, "карточка")
            for n in range(4):
                await bot.edit_message_text(f"карточка: {n}", chat_id=GROUP,
                                            message_id=card.message_id)
        finally:
            await session.close()
        assert not [r for r in tg.requests if r.status == 429]
        assert tg.message(GROUP, card.message_id)["text"] == "карточка: 3"
