"""Outbound messages as Bot API calls, and Telegram's errors as delivery results."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

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
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageId,
    ReplyParameters,
)

from bot.delivery import DeliveryResult
from bot.telegram.report_delivery import ReportDelivery, ReportNotSent, send_report
from bot.telegram.split import CAPTION_LIMIT, html_visible_length, split_html, split_plain
from storage.base import Store
from storage.values import Channel, Outbound, Purpose

log = logging.getLogger(__name__)

# aiogram parametrizes Response[…] for every answer it reads, and pydantic keeps those
# classes only weakly: without a reference here, each send builds the class again.
KEEP_RESPONSE_TYPES = (Response[Message], Response[MessageId])

_TAGS = re.compile(r"<[^<>]+>")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# 400s that mean the chat refuses the bot rather than the message: "not enough rights to send
# text messages to the chat", "have no rights to send a message", "need administrator rights
# in the channel chat", a closed forum topic (TOPIC_CLOSED), CHAT_WRITE_FORBIDDEN,
# CHAT_RESTRICTED, CHAT_SEND_*_FORBIDDEN.
_NO_RIGHTS = re.compile(
    r"rights|TOPIC_CLOSED|CHAT_WRITE_FORBIDDEN|CHAT_RESTRICTED|CHAT_SEND_\w+_FORBIDDEN",
    re.IGNORECASE,
)
# The message a copy was to be made of is gone or cannot be copied.
_COPY_FAILED = re.compile(r"message to copy not found|message can't be copied", re.IGNORECASE)


def keyboard(out: Outbound) -> InlineKeyboardMarkup | None:
    """The row's buttons as an inline keyboard; None when it has none."""
    if not out.buttons:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
        for row in out.buttons
    ])


# 400s about an inline keyboard: BUTTON_DATA_INVALID, BUTTON_TEXT_EMPTY ("text buttons are
# unallowed"…), REPLY_MARKUP_INVALID, as the Bot API words them.
_BUTTONS_REFUSED = re.compile(r"button|reply.?markup|keyboard", re.IGNORECASE)


def plain_of(markup: str) -> str:
    """What a person would read of HTML markup."""
    return html.unescape(_TAGS.sub("", markup))


class _Parts:
    """The parts of one row's message: those delivered before are skipped, new ones noted."""

    def __init__(self, done: int) -> None:
        self.done = done
        self.index = 0
        self.sent: list[int] = []

    async def send(self, call: Callable[[], Awaitable[int]]) -> None:
        self.index += 1
        if self.index > self.done:
            self.sent.append(await call())

    def again(self) -> None:
        """Start over in another form: what went is not sent again."""
        self.done += len(self.sent)
        self.index = 0


