"""The practical upper limit: a bare aiogram echo bot, one sendMessage per update, no storage.

Run as `python -m bench.echo_bot` with TELEGRAM_TOKEN and TELEGRAM_API_URL set.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def echo(message: Message, bot: Bot) -> None:
    """Any message: its text back, one sendMessage."""
    await bot.send_message(message.chat.id, message.text or "…")


async def main() -> None:
    """aiogram's own polling; it stops on SIGTERM by itself."""
    logging.basicConfig(level=logging.WARNING)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["TELEGRAM_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    await dispatcher.start_polling(bot, polling_timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
