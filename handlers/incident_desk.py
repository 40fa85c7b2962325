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

from handlers import buttons
from handlers.actions import TicketActions
from handlers.commands import command_of
from handlers.incidents import Incidents, incident_number, numbers
from handlers.model import Inbound
from handlers.outgoing import tell_staff
from handlers.premises import Premises, Room
from storage.base import Incident, Ticket, Transaction
from storage.values import Outbound, Platform, Purpose


class Answer(Protocol):
    """Staff's answer to one ticket, kept on it under `source_key` (`StaffDesk._answer`)."""

    def __call__(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, text: str, html_text: str,
        *, source_key: str = "",
    ) -> Awaitable[None]: ...
INCIDENT_COMMANDS = frozenset({"merge", "apart", "close"})


class IncidentDesk(Room):
    """A staff message replying to an incident's card, in its transaction."""

    def __init__(self, premises: Premises, actions: TicketActions, answer: Answer) -> None:
        super().__init__(premises)
        self.incidents = Incidents(premises)
        self.actions = actions
        self.answer = answer

    async def handle(self, tx: Transaction, incident: Incident, inbound: Inbound) -> None:
        command = command_of(inbound.text)
        number = incident_number(incident.id)
        if command == "merge":
            told = await self._merge(tx, incident)
        elif command == "apart":
            told = await self._apart(tx, incident)
        elif command == "close":
            told = await self._close(tx, incident)
        elif inbound.text.lstrip().startswith("/"):
            word = inbound.text.strip().split(maxsplit=1)[0]
            told = self.texts.get("incident-command-unknown", incident=number, command=word)
        else:
            told = await self._answer_all(tx, incident, inbound)
        await tx.enqueue(tell_staff(
            inbound.chat_id or self.config.staff_chat_id, told, reply_to=inbound.message_id,
        ))

    async def _merge(self, tx: Transaction, incident: Incident) -> str:
        number = incident_number(incident.id)
        if incident.state != "suggested":
            return self.texts.get(f"incident-is-{incident.state}", incident=number)
        await tx.set_incident_state(incident.id, "open", self.now())
        tickets = [t for t in await tx.incident_tickets(incident.id) if t.is_open]
        opened = await tx.incident(incident.id)
        assert opened is not None  # in this very transaction
        await self._take_buttons_off(tx, incident)
        await tx.enqueue(self.open_card(opened, tickets))
        return self.texts.get("incident-merged", incident=number, count=len(tickets))

    async def _apart(self, tx: Transaction, incident: Incident) -> str:
        number = incident_number(incident.id)
        if incident.state != "suggested":
            return self.texts.get(f"incident-is-{incident.state}", incident=number)
        tickets = await tx.incident_tickets(incident.id)
        await tx.set_incident_state(incident.id, "dismissed", self.now())
        await self._take_buttons_off(tx, incident)
        return self.texts.get("incident-apart", incident=number, numbers=numbers(tickets))

    async def _close(self, tx: Transaction, incident: Incident) -> str:
        number = incident_number(incident.id)
        if incident.state != "open":
            return self.texts.get(f"incident-is-{incident.state}", incident=number)
        tickets = [t for t in await tx.incident_tickets(incident.id) if t.is_open]
        for ticket in tickets:
            await self.actions.close(tx, ticket)
        await tx.set_incident_state(incident.id, "closed", self.now())
        await self._take_buttons_off(tx, incident)
        return self.texts.get("incident-closed", incident=number, count=len(tickets))

    async def _answer_all(self, tx: Transaction, incident: Incident, inbound: Inbound) -> str:
        """One answer to every open ticket of the incident; a message handled twice
        answers nobody twice (recorded by its key)."""
        number = incident_number(incident.id)
        if incident.state != "open":
            return self.texts.get(f"incident-answer-{incident.state}", incident=number)
        key = f"incident-answer:{inbound.source_key}"
        if await tx.get_state(key) is not None:
            return self.texts.get("incident-answered-before", incident=number)
        tickets = [t for t in await tx.incident_tickets(incident.id) if t.is_open]
        for ticket in tickets:
            await self.answer(tx, ticket, inbound, inbound.text, inbound.html_text,
                              source_key=f"{inbound.source_key}#{ticket.id}")
        await tx.set_state(key, str(len(tickets)))
        await tx.incident_answered(incident.id, self.now())
        return self.texts.get("incident-answered", incident=number, count=len(tickets))

    async def _take_buttons_off(self, tx: Transaction, incident: Incident) -> None:
        if incident.card_chat_id and incident.card_message_id:
            await tx.enqueue(Outbound(
                platform=Platform.TELEGRAM, chat_id=incident.card_chat_id,
                purpose=Purpose.CARD_EDIT, edits=incident.card_message_id,
            ))

    def open_card(self, incident: Incident, tickets: list[Ticket]) -> Outbound:
        """An open incident's card: its number, title, reporters by platform, «Закрыть»."""
        by_platform = {
            platform: sum(1 for t in tickets if t.platform is platform) for platform in Platform
        }
        lines = [
            self.texts.html("incident-card", incident=incident_number(incident.id),
                            title=incident.title, count=len(tickets),
                            telegram=by_platform[Platform.TELEGRAM], vk=by_platform[Platform.VK]),
            self.texts.html("incident-numbers", numbers=numbers(tickets)),
            self.texts.html("incident-card-hint"),
        ]
        chat_id, topic = self.config.place(incident.category)
        return Outbound(
            platform=Platform.TELEGRAM, chat_id=chat_id, topic=topic,
            purpose=Purpose.INCIDENT_CARD, text="\n".join(lines), html=True,
            incident=incident.id, buttons=buttons.incident(self.texts),
        )
