"""What the front desk receives from the adapters: a citizen's or a staff member's message.

The values shared with the store (platforms, channels, purposes, attachments, `Outbound`)
live in `storage.values`, below every layer that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.values import Attachment, Channel, Platform


class Event(StrEnum):
    """What happened to a citizen's message."""

    NEW = "new"
    EDITED = "edited"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message, comment, edit or deletion, as the front desk sees it."""

    platform: Platform
    channel: Channel
    chat_id: str  # private chat / peer id, group chat, or the VK post for comments
    author_id: str
    author_name: str
    message_id: str  # the platform's id of this message within chat_id
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    author_link: str = ""
    reply_to: str | None = None  # the message id it replies to, in the same chat
    reply_to_bot: bool = False  # the message it replies to is the desk's own
    thread_id: str | None = None  # a discussion thread (Telegram) or post (VK)
    link: str = ""  # a public link to this message (comments)
    event: Event = Event.NEW
    is_staff_chat: bool = False
    html_text: str = ""  # the staff's text with its formatting, for relaying
    sent_at: datetime | None = None
    key: str = ""  # its own deduplication key, for what is not a message (a button pressed)

    @property
    def conversation(self) -> str:
        """The key that joins follow-ups to one open ticket."""
        if self.channel is Channel.COMMENT:
            return f"{self.chat_id}/{self.thread_id or ''}/{self.author_id}"
        return self.chat_id

    @property
    def source_key(self) -> str:
        """A stable key for deduplication of this message."""
        if self.key:
            return self.key
        return f"{self.platform}:{self.chat_id}:{self.message_id}"
