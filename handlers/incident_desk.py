"""What staff do with an incident, replying to its card: confirm, dismiss, answer all, close.

«Объединить» (`/merge`) confirms a suggestion: the incident is open, new like tickets join it,
and its card is posted anew with «Закрыть». «Это разные» (`/apart`) dismisses it: its tickets
stay as they were and are never suggested again. A reply to an open incident's card is one
answer to every reporter, each on their own platform and channel, each its own outbox row;
`/close` closes every ticket of it and tells every citizen.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from handlers import render
from handlers.actions import TicketActions
from handlers.audit import by
from handlers.commands import command_of, number_arg
from handlers.escalation import answers_key
from handlers.incident_card import (
    answer_rows_key,
    enqueue_edit,
    incident_number,
    numbers,
    reporters_list,
)
from handlers.incidents import Incidents
from handlers.model import Inbound
from handlers.moves import Moves
from handlers.outgoing import tell_staff
from handlers.premises import Premises, Room
from storage.auditing import AuditAction
from storage.base import Incident, Ticket, Transaction
from storage.values import Outbound, Platform, Purpose


class Answer(Protocol):
    """Staff's answer to one ticket, kept on it under `source_key` (`StaffDesk._answer`)."""

    def __call__(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, text: str, html_text: str,
        *, source_key: str = "", incident: int | None = None,
    ) -> Awaitable[int]: ...
TITLE_CHARS = 100


