"""Staff files fetched from Telegram, for relaying them to another platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from io import BytesIO

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

# A file's bytes by its Telegram file id; raises FileUnavailable when it can never be had.
FetchFile = Callable[[str], Awaitable[bytes]]


class FileUnavailable(Exception):
    """The file cannot be fetched, now or later (too big for the Bot API, gone)."""


def telegram_file_fetcher(bot: Bot) -> FetchFile:
    """Downloads through the Bot API; other errors (network) are worth a retry."""

    async def fetch(file_id: str) -> bytes:
        buffer = BytesIO()
        try:
            await bot.download(file_id, destination=buffer)
        except TelegramBadRequest as exc:
            # "file is too big": bots download at most 20 MB (core.telegram.org/bots/api#getfile).
            raise FileUnavailable(exc.message) from exc
        return buffer.getvalue()

    return fetch
