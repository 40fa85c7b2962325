"""Outbound messages as Bot API calls, and Telegram's errors as delivery results."""

from __future__ import annotations

import html
import logging
import re

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response
from aiogram.types import LinkPreviewOptions, Message, MessageId, ReplyParameters

from bot.delivery import DeliveryResult
from bot.telegram.split import CAPTION_LIMIT, html_visible_length, split_html, split_plain
from handlers.model import Outbound
from storage.base import Store

log = logging.getLogger(__name__)

# aiogram parametrizes Response[…] for every answer it reads, and pydantic keeps those
# classes only weakly: without a reference here, each send builds the class again.
KEEP_RESPONSE_TYPES = (Response[Message], Response[MessageId])

_TAGS = re.compile(r"<[^<>]+>")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def plain_of(markup: str) -> str:
    """What a person would read of HTML markup."""
    return html.unescape(_TAGS.sub("", markup))


class TelegramDelivery:
    """Sends outbox rows through the Bot API."""

    def __init__(self, bot: Bot, store: Store) -> None:
        self.bot = bot
        self.store = store

    async def deliver(self, outbound: Outbound, outbox_id: int) -> DeliveryResult:
        try:
            return await self._send(outbound)
        except TelegramRetryAfter as exc:
            return DeliveryResult.retry("429 too many requests", after=float(exc.retry_after))
        except TelegramMigrateToChat as exc:
            # The group became a supergroup with a new id: the setting must follow it.
            return DeliveryResult.failed(
                f"the chat became a supergroup, new id {exc.migrate_to_chat_id}",
                chat_refused=True,
            )
        except TelegramForbiddenError as exc:
            return DeliveryResult.failed(_reason(exc), chat_refused=True)
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message:
                return DeliveryResult.failed(_reason(exc), chat_refused=True)
            if "can't parse entities" in exc.message and outbound.html:
                log.error("markup rejected by Telegram; sending as plain text")
                outbound.html = False
                outbound.text = plain_of(outbound.text)
                return await self.deliver(outbound, outbox_id)
            return DeliveryResult.failed(_reason(exc))
        except (TelegramServerError, TelegramNetworkError) as exc:
            return DeliveryResult.retry(type(exc).__name__)
        except TelegramAPIError as exc:
            return DeliveryResult.retry(_reason(exc))

    async def _reply_to(self, outbound: Outbound) -> ReplyParameters | None:
        target = outbound.reply_to
        if outbound.reply_to_card and outbound.ticket_id is not None:
            ticket = await self.store.ticket(outbound.ticket_id)
            if ticket and ticket.card_chat_id == outbound.chat_id:
                target = ticket.card_message_id
        if not target:
            return None
        return ReplyParameters(message_id=int(target), allow_sending_without_reply=True)

    async def _send(self, out: Outbound) -> DeliveryResult:
        chat_id = int(out.chat_id)
        reply = await self._reply_to(out)
        parse_mode = ParseMode.HTML if out.html else None
        ids: list[int] = []
        if out.copy_from:
            caption = out.text or None
            if caption and html_visible_length(caption) > CAPTION_LIMIT:
                ids += await self._send_text(chat_id, out.text, out.html, reply)
                caption = None
            from_chat, message_id = out.copy_from
            copied = await self.bot.copy_message(
                chat_id=chat_id, from_chat_id=int(from_chat), message_id=int(message_id),
                caption=caption, parse_mode=parse_mode if caption else None,
                reply_parameters=reply,
            )
            ids.append(copied.message_id)
            return DeliveryResult.sent(*ids)
        photos = [a for a in out.attachments if a.kind == "photo" and a.url]
        if photos:
            for photo in photos:
                sent = await self.bot.send_photo(
                    chat_id=chat_id, photo=photo.url, caption=out.text or None,
                    parse_mode=parse_mode, reply_parameters=reply,
                )
                ids.append(sent.message_id)
            return DeliveryResult.sent(*ids)
        ids += await self._send_text(chat_id, out.text, out.html, reply)
        return DeliveryResult.sent(*ids)

    async def _send_text(
        self, chat_id: int, text: str, is_html: bool, reply: ReplyParameters | None
    ) -> list[int]:
        parts = split_html(text) if is_html else split_plain(text)
        ids = []
        for part in parts:
            sent = await self.bot.send_message(
                chat_id=chat_id, text=part, parse_mode=ParseMode.HTML if is_html else None,
                reply_parameters=reply, link_preview_options=_NO_PREVIEW,
            )
            ids.append(sent.message_id)
        return ids


def _reason(exc: TelegramAPIError) -> str:
    return exc.message.removeprefix("Telegram server says - ")