class TelegramDelivery:
    """Sends outbox rows through the Bot API."""

    def __init__(self, bot: Bot, store: Store, report: ReportDelivery | None = None) -> None:
        self.bot = bot
        self.store = store
        self.report = report  # draws the weekly report's rows

    async def deliver(self, outbound: Outbound, outbox_id: int, done: int = 0) -> DeliveryResult:
        """Send the row's message after its first `done` parts (sent by earlier attempts).

        Whatever the outcome, the result carries the ids of the parts this attempt sent.
        """
        parts = _Parts(done)
        result = await self._attempt(outbound, parts)
        return replace(result, message_ids=tuple(str(i) for i in parts.sent))

    async def _attempt(self, outbound: Outbound, parts: _Parts) -> DeliveryResult:
        try:
            return DeliveryResult(unrelayed=await self._send(outbound, parts))
        except TelegramRetryAfter as exc:
            return DeliveryResult.retry("429 too many requests", after=float(exc.retry_after))
        except ReportNotSent as exc:
            return DeliveryResult.failed(str(exc))
        except TelegramMigrateToChat as exc:
            # The group became a supergroup with a new id: the setting must follow it.
            return DeliveryResult.failed(
                f"the chat became a supergroup, new id {exc.migrate_to_chat_id}",
                chat_refused=True,
            )
        except TelegramForbiddenError as exc:
            return DeliveryResult.failed(_reason(exc), chat_refused=True)
        except TelegramBadRequest as exc:
            return await self._bad_request(outbound, parts, exc)
        except (TelegramServerError, TelegramNetworkError) as exc:
            return DeliveryResult.retry(type(exc).__name__)
        except TelegramAPIError as exc:
            return DeliveryResult.retry(_reason(exc))

    async def _bad_request(
        self, out: Outbound, parts: _Parts, exc: TelegramBadRequest
    ) -> DeliveryResult:
        """A 400: the chat refuses the bot, or the message needs another form, or it is ours."""
        reason = _reason(exc)
        if "chat not found" in exc.message or _NO_RIGHTS.search(exc.message):
            # The bot was muted, lost a right, or the topic it writes to was closed: the
            # chat refuses it, as when the bot is out of it, until someone puts it right.
            return DeliveryResult.failed(reason, chat_refused=True)
        if out.edits is not None:
            return await self._not_edited(out, parts, exc)
        if out.topic is not None and "message thread not found" in exc.message:
            # The department's forum topic was deleted: the card goes to the staff chat's
            # General topic, where staff see it, rather than nowhere.
            log.error("forum topic %s of chat %s is gone (%s); sending to the chat itself",
                      out.topic, out.chat_id, reason)
            parts.again()
            return await self._attempt(replace(out, topic=None), parts)
        if out.buttons and _BUTTONS_REFUSED.search(exc.message):
            # Buttons Telegram will not take (an operator's empty label, say): the message
            # goes without them, so the card and its replies still work.
            log.error("buttons rejected by Telegram (%s); sending without them", reason)
            parts.again()
            return await self._attempt(replace(out, buttons=()), parts)
        if "can't parse entities" in exc.message and out.html:
            log.error("markup rejected by Telegram; sending as plain text")
            parts.again()
            return await self._attempt(replace(out, html=False, text=plain_of(out.text)), parts)
        if _COPY_FAILED.search(exc.message) and out.copy_from is not None:
            # The message to copy is gone: the text goes alone, and people hear what did not.
            if not out.text:
                return DeliveryResult(unrelayed=reason)
            parts.again()
            result = await self._attempt(replace(out, copy_from=None), parts)
            return replace(result, unrelayed=result.unrelayed or reason) if result.ok else result
        if "message to be replied not found" in exc.message:
            return await self._reply_gone(out, parts, reason)
        return DeliveryResult.failed(reason)

    async def _not_edited(
        self, out: Outbound, parts: _Parts, exc: TelegramBadRequest
    ) -> DeliveryResult:
        """A card's buttons could not be replaced: already as asked is done; a card deleted,
        too old or refused is told of in words under it instead."""
        if "message is not modified" in exc.message or not out.text:
            return DeliveryResult()  # as asked already, or nothing to say instead
        if out.purpose is Purpose.INCIDENT_CARD:
            # The card is gone or too old to edit: posted anew, it is the incident's card.
            log.info("incident card %s not edited (%s); posting it anew", out.edits,
                     _reason(exc))
            parts.again()
            return await self._attempt(replace(out, edits=None), parts)
        log.info("card %s not edited (%s); saying it instead", out.edits, _reason(exc))
        parts.again()
        return await self._attempt(
            replace(out, edits=None, buttons=(), reply_to=out.edits), parts
        )

    async def _reply_gone(self, out: Outbound, parts: _Parts, reason: str) -> DeliveryResult:
        """The comment an answer replies to was deleted: reply to its post instead.

        A comment thread in a discussion group is the replies to the automatic forward of
        the channel post; `message_thread_id` is for forum topics only
        (https://core.telegram.org/bots/api#sendmessage), so the thread is kept by replying
        to its root, whose id is the thread's. Nothing goes to the group's main chat.
        """
        root = out.thread_id
        if out.channel is Channel.COMMENT and root and out.reply_to != root:
            parts.again()
            return await self._attempt(replace(out, reply_to=root), parts)
        if out.channel is Channel.COMMENT:
            return DeliveryResult.failed("the comment and the post it was under are gone")
        return DeliveryResult.failed(reason)

    async def _reply_to(self, outbound: Outbound) -> ReplyParameters | None:
        target = outbound.reply_to
        if outbound.reply_to_card and outbound.ticket_id is not None:
            ticket = await self.store.ticket(outbound.ticket_id)
            if ticket and ticket.card_chat_id == outbound.chat_id:
                target = ticket.card_message_id
        if not target:
            return None
        # Under a comment a reply must stay in its thread: without the replied message,
        # Telegram would post into the group's main chat, for everyone.
        return ReplyParameters(
            message_id=int(target),
            allow_sending_without_reply=outbound.channel is not Channel.COMMENT,
        )

    async def _send(self, out: Outbound, parts: _Parts) -> str | None:
        chat_id = int(out.chat_id)
        if out.edits is not None and out.purpose is Purpose.INCIDENT_CARD:
            await parts.send(functools.partial(self._edit_text, chat_id, out))
            return None
        if out.edits is not None:
            await parts.send(functools.partial(self._edit_buttons, chat_id, out))
            return None
        reply = await self._reply_to(out)
        if out.purpose is Purpose.REPORT:
            await send_report(self.report, self.bot, out, parts.send, reply)
            return None
        parse_mode = ParseMode.HTML if out.html else None
        if out.copy_from:
            caption = out.text or None
            if caption and html_visible_length(caption) > CAPTION_LIMIT:
                await self._send_text(parts, chat_id, out.text, out.html, reply, topic=out.topic)
                caption = None
            from_chat, message_id = out.copy_from

            async def copy() -> int:
                copied = await self.bot.copy_message(
                    chat_id=chat_id, from_chat_id=int(from_chat), message_id=int(message_id),
                    caption=caption, parse_mode=parse_mode if caption else None,
                    reply_parameters=reply, reply_markup=keyboard(out),
                    message_thread_id=out.topic,
                )
                return copied.message_id

            await parts.send(copy)
            return None
        photos = [a for a in out.attachments if a.kind == "photo" and a.url]
        if photos:
            for photo in photos:
                await parts.send(functools.partial(
                    self._photo, chat_id, photo.url, out.text or None, parse_mode, reply,
                    topic=out.topic,
                ))
            return None
        await self._send_text(
            parts, chat_id, out.text, out.html, reply, markup=keyboard(out), topic=out.topic
        )
        return None

    async def _edit_text(self, chat_id: int, out: Outbound) -> int:
        """An incident's card says what it says now (editMessageText): one message, never
        split, so the card's text is kept short enough by the desk. The card edited is the
        incident's card now: one posted anew since this edit was written replaces the old."""
        message_id = int(out.edits or 0)
        incident = await self.store.incident(out.incident) if out.incident else None
        if incident is not None and incident.card_chat_id == str(chat_id) \
                and (incident.card_message_id or "").isdigit():
            message_id = int(incident.card_message_id or 0)
        await self.bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=out.text, parse_mode=ParseMode.HTML,
            reply_markup=keyboard(out), link_preview_options=_NO_PREVIEW,
        )
        return message_id

    async def _edit_buttons(self, chat_id: int, out: Outbound) -> int:
        message_id = int(out.edits or 0)
        await self.bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id,
            reply_markup=keyboard(out) or InlineKeyboardMarkup(inline_keyboard=[]),
        )
        return message_id

    async def _photo(
        self, chat_id: int, url: str, caption: str | None, parse_mode: ParseMode | None,
        reply: ReplyParameters | None, *, topic: int | None = None,
    ) -> int:
        sent = await self.bot.send_photo(
            chat_id=chat_id, photo=url, caption=caption, parse_mode=parse_mode,
            reply_parameters=reply, message_thread_id=topic,
        )
        return sent.message_id

    async def _send_text(
        self, parts: _Parts, chat_id: int, text: str, is_html: bool,
        reply: ReplyParameters | None, *, markup: InlineKeyboardMarkup | None = None,
        topic: int | None = None,
    ) -> None:
        """The text in parts; the buttons go under the last one, where the message ends."""
        split = split_html(text) if is_html else split_plain(text)
        for number, part in enumerate(split, 1):
            last = markup if number == len(split) else None
            await parts.send(functools.partial(
                self._text, chat_id, part, is_html, reply, markup=last, topic=topic
            ))

    async def _text(
        self, chat_id: int, text: str, is_html: bool, reply: ReplyParameters | None,
        *, markup: InlineKeyboardMarkup | None = None, topic: int | None = None,
    ) -> int:
        sent = await self.bot.send_message(
            chat_id=chat_id, text=text, parse_mode=ParseMode.HTML if is_html else None,
            reply_parameters=reply, link_preview_options=_NO_PREVIEW, reply_markup=markup,
            message_thread_id=topic,
        )
        return sent.message_id


def _reason(exc: TelegramAPIError) -> str:
    return exc.message.removeprefix("Telegram server says - ")
