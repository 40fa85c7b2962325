"""The citizens' side of the desk: what they write becomes tickets, within the intake rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from handlers import render
from handlers.filing import Filing
from handlers.flood import SLOW_DOWN, FloodGuard
from handlers.model import Event, Inbound
from handlers.outgoing import replying_to, tell_staff, under_card
from handlers.premises import Premises, Room
from handlers.status import Status
from storage.base import Ticket, Transaction
from storage.values import Channel, Outbound, Purpose


class Intake(Room):
    """Citizens' messages, edits, deletions and commands, each in one transaction.

    The rules of intake: an update delivered twice counts once, a blocked citizen's words are
    kept but make no messages, a flooding citizen is slowed down.
    """

    def __init__(self, premises: Premises) -> None:
        super().__init__(premises)
        self.flood = FloodGuard(premises)
        self.filing = Filing(premises)
        self.status = Status(premises)

    async def greet(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A citizen opened the chat (/start): what this desk is and how it works.

        Text after the command (typed by the citizen, or a deep link's parameter) is a
        message like any other: after the greeting it opens or joins a ticket.
        """
        config = self.config
        text = render.greeting(
            self.texts, hours=config.hours_text, organization=config.organization,
            site_url=config.site_url, feedback_url=config.feedback_url,
            policy_url=config.privacy_policy_url, retention_days=config.retention_days,
        )
        payload = inbound.text.strip().split(maxsplit=1)[1:]
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            answer = await self._may_answer_command(tx, inbound)
            if answer:
                await tx.enqueue(
                    Outbound(inbound.platform, inbound.chat_id, Purpose.GREETING, text)
                )
            if payload:
                await self._new_message(tx, replace(inbound, text=payload[0]), self.now())
        if answer:
            self.flood.command_answered(inbound)

    async def tell_ids(
        self, inbound: Inbound, inbox_id: int | None = None, *, anonymous: bool = False
    ) -> None:
        """/id: the chat's id and the sender's, to set the desk up; never a ticket."""
        if anonymous:  # posted as the group itself: its id is the author's too
            text = self.texts.get("id-chat-anonymous", chat=inbound.chat_id)
        elif inbound.chat_id == inbound.author_id:
            text = self.texts.get("id-private", user=inbound.author_id)
        else:
            text = self.texts.get("id-chat", chat=inbound.chat_id, user=inbound.author_id)

        async def reply(tx: Transaction, inbound: Inbound) -> Outbound:
            return Outbound(
                inbound.platform, inbound.chat_id, Purpose.NOTICE, text,
                reply_to=inbound.message_id,
            )

        await self._answer_command(inbound, inbox_id, reply)

    async def tell_status(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """/status, «статус»: the citizen's own open tickets (`handlers.status`); no ticket.

        Under a post it is a comment like any other: an answer there would be public.
        """
        if inbound.channel is Channel.COMMENT:
            await self.receive(inbound, inbox_id)
            return
        await self._answer_command(inbound, inbox_id, self.status.reply, kind="status")

    async def _answer_command(
        self, inbound: Inbound, inbox_id: int | None,
        reply: Callable[[Transaction, Inbound], Awaitable[Outbound]], *, kind: str = "",
    ) -> None:
        """A command's answer, within the rules, in the transaction that finishes its row."""
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            answer = await self._may_answer_command(tx, inbound, kind)
            if answer:
                await tx.enqueue(await reply(tx, inbound))
        if answer:
            self.flood.command_answered(inbound, kind)

    async def _may_answer_command(
        self, tx: Transaction, inbound: Inbound, kind: str = ""
    ) -> bool:
        """/start, /help, /id, /status: never to a blocked citizen, at most once a minute."""
        if self.flood.answered_lately(inbound, kind):
            return False
        state = await tx.intake_state(
            inbound.source_key, inbound.platform, inbound.conversation, inbound.author_id
        )
        return not state.blocked

    async def receive(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A citizen's message, edit or deletion."""
        await self.filing.incidents.ensure_loaded()
        now = self.now()
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            if inbound.event is Event.NEW:
                await self._new_message(tx, inbound, now)
            else:
                await self._changed_message(tx, inbound, now)

    async def _new_message(self, tx: Transaction, inbound: Inbound, now: datetime) -> None:
        state = await tx.intake_state(
            inbound.source_key, inbound.platform, inbound.conversation, inbound.author_id
        )
        if state.seen:
            return  # seen before: an update delivered twice
        ticket = state.ticket
        if state.blocked:
            # Nothing of theirs is deleted: on the open ticket, or kept in the inbox.
            if ticket is not None:
                await self.filing.record(tx, ticket.id, inbound, now)
            return
        if self.flood.flooding(inbound, now):
            await self._slow_down(tx, ticket, inbound, now)
            return
        if ticket is None:
            await self.filing.open_ticket(tx, inbound, now)
        else:
            await self.filing.join_ticket(tx, ticket, inbound, now)

    async def _slow_down(
        self, tx: Transaction, ticket: Ticket | None, inbound: Inbound, now: datetime
    ) -> None:
        """Keep the message on the ticket without a card; tell the citizen once a minute.

        Nothing is dropped: with no open ticket (a comment under another post, the first
        message after /close) one is opened quietly: its card goes to staff, and the
        acknowledgement waits until the slow-down is over.
        """
        if ticket is None:
            ticket = await self.filing.open_ticket(tx, inbound, now, ack_at=now + SLOW_DOWN)
        else:
            await self.filing.record(tx, ticket.id, inbound, now)
        await self._tell_slowed(tx, ticket, inbound, now)

    async def _tell_slowed(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, now: datetime
    ) -> None:
        """The slow-down notice to the citizen and to staff, at most once a minute."""
        if not self.flood.tell_slowed(inbound, now):
            return
        await tx.enqueue(replying_to(
            inbound, Purpose.NOTICE, self.texts.get("flood-notice", number=ticket.id), ticket.id
        ))
        chat_id, topic = self.config.place(ticket.category)
        await tx.enqueue(replace(tell_staff(
            chat_id, self.texts.get("staff-flooding", number=ticket.id),
            ticket_id=ticket.id, reply_to_card=True,
        ), topic=topic))

    async def _changed_message(self, tx: Transaction, inbound: Inbound, now: datetime) -> None:
        ticket = await tx.ticket_by_message(inbound.source_key)
        if ticket is None:
            return  # an edit of something that never became a ticket
        if inbound.event is Event.EDITED:
            await tx.mark_message(inbound.source_key, edited_at=now, text=inbound.text)
            text = render.with_body(
                self.texts.get("card-edited", number=ticket.id),
                render.message_html(self.texts, inbound.text, inbound.attachments),
            )
        else:
            await tx.mark_message(inbound.source_key, deleted_at=now)
            text = self.texts.get("card-deleted", number=ticket.id)
        # The intake rules of a message hold for its edits: the change is kept, but a
        # blocked citizen makes no staff messages and a flooding one is slowed down.
        state = await tx.intake_state(
            "", ticket.platform, ticket.conversation, ticket.citizen_id
        )
        if state.blocked:
            return
        if self.flood.flooding(inbound, now):
            await self._tell_slowed(tx, ticket, inbound, now)
            return
        chat_id, topic = self.config.place(ticket.category)
        await tx.enqueue(under_card(chat_id, ticket.id, text, topic=topic))
