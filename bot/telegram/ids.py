"""/id: the chat's id and the sender's, for whoever sets the desk up.

Answered in a private chat, and in a group only to its administrators: a chat's id is not a
secret, but the bot should not answer every member's command in a staff or public group.
"""

from __future__ import annotations

import logging
import re

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message

from bot.telegram.convert import to_inbound
from handlers.desk import FrontDesk
from storage.values import Channel

log = logging.getLogger(__name__)

# https://core.telegram.org/bots/api#chatmember
ADMIN_STATUSES = frozenset({"creator", "administrator"})
_BARE_ID = re.compile(r"^\s*/id(?:@\w+)?\s*$", re.IGNORECASE)


def posted_as_the_chat(message: Message) -> bool:
    """An anonymous administrator: Telegram shows the group itself as the sender."""
    return message.sender_chat is not None and message.sender_chat.id == message.chat.id


async def is_admin(bot: Bot, message: Message) -> bool:
    """Whether the sender administers the chat, as Telegram says (getChatMember)."""
    if posted_as_the_chat(message):
        return True  # only administrators can write anonymously
    user = message.from_user
    if user is None:
        return False
    try:
        member = await bot.get_chat_member(message.chat.id, user.id)
    except TelegramAPIError as exc:
        # Not known to be an administrator: no answer; asking again will do.
        log.warning("/id: could not check the sender's rights: %s", type(exc).__name__)
        return False
    return member.status in ADMIN_STATUSES


async def bare_id(message: Message) -> bool:
    """`/id` and nothing else: with more text after it, it is a message like any other."""
    return _BARE_ID.match(message.text or "") is not None


async def answer_ids(
    message: Message, bot: Bot, desk: FrontDesk, inbox_id: int | None = None
) -> None:
    """/id in any chat: answered in private chats and to the chat's administrators."""
    if message.chat.type != "private" and not await is_admin(bot, message):
        return
    await desk.tell_ids(to_inbound(message), inbox_id, anonymous=posted_as_the_chat(message))


async def answer_ids_or_comment(
    message: Message, bot: Bot, desk: FrontDesk, inbox_id: int | None = None
) -> None:
    """/id under a post: ids for an administrator; a citizen's «/id …» is a comment."""
    if await is_admin(bot, message):
        await desk.tell_ids(
            to_inbound(message), inbox_id, anonymous=posted_as_the_chat(message)
        )
        return
    await desk.receive(to_inbound(message, channel=Channel.COMMENT), inbox_id)
