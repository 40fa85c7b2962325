"""Which Telegram chats the desk serves, read from an update before it is kept in the inbox.

An update from any other chat (a group the bot was added to, a private chat while
TELEGRAM_CITIZENS is off) is kept without its payload: its key still goes in the inbox, so
it is stored once and the polling position moves past it, but nobody's words or contacts
stay. Only a bare `/id` there keeps its payload, so the bot can answer the chat's id to the
person setting the desk up (bot/telegram/routers.py, other_chats_router), and so does a press
of a button (under the bot's own message), so it is answered: every callback query must be,
or the client keeps spinning (https://core.telegram.org/bots/api#answercallbackquery).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from handlers.config import DeskConfig

# The kinds that carry a message: Update's fields (https://core.telegram.org/bots/api#update).
_MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post")
_BARE_ID = re.compile(r"/id(?:@\w+)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ServedChats:
    """The groups the desk serves, and whether it serves citizens' private chats."""

    groups: frozenset[int]
    citizens: bool

    @classmethod
    def of(
        cls, config: DeskConfig, *, discussion: int | None, citizens: bool,
        more: Collection[int] = (),
    ) -> ServedChats:
        """The staff chat, the supervisors', the departments' and the discussion group."""
        ids = {int(c) for c in config.staff_chats() if c}
        if config.escalation_chat_id:
            ids.add(int(config.escalation_chat_id))
        if discussion is not None:
            ids.add(discussion)
        return cls(frozenset(ids | set(more)), citizens)

    def keeps(self, raw: dict[str, Any]) -> bool:
        """Whether the update's payload is kept: from a served chat, with no chat at all
        (the desk decides then), a press, or a bare /id anywhere."""
        if "callback_query" in raw:
            return True
        message = _message_of(raw)
        if message is None:
            return True
        chat = message.get("chat")
        if not isinstance(chat, dict):
            return True
        if chat.get("type") == "private":
            return self.citizens
        if chat.get("id") in self.groups:
            return True
        text = message.get("text")
        return isinstance(text, str) and _BARE_ID.fullmatch(text.strip()) is not None


def _message_of(raw: dict[str, Any]) -> dict[str, Any] | None:
    for kind in _MESSAGES:
        message = raw.get(kind)
        if isinstance(message, dict):
            return message
    return None