class IncidentDesk(Room):
    """A staff message replying to an incident's card, in its transaction."""

    def __init__(
        self, premises: Premises, actions: TicketActions, moves: Moves, answer: Answer
    ) -> None:
        super().__init__(premises)
        self.incidents = Incidents(premises)
        self.actions = actions
        self.moves = moves
        self.answer = answer

    async def handle(self, tx: Transaction, incident: Incident, inbound: Inbound) -> None:
        command = command_of(inbound.text)
        number = incident_number(self.texts, incident.id)
        if command == "merge":
            told = await self._merge(tx, incident, inbound)
        elif command == "apart" and len(inbound.text.split()) > 1:
            told = await self._take_out(tx, incident, inbound)
        elif command == "apart":
            told = await self._apart(tx, incident, inbound)
        elif command == "close":
            told = await self._close(tx, incident, inbound)
        elif command == "title":
            told = await self._retitle(tx, incident, inbound)
        elif command == "list":
            chat_id = inbound.chat_id or self.config.staff_chat_id
            words = inbound.text.split()
            first = (number_arg(words[1]) if len(words) > 1 else None) or 1
            await tx.enqueue_many(await reporters_list(
                tx, self.texts, incident, chat_id, inbound.message_id, first=first))
            return
        elif inbound.text.lstrip().startswith("/"):
            word = inbound.text.strip().split(maxsplit=1)[0]
            told = self.texts.get("incident-command-unknown", incident=number, command=word)
        else:
            told = await self._answer_all(tx, incident, inbound)
        await tx.enqueue(tell_staff(
            inbound.chat_id or self.config.staff_chat_id, told, reply_to=inbound.message_id,
        ))

    async def _merge(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        number = incident_number(self.texts, incident.id)
        if incident.state != "suggested":
            return self.texts.get(f"incident-is-{incident.state}", incident=number)
        await tx.set_incident_state(incident.id, "open", self.now())
        await tx.audit(by(inbound, self.now(), AuditAction.INCIDENT_MERGED, incident=incident.id))
        tickets = [t for t in await tx.incident_tickets(incident.id) if t.is_open]
        opened = await tx.incident(incident.id)
        assert opened is not None  # in this very transaction
        await self._take_buttons_off(tx, incident)
        await tx.enqueue(await self.incidents.card(tx, opened))
        return self.texts.get("incident-merged", incident=number, count=len(tickets))

    async def _apart(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        number = incident_number(self.texts, incident.id)
        if incident.state != "suggested":
            return self.texts.get(f"incident-is-{incident.state}", incident=number)
        tickets = await tx.incident_tickets(incident.id)
        await tx.set_incident_state(incident.id, "dismissed", self.now())
        await tx.audit(by(inbound, self.now(), AuditAction.INCIDENT_DISMISSED,
                          incident=incident.id, detail=str(len(tickets))))
        await self._take_buttons_off(tx, incident)
        return self.texts.get(
            "incident-apart", incident=number, numbers=numbers(self.texts, [t.id for t in tickets])
        )

    async def _take_out(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        """`/apart 17` replying to the incident's card: ticket №17 leaves it."""
        word = inbound.text.split()[1].lstrip("№")
        wanted = number_arg(word)
        ticket = await tx.ticket(wanted) if wanted is not None else None
        if ticket is None or ticket.incident_id != incident.id:
            return self.texts.get("incident-not-its", number=word,
                                  incident=incident_number(self.texts, incident.id))
        return await self.take_out(tx, ticket, inbound)

    async def take_out(self, tx: Transaction, ticket: Ticket, inbound: Inbound) -> str:
        """The ticket leaves its incident for good («Это другое», `/apart`); one that had no
        card of its own (it joined a confirmed incident) gets one."""
        incident = await tx.incident(ticket.incident_id) if ticket.incident_id else None
        if incident is None:
            return self.texts.get("incident-none", number=ticket.id)
        number = incident_number(self.texts, incident.id)
        await tx.join_incident(ticket.id, None)
        await tx.audit(by(inbound, self.now(), AuditAction.TAKEN_OUT, ticket=ticket.id,
                          incident=incident.id))
        await enqueue_edit(tx, self.texts, self.config, incident, self.now())  # one fewer
        if ticket.is_open and ticket.card_message_id is None:
            await tx.enqueue(await self.moves.new_card(
                tx, ticket, self.texts.get("incident-moved-from", incident=number),
                inbound.author_name,
            ))
        return self.texts.get("incident-taken-out", incident=number, number=ticket.id)

    async def join(self, tx: Transaction, ticket: Ticket, rest: str, inbound: Inbound) -> str:
        """`/join И-3` replying to a ticket's card: it joins open incident №И-3 (its card
        stays); an answer to the incident reaches it too."""
        words = rest.split()
        wanted = number_arg(words[1].upper().lstrip("№").removeprefix("И-").removeprefix("I-")) \
            if len(words) > 1 else None
        incident = await tx.incident(wanted) if wanted is not None else None
        if incident is None or incident.state != "open":
            return self.texts.get("incident-join-which", number=ticket.id)
        number = incident_number(self.texts, incident.id)
        if not ticket.is_open:
            return self.texts.get("incident-join-closed", number=ticket.id, incident=number)
        if ticket.incident_id is not None:
            return self.texts.get("incident-join-already", number=ticket.id,
                                  incident=incident_number(self.texts, ticket.incident_id))
        await tx.join_incident(ticket.id, incident.id)
        joined = await tx.ticket(ticket.id)
        if joined is None or joined.incident_id != incident.id:  # set apart by staff before
            return self.texts.get("incident-join-apart", number=ticket.id, incident=number)
        await tx.audit(by(inbound, self.now(), AuditAction.JOINED, ticket=ticket.id,
                          incident=incident.id))
        return self.texts.get("incident-joined-by-staff", number=ticket.id, incident=number)

    async def _retitle(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        """`/title Нет отопления в Заречном`: the name reporters and the figures see."""
        number = incident_number(self.texts, incident.id)
        title = " ".join(render.clean(inbound.text).split()[1:])[:TITLE_CHARS].strip()
        if not title:
            return self.texts.get("incident-title-usage", incident=number)
        await tx.set_incident_title(incident.id, title)
        await tx.audit(by(inbound, self.now(), AuditAction.INCIDENT_TITLED, incident=incident.id))
        renamed = await tx.incident(incident.id)
        if renamed is not None:  # the card says it too
            await enqueue_edit(tx, self.texts, self.config, renamed, self.now())
        return self.texts.get("incident-titled", incident=number, title=title)

    async def _close(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        number = incident_number(self.texts, incident.id)
        if incident.state != "open":
            return self.texts.get(f"incident-is-{incident.state}", incident=number)
        tickets = [t for t in await tx.incident_tickets(incident.id) if t.is_open]
        for ticket in tickets:
            await self.actions.close(tx, ticket, inbound, incident=incident.id)
        await tx.set_incident_state(incident.id, "closed", self.now())
        await tx.audit(by(inbound, self.now(), AuditAction.INCIDENT_CLOSED, incident=incident.id,
                          detail=str(len(tickets))))
        closed = await tx.incident(incident.id)
        if closed is not None:  # the card, closed: no buttons; after any queued edit of it
            await enqueue_edit(tx, self.texts, self.config, closed, self.now())
        return self.texts.get("incident-closed", incident=number, count=len(tickets))

    async def _answer_all(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        """One answer to every open ticket of the incident; a message handled twice
        answers nobody twice (recorded by its key)."""
        number = incident_number(self.texts, incident.id)
        if incident.state != "open":
            return self.texts.get(f"incident-answer-{incident.state}", incident=number)
        key = f"incident-answer:{inbound.source_key}"
        if await tx.get_state(key) is not None:
            return self.texts.get("incident-answered-before", incident=number)
        tickets = [t for t in await tx.incident_tickets(incident.id) if t.is_open]
        rows = [
            await self.answer(tx, ticket, inbound, inbound.text, inbound.html_text,
                              source_key=f"{inbound.source_key}#{ticket.id}",
                              incident=incident.id)
            for ticket in tickets
        ]
        if rows:  # the card counts this answer's rows as they go
            await tx.set_state(answer_rows_key(incident.id), str(min(rows)))
            await enqueue_edit(tx, self.texts, self.config, incident, self.now())
        await tx.set_state(key, str(incident.id))
        answers = answers_key(incident.id)
        await tx.set_state(answers, str(int(await tx.get_state(answers) or "0") + 1))
        await tx.incident_answered(incident.id, self.now())
        await tx.audit(by(inbound, self.now(), AuditAction.INCIDENT_ANSWERED,
                          incident=incident.id, detail=str(len(tickets))))
        return self.texts.get("incident-answered", incident=number, count=len(tickets))

    async def answered_by(
        self, tx: Transaction, inbound: Inbound
    ) -> list[tuple[Ticket, str]]:
        """The tickets one staff message answered as an incident's answer, each with the key
        the answer is kept under on it; none for any other message."""
        value = await tx.get_state(f"incident-answer:{inbound.source_key}")
        if value is None or not value.isdigit():
            return []
        found = []
        for ticket in await tx.incident_tickets(int(value)):
            key = f"{inbound.source_key}#{ticket.id}"
            if await tx.ticket_by_message(key) is not None:
                found.append((ticket, key))
        return found

    async def _take_buttons_off(self, tx: Transaction, incident: Incident) -> None:
        if incident.card_chat_id and incident.card_message_id:
            await tx.enqueue(Outbound(
                platform=Platform.TELEGRAM, chat_id=incident.card_chat_id,
                purpose=Purpose.CARD_EDIT, edits=incident.card_message_id,
            ))
