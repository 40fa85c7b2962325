"""The small builders of outgoing messages every room of the desk writes to the outbox."""

from __future__ import annotations

from typing import Any

from handlers.model import Inbound
from handlers.texts import escape
from storage.base import Ticket
from storage.values import Channel, Outbound, Platform, Purpose


def replying_to(inbound: Inbound, purpose: Purpose, text: str, ticket_id: int) -> Outbound:
    """A message back to where a citizen just wrote, as a reply to what they wrote."""
    return Outbound(
        platform=inbound.platform, chat_id=inbound.chat_id, purpose=purpose, text=text,
        ticket_id=ticket_id, channel=inbound.channel, reply_to=inbound.message_id,
        thread_id=inbound.thread_id,
    )


def to_citizen(ticket: Ticket, purpose: Purpose, text: str, **extra: Any) -> Outbound:
    """A message to a ticket's citizen; under a comment, a reply to their latest one."""
    return Outbound(
        platform=ticket.platform, chat_id=ticket.chat_id, purpose=purpose, text=text,
        ticket_id=ticket.id, channel=ticket.channel,
        reply_to=ticket.reply_to if ticket.channel is Channel.COMMENT else None,
        thread_id=ticket.thread_id, **extra,
    )


def under_card(chat_id: str, ticket_id: int, html_text: str, **extra: Any) -> Outbound:
    """A follow-up about a ticket in the staff chat, in HTML, as a reply to its card."""
    return Outbound(
        platform=Platform.TELEGRAM, chat_id=chat_id, purpose=Purpose.FOLLOW_UP,
        text=html_text, html=True, ticket_id=ticket_id, reply_to_card=True, **extra,
    )


def tell_staff(
    chat_id: str, text: str, *, reply_to: str | None = None, ticket_id: int | None = None,
    reply_to_card: bool = False,
) -> Outbound:
    """A notice in a staff-side chat (the staff's, or the supervisors' a message came from).

    `text` is plain: it is escaped here and goes as HTML.
    """
    return Outbound(
        platform=Platform.TELEGRAM,
        chat_id=chat_id,
        purpose=Purpose.STAFF_NOTICE,
        text=escape(text),
        html=True,
        ticket_id=ticket_id,
        reply_to=reply_to,
        reply_to_card=reply_to_card,
    )
