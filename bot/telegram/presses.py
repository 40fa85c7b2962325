"""A press on a button under a staff-side message, as the staff message its command is."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message

from handlers.buttons import command_of_press
from handlers.model import Inbound
from storage.values import Channel, Platform

log = logging.getLogger(__name__)


def press_to_inbound(query: CallbackQuery) -> Inbound | None:
    """The command of the button, from the presser, as a reply to the message it is under.

    None when the press names no command the desk puts on buttons, or the message is not
    there to reply to (too old for Telegram to show it to the bot).
    """
    command = command_of_press(query.data)
    message = query.message
    if command is None or not isinstance(message, Message):
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
        key=f"{Platform.TELEGRAM}:press:{query.id}",
    )


async def answer(query: CallbackQuery, alert: str | None = None) -> None:
    """Stop the client's spinner; an alert says why nothing happened.

    A press handled again after a restart is too old to answer (400 «query is too old»):
    the press itself was handled, so no failure of the answer fails the inbox row.
    """
    try:
        await query.answer(text=alert, show_alert=alert is not None)
    except TelegramAPIError as exc:
        log.info("callback query not answered: %s", type(exc).__name__)

