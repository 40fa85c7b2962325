"""The front desk: citizens' messages become tickets, staff replies become answers."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from handlers import queue, render
from handlers.commands import NUMBER, TICKET_COMMANDS, command_of, posted_as_chat, split_number
from handlers.config import DeskConfig, WorkingClock, utc_now
from handlers.expiring import ExpiringDict
from handlers.model import Event, Inbound
from handlers.texts import Texts, escape
from storage.base import MessageRecord, NewTicket, Store, Ticket, Transaction
from storage.values import Channel, Outbound, Platform, Purpose

log = logging.getLogger(__name__)

# How long a flooding citizen is slowed down; a quiet ticket's acknowledgement waits as long.
SLOW_DOWN = timedelta(minutes=1)


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


class FrontDesk:
    """Turns inbound messages into ticket changes and outgoing messages, in one transaction."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        calendar: WorkingClock,
        config: DeskConfig,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.texts = texts
        self.calendar = calendar
        self.config = config
        self.now = now
        # Both matter for a minute after a citizen's last message, then are forgotten.
        idle = timedelta(minutes=1).total_seconds()
        self._recent: ExpiringDict[
            tuple[Platform, str], deque[tuple[datetime, tuple[Event, str, str]]]
        ] = ExpiringDict(
            idle, clock=lambda: self.now().timestamp())
        self._slowed: ExpiringDict[tuple[Platform, str], datetime] = ExpiringDict(
            idle, clock=lambda: self.now().timestamp())
        # Whom a command was answered within the last minute: /help sent fifty times gets one
        # greeting, so commands cannot take the share of the sends that FLOOD_LIMIT protects.
        self._answered: ExpiringDict[tuple[Platform, str], datetime] = ExpiringDict(
            idle, clock=lambda: self.now().timestamp())

    # citizens

    async def greet(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A citizen opened the chat (/start): what this desk is and how it works.

        Text after the command (typed by the citizen, or a deep link's parameter) is a
        message like any other: after the greeting it opens or joins a ticket.
        """
        config = self.config
        text = render.greeting(
            self.texts, hours=config.hours_text, organization=config.organization,
            site_url=config.site_url, feedback_url=config.feedback_url,
            policy_url=config.privacy_policy_url,
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
            self._answered[(inbound.platform, inbound.author_id)] = self.now()

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
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            answer = await self._may_answer_command(tx, inbound)
            if answer:
                await tx.enqueue(Outbound(
                    inbound.platform, inbound.chat_id, Purpose.NOTICE, text,
                    reply_to=inbound.message_id,
                ))
        if answer:
            self._answered[(inbound.platform, inbound.author_id)] = self.now()

    async def _may_answer_command(self, tx: Transaction, inbound: Inbound) -> bool:
        """/start, /help, /id: never to a blocked citizen, at most once a minute to anyone."""
        answered = self._answered.get((inbound.platform, inbound.author_id))
        if answered is not None and self.now() - answered < timedelta(minutes=1):
            return False
        state = await tx.intake_state(
            inbound.source_key, inbound.platform, inbound.conversation, inbound.author_id
        )
        return not state.blocked

    async def receive(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A citizen's message, edit or deletion."""
        if inbound.is_staff_chat:
            await self.staff_message(inbound, inbox_id)
            return
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
                await self._record(tx, ticket.id, inbound, now)
            return
        if self._flooding(inbound, now):
            await self._slow_down(tx, ticket, inbound, now)
            return
        if ticket is None:
            await self._open_ticket(tx, inbound, now)
        else:
            await self._join_ticket(tx, ticket, inbound, now)

    def _flooding(self, inbound: Inbound, now: datetime) -> bool:
        """More than FLOOD_LIMIT messages from one citizen within the last minute."""
        key = (inbound.platform, inbound.author_id)
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0][0] >= timedelta(minutes=1):
            recent.popleft()
        # A message is counted once however often its handling is tried (a failed try
        # rolls back and is tried again); an edit with new text is another message.
        seen = (inbound.event, inbound.source_key, inbound.text)
        if all(other != seen for _, other in recent):
            recent.append((now, seen))
        return len(recent) > self.config.flood_limit

    async def _slow_down(
        self, tx: Transaction, ticket: Ticket | None, inbound: Inbound, now: datetime
    ) -> None:
        """Keep the message on the ticket without a card; tell the citizen once a minute.

        Nothing is dropped: with no open ticket (a comment under another post, the first
        message after /close) one is opened quietly: its card goes to staff, and the
        acknowledgement waits until the slow-down is over.
        """
        if ticket is None:
            ticket = await self._open_ticket(tx, inbound, now, ack_at=now + SLOW_DOWN)
        else:
            await self._record(tx, ticket.id, inbound, now)
        await self._tell_slowed(tx, ticket, inbound, now)

    async def _tell_slowed(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, now: datetime
    ) -> None:
        """The slow-down notice to the citizen and to staff, at most once a minute."""
        key = (inbound.platform, inbound.author_id)
        told = self._slowed.get(key)
        if told is not None and now - told < SLOW_DOWN:
            return
        self._slowed[key] = now
        await tx.enqueue(replying_to(
            inbound, Purpose.NOTICE, self.texts.get("flood-notice", number=ticket.id), ticket.id
        ))
        await self._tell_staff(
            tx, self.texts.get("staff-flooding", number=ticket.id),
            ticket_id=ticket.id, reply_to_card=True,
        )

    def _deadline(self, start: datetime) -> datetime:
        return self.calendar.add_working_time(start, self.config.escalation_after)

    async def _open_ticket(
        self, tx: Transaction, inbound: Inbound, now: datetime, ack_at: datetime | None = None
    ) -> Ticket:
        """A new ticket: the acknowledgement (at `ack_at`, if given), the card, the media."""
        deadline = self._deadline(now)
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
        ))
        await self._record(tx, ticket.id, inbound, now)
        local_deadline = self.texts.moment(deadline.astimezone(self.config.timezone))
        ack_key = "ack-received-comment" if inbound.channel is Channel.COMMENT else "ack-received"
        ack = replying_to(
            inbound, Purpose.ACK,
            self.texts.get(ack_key, number=ticket.id, deadline=local_deadline), ticket.id,
        )
        if ack_at is not None:
            await tx.enqueue(ack, not_before=ack_at)
        await tx.enqueue_many([
            *([ack] if ack_at is None else []),
            Outbound(
                platform=Platform.TELEGRAM,
                chat_id=self.config.staff_chat_id,
                purpose=Purpose.CARD,
                text=render.card_html(
                    self.texts, ticket.id, inbound, deadline, self.config.timezone,
                    local_deadline=local_deadline,
                ),
                html=True,
                ticket_id=ticket.id,
            ),
        ])
        await self._relay_media(tx, ticket.id, inbound)
        return ticket

    async def _join_ticket(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, now: datetime
    ) -> None:
        await self._record(tx, ticket.id, inbound, now)
        # Answered before: the citizen's new message makes it wait on staff again.
        waits = (now, self._deadline(now)) if ticket.waiting_since is None else None
        await tx.citizen_wrote(ticket.id, inbound.message_id, waits=waits)
        await tx.enqueue(Outbound(
            platform=Platform.TELEGRAM,
            chat_id=self.config.staff_chat_id,
            purpose=Purpose.FOLLOW_UP,
            text=render.with_body(
                self.texts.get("card-follow-up", number=ticket.id),
                render.message_html(self.texts, inbound.text, inbound.attachments),
            ),
            html=True,
            ticket_id=ticket.id,
            reply_to_card=True,
        ))
        await self._relay_media(tx, ticket.id, inbound)

    async def _relay_media(self, tx: Transaction, ticket_id: int, inbound: Inbound) -> None:
        """Show staff the citizen's media itself, under the card."""
        if not inbound.attachments:
            return
        if inbound.platform is Platform.TELEGRAM:
            await tx.enqueue(Outbound(
                platform=Platform.TELEGRAM,
                chat_id=self.config.staff_chat_id,
                purpose=Purpose.FOLLOW_UP,
                ticket_id=ticket_id,
                reply_to_card=True,
                copy_from=(inbound.chat_id, inbound.message_id),
            ))
            return
        photos = tuple(a for a in inbound.attachments if a.kind == "photo" and a.url)
        if photos:
            await tx.enqueue(Outbound(
                platform=Platform.TELEGRAM,
                chat_id=self.config.staff_chat_id,
                purpose=Purpose.FOLLOW_UP,
                text=f"<b>№{ticket_id}</b>",
                html=True,
                ticket_id=ticket_id,
                reply_to_card=True,
                attachments=photos,
            ))

    async def _record(
        self, tx: Transaction, ticket_id: int, inbound: Inbound, now: datetime
    ) -> None:
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
        if self._flooding(inbound, now):
            await self._tell_slowed(tx, ticket, inbound, now)
            return
        await tx.enqueue(Outbound(
            platform=Platform.TELEGRAM,
            chat_id=self.config.staff_chat_id,
            purpose=Purpose.FOLLOW_UP,
            text=text,
            html=True,
            ticket_id=ticket.id,
            reply_to_card=True,
        ))

    # staff

    async def staff_message(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A message in the staff chat: an answer, a command, or staff talk."""
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            if self.config.staff_user_ids and not (
                inbound.author_id in self.config.staff_user_ids or posted_as_chat(inbound)
            ):
                await self._not_on_the_list(tx, inbound)
                return
            if posted_as_chat(inbound):
                # An anonymous administrator: Telegram shows the chat, not the person.
                inbound = replace(inbound, author_name=self.texts.get("staff-anonymous-admin"))
            if inbound.event is Event.EDITED:
                await self._staff_edit(tx, inbound)
            elif inbound.event is Event.NEW:
                if await tx.ticket_by_message(inbound.source_key) is not None:
                    return  # answered before: an update handled twice
                await self._staff_message(tx, inbound)

    async def _staff_edit(self, tx: Transaction, inbound: Inbound) -> None:
        """Staff corrected an answer already sent: the citizen gets the new text, marked."""
        ticket = await tx.ticket_by_message(inbound.source_key)
        if ticket is None:
            return  # an edit of staff talk or of a command
        number, rest = split_number(inbound.text)
        text, html_text = inbound.text, inbound.html_text
        if number == ticket.id:  # the answer named its ticket first, on a merged message
            text, html_text = rest, split_number(html_text)[1]
        if text.lstrip().startswith("/"):
            await self._tell_staff(
                tx, self.texts.get("staff-command-not-sent", number=ticket.id,
                                   command=text.strip().split(maxsplit=1)[0]),
                inbound.message_id, ticket_id=ticket.id, chat_id=inbound.chat_id,
            )
            return
        await tx.mark_message(inbound.source_key, edited_at=self.now(), text=text)
        await tx.enqueue(to_citizen(
            ticket, Purpose.ANSWER,
            self._answer_text(ticket, "answer-corrected", text, html_text),
            html=ticket.platform is Platform.TELEGRAM,
        ))

    async def _not_on_the_list(self, tx: Transaction, inbound: Inbound) -> None:
        """Someone in the staff chat but not in STAFF_USER_IDS replied about a ticket.

        Nothing is relayed; they are told why, once a day, so that they do not wait for an
        answer that never went. The day is the administration's.
        """
        if inbound.event is not Event.NEW or not inbound.reply_to:
            return
        if not await tx.ticket_by_ref(Platform.TELEGRAM, inbound.chat_id, inbound.reply_to):
            return  # staff talk
        key = f"unlisted-staff-told:{inbound.author_id}"
        today = self.now().astimezone(self.config.timezone).date().isoformat()
        if await tx.get_state(key) == today:
            return
        await tx.set_state(key, today)
        await self._tell_staff(
            tx, self.texts.get("staff-not-on-the-list"), inbound.message_id,
            chat_id=inbound.chat_id,
        )

    async def _staff_message(self, tx: Transaction, inbound: Inbound) -> None:
        command = command_of(inbound.text)
        if command in {"help", "start"}:
            await self._tell_staff(
                tx, self.texts.get("staff-help"), inbound.message_id, chat_id=inbound.chat_id
            )
            return
        if command == "queue":
            await queue.show_queue(
                tx, self.texts, self.calendar, self.config, now=self.now(),
                reply_to=inbound.message_id, chat_id=inbound.chat_id,
            )
            return
        tickets = (
            await tx.ticket_by_ref(Platform.TELEGRAM, inbound.chat_id, inbound.reply_to)
            if inbound.reply_to else []
        )
        if not tickets:
            if command in TICKET_COMMANDS:
                await self._tell_staff(
                    tx, self.texts.get("staff-reply-to-card"), inbound.message_id,
                    chat_id=inbound.chat_id,
                )
            elif inbound.reply_to_bot:
                # A reply to the bot's own message that names no ticket: say how to answer.
                await self._tell_staff(
                    tx, self.texts.get("staff-reply-names-no-ticket"), inbound.message_id,
                    chat_id=inbound.chat_id,
                )
            return  # staff talk
        ticket, text, html_text = self._choose(tickets, inbound)
        if ticket is None:
            await self._tell_staff(
                tx, self.texts.get("staff-merged-choose", number=tickets[0].id),
                inbound.message_id, chat_id=inbound.chat_id,
            )
            return
        await self._ticket_command_or_answer(tx, ticket, inbound, text, html_text)

    async def _ticket_command_or_answer(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, text: str, html_text: str
    ) -> None:
        """A reply about one ticket: `/close` and the like, also after `№<n>`; else an answer."""
        number, rest = split_number(inbound.text)
        command = command_of(rest)
        if rest.lstrip().startswith("/") and (
            command not in TICKET_COMMANDS or number not in {None, ticket.id}
        ):
            # Never relayed: a slash is a command to the bot, mistyped or misplaced.
            word = rest.strip().split(maxsplit=1)[0] if rest.strip() else "/"
            await self._tell_staff(
                tx, self.texts.get("staff-command-not-sent", number=ticket.id, command=word),
                inbound.message_id, ticket_id=ticket.id, chat_id=inbound.chat_id,
            )
        elif command == "close":
            await self._close(tx, ticket, inbound)
        elif command in {"block", "unblock"}:
            await tx.set_blocked(ticket.platform, ticket.citizen_id, command == "block")
            key = "staff-blocked" if command == "block" else "staff-unblocked"
            await self._tell_staff(
                tx, self.texts.get(key, number=ticket.id), inbound.message_id,
                ticket_id=ticket.id, chat_id=inbound.chat_id,
            )
        else:
            await self._answer(tx, ticket, inbound, text, html_text)

    def _choose(
        self, tickets: list[Ticket], inbound: Inbound
    ) -> tuple[Ticket | None, str, str]:
        """The ticket a reply is about; a message naming several needs `№<n>` first."""
        if len(tickets) == 1:
            return tickets[0], inbound.text, inbound.html_text
        match = NUMBER.match(inbound.text)
        if match is None:
            return None, "", ""
        number = int(match.group(1))
        chosen = next((t for t in tickets if t.id == number), None)
        html_match = NUMBER.match(inbound.html_text)
        html_rest = inbound.html_text[html_match.end():] if html_match else inbound.html_text
        return chosen, inbound.text[match.end():], html_rest

    async def _answer(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, text: str, html_text: str
    ) -> None:
        now = self.now()
        is_telegram = ticket.platform is Platform.TELEGRAM
        await tx.enqueue(to_citizen(
            ticket, Purpose.ANSWER, self._answer_text(ticket, "answer-header", text, html_text),
            html=is_telegram,
            copy_from=(inbound.chat_id, inbound.message_id)
            if is_telegram and inbound.attachments else None,
            attachments=() if is_telegram else inbound.attachments,
        ))
        await tx.add_message(MessageRecord(
            ticket_id=ticket.id, direction="out", created_at=now, text=text,
            attachments=inbound.attachments, author=inbound.author_name,
            source_key=inbound.source_key, platform_message_id=inbound.message_id,
        ))
        await tx.answered(ticket.id, now)
        if not ticket.is_open:
            await self._tell_staff(
                tx, self.texts.get("staff-answer-to-closed", number=ticket.id),
                inbound.message_id, ticket_id=ticket.id, chat_id=inbound.chat_id,
            )

    def _answer_text(self, ticket: Ticket, key: str, text: str, html_text: str) -> str:
        """A staff answer as the citizen reads it: HTML on Telegram, plain text elsewhere."""
        if ticket.platform is Platform.TELEGRAM:
            header = self.texts.html(key, number=ticket.id)
            body = html_text or escape(text)
        else:
            header = self.texts.get(key, number=ticket.id)
            body = text
        return f"{header}\n\n{body}" if body else header

    async def _close(self, tx: Transaction, ticket: Ticket, inbound: Inbound) -> None:
        if not ticket.is_open:
            await self._tell_staff(
                tx, self.texts.get("staff-closed", number=ticket.id), inbound.message_id,
                ticket_id=ticket.id, chat_id=inbound.chat_id,
            )
            return
        await tx.close_ticket(ticket.id, self.now())
        await tx.enqueue(to_citizen(
            ticket, Purpose.CLOSING, self.texts.get("closing", number=ticket.id)
        ))
        await self._tell_staff(
            tx, self.texts.get("staff-closed", number=ticket.id), inbound.message_id,
            ticket_id=ticket.id, chat_id=inbound.chat_id,
        )

    async def _tell_staff(
        self, tx: Transaction, text: str, reply_to: str | None = None, *,
        ticket_id: int | None = None, reply_to_card: bool = False, chat_id: str = "",
    ) -> None:
        """A notice in the staff chat, or in the supervisors' chat a staff message came from."""
        await tx.enqueue(Outbound(
            platform=Platform.TELEGRAM,
            chat_id=chat_id or self.config.staff_chat_id,
            purpose=Purpose.STAFF_NOTICE,
            text=escape(text),
            html=True,
            ticket_id=ticket_id,
            reply_to=reply_to,
            reply_to_card=reply_to_card,
        ))
