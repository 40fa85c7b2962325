"""A press on a button: under a staff-side message, the staff message its command is; under
a citizen's closing message in a private chat, their rating of the answer."""

from __future__ import annotations

import asyncio
import logging

from aiogram.exceptions import AiogramError
from aiogram.types import CallbackQuery

from handlers.buttons import command_of_press
from handlers.model import Inbound
from handlers.rating import is_rating
from storage.values import Channel, Platform

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 3.0  # seconds; a press stands whether or not its answer arrives


def press_to_inbound(query: CallbackQuery) -> Inbound | None:
    """The command of the button, from the presser, as a reply to the message it is under.

    None when the press names no command the desk puts on buttons, or the message is not
    there to reply to (too old for Telegram to show it to the bot).
    """
    command = command_of_press(query.data)
    # An old message Telegram no longer shows in full (InaccessibleMessage) still names its
    # chat and id, which is all a press needs to find its ticket.
    message = query.message
    if command is None or message is None:
        return None
    user = query.from_user
    return Inbound(
        platform=Platform.TELEGRAM,
        channel=Channel.DIRECT,
        chat_id=str(message.chat.id),
        author_id=str(user.id),
        author_name=user.full_name or "—",
        author_link=f"https://t.me/{user.username}" if user.username
        else f"tg://user?id={user.id}",
        # What staff are told replies to the message the button is under.
        message_id=str(message.message_id),
        text=command,
        reply_to=str(message.message_id),
        reply_to_bot=True,
        is_staff_chat=True,
        # Per button, not per press: a double tap on «2» under a list sends template 2 once.
        key=f"{Platform.TELEGRAM}:press:{message.chat.id}:{message.message_id}:{command}",
    )


def rating_to_inbound(query: CallbackQuery) -> Inbound | None:
    """A citizen's press under the desk's message in their private chat, with its data.

    None when the data is not a rating's or the press is under no message. Whether the
    ticket it names is the presser's is the desk's to check, not the chat's.
    """
    if not is_rating(query.data):
        return None
    return _citizen_press(query, "rate")


def citizen_press(query: CallbackQuery) -> Inbound | None:
    """A citizen's press under the desk's message in their private chat, with its data as
    the text; None under no message. Per button: the same button again is a double tap."""
    return _citizen_press(query, "press")


def _citizen_press(query: CallbackQuery, kind: str) -> Inbound | None:
    message = query.message
    if message is None:
        return None
    user = query.from_user
    data = str(query.data or "")
    return Inbound(
        platform=Platform.TELEGRAM,
        channel=Channel.DIRECT,
        chat_id=str(message.chat.id),
        author_id=str(user.id),
        author_name=user.full_name or "—",
        message_id=str(message.message_id),
        text=data,
        # Per button, not per press: the same button again is a double tap.
        key=f"{Platform.TELEGRAM}:{kind}:{message.chat.id}:{message.message_id}:{data}",
    )


async def answer(
    query: CallbackQuery, alert: str | None = None, *, toast: str | None = None
) -> None:
    """Stop the client's spinner; an alert says why nothing happened, a toast (a notice that
    goes by itself) what did.

    A press handled again after a restart is too old to answer (400 «query is too old»):
    the press itself was handled, so no failure of the answer fails the inbox row.
    """
    try:
        # Bounded: intake handles one update at a time, and a hung answer must not hold
        # citizens' messages behind it for the whole request timeout.
        await asyncio.wait_for(
            query.answer(text=alert or toast, show_alert=alert is not None), ANSWER_TIMEOUT
        )
    except (AiogramError, TimeoutError) as exc:  # the HTML page of a 502 too
        log.info("callback query not answered: %s", type(exc).__name__)

