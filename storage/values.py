"""The values the store keeps and every layer above speaks in: platforms, purposes, messages.

They sit at the bottom with the store, so that `storage/` imports nothing from above it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    """Where a citizen wrote."""

    TELEGRAM = "telegram"
    VK = "vk"


class Channel(StrEnum):
    """How a citizen wrote: a private message, or a public comment under a post."""

    DIRECT = "direct"
    COMMENT = "comment"


class Purpose(StrEnum):
    """Why a message leaves the desk; the sender and the store treat some of them specially."""

    GREETING = "greeting"
    ACK = "ack"
    CARD = "card"
    FOLLOW_UP = "follow_up"
    ANSWER = "answer"
    CLOSING = "closing"
    NOTICE = "notice"
    STAFF_NOTICE = "staff_notice"
    ESCALATION = "escalation"
    DIGEST = "digest"
    CARD_EDIT = "card_edit"  # new buttons on a card already sent (`Outbound.edits`)
    INCIDENT_CARD = "incident_card"  # staff's card of an incident (`Outbound.incident`)
    # The weekly report: `text` is the ISO week (2026-W48); its chart and summary are drawn
    # from the store when it is sent.
    REPORT = "report"


# Staff-side messages that name their row's ticket: a reply to any of them reaches that
# ticket. The store records the references when it marks a row sent (with the tickets of
# `Outbound.refers`, whatever the purpose).
TICKET_REFS = frozenset({
    Purpose.CARD, Purpose.FOLLOW_UP, Purpose.ESCALATION, Purpose.STAFF_NOTICE,
    Purpose.CARD_EDIT,  # where the edit could not be made, its words say it as a message
})
# Messages to a ticket's citizen: one delivered shows the citizen can be reached again.
TO_CITIZEN = frozenset({
    Purpose.GREETING, Purpose.ACK, Purpose.ANSWER, Purpose.CLOSING, Purpose.NOTICE,
})


@dataclass(frozen=True, slots=True)
class Attachment:
    """Something besides text: shown to staff, or described in words where it cannot be."""

    kind: str  # photo, document, voice, audio, video, video_note, sticker, location, wall, ...
    ref: str = ""  # the platform's handle for relaying it (file id, "photo-1_2", URL)
    name: str = ""  # a file name or a short description
    url: str = ""  # where a person can open it, if anywhere


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to deliver: written to the outbox, sent later by the sender."""

    platform: Platform
    chat_id: str
    purpose: Purpose
    text: str = ""
    html: bool = False  # Telegram HTML markup; citizen text inside is already escaped
    ticket_id: int | None = None
    channel: Channel = Channel.DIRECT
    reply_to: str | None = None
    reply_to_card: bool = False  # resolved at send time to the ticket's card
    thread_id: str | None = None
    copy_from: tuple[str, str] | None = None  # (chat id, message id) to copy, with text as caption
    attachments: tuple[Attachment, ...] = ()
    refers: tuple[int, ...] = ()  # further tickets this message names (a list, a digest)
    # Inline buttons under the message, rows of (label, callback data); Telegram only.
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    topic: int | None = None  # a forum topic of the chat (Telegram's message_thread_id)
    # The desk's own message in chat_id whose buttons this row replaces; where the edit
    # cannot be made (the message is gone, too old), `text` goes as a new message instead.
    edits: str | None = None
    # The incident a staff-side message is about: a reply to it reaches the incident.
    incident: int | None = None

    def to_json(self) -> str:
        # By hand: dataclasses.asdict deep-copies every field and costs more than the rest.
        data = {
            "platform": self.platform.value, "chat_id": self.chat_id,
            "purpose": self.purpose.value, "text": self.text, "html": self.html,
            "ticket_id": self.ticket_id, "channel": self.channel.value,
            "reply_to": self.reply_to, "reply_to_card": self.reply_to_card,
            "thread_id": self.thread_id,
            "copy_from": list(self.copy_from) if self.copy_from else None,
            "attachments": [
                {"kind": a.kind, "ref": a.ref, "name": a.name, "url": a.url}
                for a in self.attachments
            ],
            "refers": list(self.refers),
            "buttons": [[list(button) for button in row] for row in self.buttons],
            "topic": self.topic, "edits": self.edits, "incident": self.incident,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Outbound:
        data: dict[str, Any] = json.loads(raw)
        data["platform"] = Platform(data["platform"])
        data["purpose"] = Purpose(data["purpose"])
        data["channel"] = Channel(data["channel"])
        data["attachments"] = tuple(Attachment(**a) for a in data.get("attachments", ()))
        data["copy_from"] = tuple(data["copy_from"]) if data.get("copy_from") else None
        data["refers"] = tuple(data.get("refers", ()))
        data["buttons"] = tuple(
            tuple((str(label), str(sent)) for label, sent in row)
            for row in data.get("buttons", ())
        )
        return cls(**data)
