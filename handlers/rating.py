"""Ratings: the citizen is asked whether the answer helped when the ticket is closed.

The closing message of a private conversation that staff answered carries «1» … «5»; a press
comes back as a press with its data, `rate:<ticket>:<score>`, a prefix of its own beside the
staff buttons' `do:`. One rating per ticket: a later press changes it. A low one (1 or 2) goes
to the supervisors with the answer given. Under public comments no rating is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from handlers import render
from handlers.model import Event, Inbound
from handlers.outgoing import replying_to, tell_staff, to_citizen
from handlers.premises import Room
from storage.auditing import Actor, AuditAction, AuditEntry
from storage.base import Ticket, Transaction
from storage.values import Channel, Outbound, Purpose

PREFIX = "rate:"
SCORES = (1, 2, 3, 4, 5)
LOW = 2  # a score this low or lower is told to the supervisors
DATA_LIMIT = 64  # bytes of callback data Telegram keeps
ANSWER_EXCERPT = 1000  # characters of the staff answer quoted to the supervisors
_DATA = re.compile(r"rate:([1-9][0-9]{0,17}):([1-5])")

Buttons = tuple[tuple[tuple[str, str], ...], ...]


def data_of(ticket_id: int, score: int) -> str:
    """The data of the button giving `score` to ticket `ticket_id`."""
    data = f"{PREFIX}{ticket_id}:{score}"
    if score not in SCORES or len(data.encode()) > DATA_LIMIT:
        raise ValueError(f"not a rating button: {data!r}")
    return data


def is_rating(data: str | None) -> bool:
    """Whether a press's data is meant as a rating (well formed or not)."""
    return bool(data) and str(data).startswith(PREFIX)


def parse(data: str | None) -> tuple[int, int] | None:
    """(ticket, score) of a rating press; None for data the desk never put on a button."""
    if not data or len(data.encode()) > DATA_LIMIT:
        return None
    match = _DATA.fullmatch(data)
    return (int(match.group(1)), int(match.group(2))) if match else None


def buttons(ticket_id: int) -> Buttons:
    """One row: «1» … «5»."""
    return (tuple((str(score), data_of(ticket_id, score)) for score in SCORES),)


@dataclass(frozen=True, slots=True)
class Told:
    """What the citizen is told of a press; `refused`: nothing was stored."""

    text: str
    refused: bool = False
    changed: bool = True  # False for a double tap: the same score again


class Ratings(Room):
    """The closing message and the citizen's rating of the answer."""

    def closing(self, ticket: Ticket) -> Outbound:
        """The message that tells the citizen the ticket is closed; in a private conversation
        staff answered, with the question and its buttons."""
        text = self.texts.get("closing", number=ticket.id)
        if ticket.channel is not Channel.DIRECT or ticket.first_answer_at is None:
            # Public comments are never asked; nor is a ticket closed without an answer.
            return to_citizen(ticket, Purpose.CLOSING, text)
        question = self.texts.get("rating-question")
        return to_citizen(
            ticket, Purpose.CLOSING, f"{text}\n\n{question}", buttons=buttons(ticket.id)
        )

    async def rate(self, inbound: Inbound, inbox_id: int | None = None) -> Told:
        """A press of a rating button, its data in `inbound.text`, in one transaction.

        A press that came as a message (a VK text button: `inbound.key` is empty) is answered
        with a message; any other press the adapter answers with what is returned.
        """
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            ticket, told, quiet = await self._rate(tx, inbound, self.now())
            if not inbound.key and told.changed and not quiet:
                await tx.enqueue(self._reply(inbound, ticket, told))
        return told

    async def _rate(
        self, tx: Transaction, inbound: Inbound, now: datetime
    ) -> tuple[Ticket | None, Told, bool]:
        """The rating stored; the ticket, what the citizen is told, and whether they are
        blocked (their presses make no messages)."""
        refused = Told(self.texts.get("rating-refused"), refused=True)
        parsed = parse(inbound.text) if inbound.event is Event.NEW else None
        ticket = await tx.ticket(parsed[0]) if parsed is not None else None
        if parsed is None or ticket is None or not _asked(ticket, inbound):
            return None, refused, False  # malformed, or forged: someone else's ticket
        score = parsed[1]
        state = await tx.intake_state(
            inbound.source_key, ticket.platform, ticket.conversation, ticket.citizen_id
        )
        previous = await tx.rate(ticket.id, score, now)
        if previous == score:  # a double tap
            return ticket, Told(self.texts.get("rating-thanks"), changed=False), state.blocked
        # In the audit trail as the citizen's: the score only, no id or name of theirs.
        await tx.audit(AuditEntry(at=now, action=AuditAction.RATED, actor=Actor.CITIZEN,
                                  ticket_id=ticket.id, detail=str(score)))
        if score <= LOW and (previous is None or previous > LOW) and not state.blocked:
            await tx.enqueue(await self._low(tx, ticket, score))
        key = "rating-thanks" if previous is None else "rating-changed"
        return ticket, Told(self.texts.get(key)), state.blocked

    async def _low(self, tx: Transaction, ticket: Ticket, score: int) -> Outbound:
        """To the supervisors (the staff chat without them): №, score, citizen, the answer.

        A staff notice naming the ticket: a reply to it reaches the citizen, as one to the
        card does.
        """
        answers = [m for m in await tx.messages(ticket.id) if m.direction == "out"]
        lines = [self.texts.get(
            "rating-low", number=ticket.id, score=score,
            citizen=render.clean(ticket.citizen_name).strip() or "—"
        )]
        if answers:
            last = answers[-1]
            words = render.message_words(self.texts, last.text, last.attachments)
            if len(words) > ANSWER_EXCERPT:
                words = words[: ANSWER_EXCERPT - 1].rstrip() + "…"
            # Outside Fluent: staff's words are quoted whole, not cut at a placeable's limit.
            lines += [self.texts.get("rating-low-answer"), words]
        else:
            lines.append(self.texts.get("rating-low-no-answer"))
        lines.append(self.texts.get("rating-low-hint"))
        chat_id = self.config.escalation_chat_id or self.config.staff_chat_id
        # tell_staff escapes the whole text: the citizen's name and the answer included.
        return tell_staff(chat_id, "\n".join(lines), ticket_id=ticket.id, reply_to_card=True)

    @staticmethod
    def _reply(inbound: Inbound, ticket: Ticket | None, told: Told) -> Outbound:
        """The answer to a press that came as a message, where it came from."""
        if ticket is None:  # a refused press names no ticket of theirs
            return Outbound(inbound.platform, inbound.chat_id, Purpose.NOTICE, told.text)
        return replying_to(inbound, Purpose.NOTICE, told.text, ticket.id)


def _asked(ticket: Ticket, inbound: Inbound) -> bool:
    """The ticket was asked about (closed, answered, private), and the press is its
    citizen's, in their own chat."""
    return (
        ticket.channel is Channel.DIRECT and not ticket.is_open
        and ticket.first_answer_at is not None
        and ticket.platform is inbound.platform and inbound.channel is Channel.DIRECT
        and ticket.citizen_id == inbound.author_id and ticket.chat_id == inbound.chat_id
    )
