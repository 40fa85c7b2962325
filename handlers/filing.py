"""Filing a citizen's message the intake took in: on a new ticket, or on their open one."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from handlers import buttons, render
from handlers.incidents import Incidents
from handlers.model import Inbound
from handlers.outgoing import replying_to, under_card
from handlers.premises import Premises, Room
from storage.base import MessageRecord, NewTicket, Ticket, Transaction
from storage.values import Channel, Outbound, Platform, Purpose


class Filing(Room):
    """Writes tickets and messages, and what staff and the citizen are sent about them."""

    def __init__(self, premises: Premises) -> None:
        super().__init__(premises)
        self.incidents = Incidents(premises)

    def deadline(self, start: datetime) -> datetime:
        """When a ticket waiting on staff from `start` is due: ESCALATION_AFTER working time."""
        return self.calendar.add_working_time(start, self.config.escalation_after)

    async def open_ticket(
        self, tx: Transaction, inbound: Inbound, now: datetime, ack_at: datetime | None = None
    ) -> Ticket:
        """A new ticket: the acknowledgement (at `ack_at`, if given), the card, the media."""
        deadline = self.deadline(now)
        rules = self.config.departments
        department = rules.route(inbound.text) if rules is not None else None
        ticket = await tx.create_ticket(NewTicket(
            platform=inbound.platform,
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            conversation=inbound.conversation,
            citizen_id=inbound.author_id,
            citizen_name=inbound.author_name,
            citizen_link=inbound.author_link,
            thread_id=inbound.thread_id,
            reply_to=inbound.message_id,
            link=inbound.link,
            summary=render.summary(self.texts, inbound),
            opened_at=now,
            deadline_at=deadline,
            category=department.key if department else None,
        ))
        await self.record(tx, ticket.id, inbound, now)
        tx.after_commit(partial(  # counted once the ticket is in the store
            self.config.events.opened, ticket.platform.value, ticket.channel.value,
            ticket.category,
        ))
        if await self.incidents.joined(tx, ticket, inbound, now, ack_at) is not None:
            return ticket  # acknowledged as the incident's reporter; no card of its own
        local_deadline = self.texts.moment(deadline.astimezone(self.config.timezone))
        ack_key = "ack-received-comment" if inbound.channel is Channel.COMMENT else "ack-received"
        ack = replying_to(
            inbound, Purpose.ACK,
            self.texts.get(ack_key, number=ticket.id, deadline=local_deadline), ticket.id,
        )
        if ack_at is not None:
            await tx.enqueue(ack, not_before=ack_at)
        chat_id, topic = self.config.place(ticket.category)
        await tx.enqueue_many([
            *([ack] if ack_at is None else []),
            Outbound(
                platform=Platform.TELEGRAM,
                chat_id=chat_id,
                topic=topic,
                purpose=Purpose.CARD,
                text=render.card_html(
                    self.texts, ticket.id, inbound, deadline, self.config.timezone,
                    local_deadline=local_deadline,
                    department=department.name if department else None,
                ),
                html=True,
                ticket_id=ticket.id,
                buttons=buttons.card(self.texts, moves=self.config.departments is not None),
            ),
        ])
        await self._relay_media(tx, ticket, inbound)
        return ticket

    async def join_ticket(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, now: datetime
    ) -> None:
        await self.record(tx, ticket.id, inbound, now)
        # Answered before: the citizen's new message makes it wait on staff again.
        waits = (now, self.deadline(now)) if ticket.waiting_since is None else None
        await tx.citizen_wrote(ticket.id, inbound.message_id, waits=waits)
        chat_id, topic = self.config.place(ticket.category)
        await tx.enqueue(under_card(
            chat_id, ticket.id, topic=topic, html_text=render.with_body(
                self.texts.get("card-follow-up", number=ticket.id),
                render.message_html(self.texts, inbound.text, inbound.attachments),
            ),
        ))
        await self._relay_media(tx, ticket, inbound)

    async def _relay_media(self, tx: Transaction, ticket: Ticket, inbound: Inbound) -> None:
        """Show staff the citizen's media itself, under the card."""
        if not inbound.attachments:
            return
        ticket_id = ticket.id
        chat_id, topic = self.config.place(ticket.category)
        if inbound.platform is Platform.TELEGRAM:
            # A copy of the citizen's own message: no text of the desk's, so not HTML.
            await tx.enqueue(Outbound(
                platform=Platform.TELEGRAM,
                chat_id=chat_id,
                topic=topic,
                purpose=Purpose.FOLLOW_UP,
                ticket_id=ticket_id,
                reply_to_card=True,
                copy_from=(inbound.chat_id, inbound.message_id),
            ))
            return
        photos = tuple(a for a in inbound.attachments if a.kind == "photo" and a.url)
        if photos:
            await tx.enqueue(under_card(
                chat_id, ticket_id, f"<b>№{ticket_id}</b>", attachments=photos, topic=topic,
            ))

    async def record(
        self, tx: Transaction, ticket_id: int, inbound: Inbound, now: datetime
    ) -> None:
        """Keep the citizen's message on the ticket."""
        await tx.add_message(MessageRecord(
            ticket_id=ticket_id,
            direction="in",
            created_at=now,
            text=inbound.text,
            attachments=inbound.attachments,
            author=inbound.author_name,
            source_key=inbound.source_key,
            platform_message_id=inbound.message_id,
        ))
