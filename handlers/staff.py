"""The staff chat: answers to citizens, their corrections, commands, and staff talk left alone."""

from __future__ import annotations

from dataclasses import replace

from handlers import buttons, events, queue, report
from handlers.actions import TicketActions
from handlers.audit import AuditDesk, by
from handlers.canned import CannedAnswers
from handlers.commands import NUMBER, TICKET_COMMANDS, command_of, posted_as_chat, split_number
from handlers.holders import Holders
from handlers.incident_desk import IncidentDesk
from handlers.interim import Interim
from handlers.model import Event, Inbound
from handlers.moves import Moves
from handlers.outgoing import tell_staff, to_citizen
from handlers.premises import Premises, Room
from handlers.texts import Texts, escape
from storage.auditing import AuditAction
from storage.base import MessageRecord, Ticket, Transaction
from storage.values import Platform, Purpose


class StaffDesk(Room):
    """Messages in the staff chat (and the supervisors'), each in one transaction."""

    def __init__(self, premises: Premises) -> None:
        super().__init__(premises)
        self.interim = Interim(premises)
        self.canned = CannedAnswers(premises)
        self.actions = TicketActions(premises)
        self.holders = Holders(premises)
        self.moves = Moves(premises, self.holders)
        self.incidents = IncidentDesk(premises, self.actions, self.moves, self._answer)
        self.audit = AuditDesk(premises)

    async def staff_message(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A message in the staff chat: an answer, a command, or staff talk."""
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            if inbound.event is Event.NEW and command_of(inbound.text) == "audit":
                await self.audit.show(tx, inbound)  # supervisors only, listed or not
                return
            if not self.may_answer(inbound):
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

    def may_answer(self, inbound: Inbound) -> bool:
        """On STAFF_USER_IDS (or no list), or an anonymous administrator of the chat."""
        return not self.config.staff_user_ids or (
            inbound.author_id in self.config.staff_user_ids or posted_as_chat(inbound)
        )

    async def _staff_edit(self, tx: Transaction, inbound: Inbound) -> None:
        """Staff corrected an answer already sent: the citizen gets the new text, marked."""
        ticket = await tx.ticket_by_message(inbound.source_key)
        if ticket is None:
            # One answer to an incident's reporters: each of them gets the correction.
            for answered, key in await self.incidents.answered_by(tx, inbound):
                await self._correct(tx, answered, inbound, inbound.text, inbound.html_text,
                                    source_key=key)
            return  # else an edit of staff talk or of a command
        number, rest = split_number(inbound.text)
        text, html_text = inbound.text, inbound.html_text
        if number == ticket.id:  # the answer named its ticket first, on a merged message
            text, html_text = rest, split_number(html_text)[1]
        if text.lstrip().startswith("/"):
            # An edited /interim or /template: what it did stands; an edit does not redo it.
            key = "staff-command-edit-ignored" if command_of(text) in TICKET_COMMANDS \
                else "staff-command-not-sent"
            await self._reply(tx, inbound, self.texts.get(
                key, number=ticket.id, command=text.strip().split(maxsplit=1)[0],
            ), ticket.id)
            return
        await self._correct(tx, ticket, inbound, text, html_text, source_key=inbound.source_key)

    async def _correct(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, text: str, html_text: str,
        *, source_key: str,
    ) -> None:
        """The corrected answer to the citizen, marked as such; the record changed."""
        if text.lstrip().startswith("/"):
            return  # an answer edited into a command goes nowhere
        await tx.mark_message(source_key, edited_at=self.now(), text=text)
        await tx.enqueue(to_citizen(
            ticket, Purpose.ANSWER,
            answer_text(self.texts, ticket, "answer-corrected", text, html_text),
            html=ticket.platform is Platform.TELEGRAM,
        ))
        await tx.audit(by(inbound, self.now(), AuditAction.CORRECTED, ticket=ticket.id))

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
        await self._reply(tx, inbound, self.texts.get("staff-not-on-the-list"))

    async def _staff_message(self, tx: Transaction, inbound: Inbound) -> None:
        command = command_of(inbound.text)
        if command in {"help", "start"}:
            await self._reply(tx, inbound, self.texts.get("staff-help"))
            return
        if command == "queue":
            await queue.show_queue(
                tx, self.texts, self.calendar, self.config, now=self.now(),
                reply_to=inbound.message_id, chat_id=inbound.chat_id,
            )
            return
        if command == "report":
            await tx.enqueue(report.on_request(self.texts, self.config, inbound, self.now()))
            return
        incident = (
            await tx.incident_by_ref(Platform.TELEGRAM, inbound.chat_id, inbound.reply_to)
            if inbound.reply_to else None
        )
        if incident is not None:
            await self.incidents.handle(tx, incident, inbound)
            return
        tickets = (
            await tx.ticket_by_ref(Platform.TELEGRAM, inbound.chat_id, inbound.reply_to)
            if inbound.reply_to else []
        )
        if not tickets:
            if command in TICKET_COMMANDS:
                await self._reply(tx, inbound, self.texts.get("staff-reply-to-card"))
            elif inbound.reply_to_bot:
                # A reply to the bot's own message that names no ticket: say how to answer.
                await self._reply(tx, inbound, self.texts.get("staff-reply-names-no-ticket"))
            return  # staff talk
        ticket, text, html_text = choose(tickets, inbound)
        if ticket is None:
            await self._reply(
                tx, inbound, self.texts.get("staff-merged-choose", number=tickets[0].id)
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
            await self._reply(tx, inbound, self.texts.get(
                "staff-command-not-sent", number=ticket.id, command=word
            ), ticket.id)
        elif ticket.anonymized and command in {None, "template", "block", "unblock"}:
            # Its citizen's data is gone (handlers/retention.py, handlers/forget.py): no chat
            # to answer in, nobody to block. Said, and nothing stored.
            await self._reply(tx, inbound, self.texts.get("staff-anonymized", number=ticket.id),
                              ticket.id)
        elif command in {"take", "join", "apart", "close", "block", "unblock"}:
            told = await self._act(tx, ticket, inbound, command, rest)
            if told:
                await self._reply(tx, inbound, told, ticket.id)
        elif command == "move":
            told, under = await self.moves.move(tx, ticket, inbound, rest)
            await self._reply(tx, inbound, told, ticket.id, under)
        elif command == "interim":
            told, under = await self.interim.give(tx, ticket, inbound, rest)
            await self._reply(tx, inbound, told, ticket.id, under)
        elif command == "templates":
            listing, under = self.canned.listing(ticket)
            await self._reply(tx, inbound, listing, ticket.id, under)
        elif command == "template":
            canned = self.canned.answer(ticket, rest)
            if canned is None:
                await self._reply(tx, inbound, self.canned.usage(), ticket.id)
            else:
                await self._answer(tx, ticket, inbound, canned, "")
        else:
            await self._answer(tx, ticket, inbound, text, html_text)

    async def _act(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, command: str, rest: str
    ) -> str | None:
        """A command that only does something to the ticket; what staff are told, if any."""
        if command == "take":
            return await self.holders.take(tx, ticket, inbound)
        if command == "join":
            return await self.incidents.join(tx, ticket, rest, inbound)
        if command == "apart":
            return await self.incidents.take_out(tx, ticket, inbound)
        if command == "close":
            return await self.actions.close(tx, ticket, inbound)
        return await self.actions.block(tx, ticket, inbound, blocked=command == "block")

    async def _answer(
        self, tx: Transaction, ticket: Ticket, inbound: Inbound, text: str, html_text: str,
        *, source_key: str = "", incident: int | None = None,
    ) -> int:
        """Staff's answer to the citizen, kept on the ticket under `source_key` (the staff
        message's own unless one message answers several tickets, `incident`'s); the
        outbox row it is."""
        now = self.now()
        is_telegram = ticket.platform is Platform.TELEGRAM
        row = await tx.enqueue(replace(to_citizen(
            ticket, Purpose.ANSWER,
            answer_text(self.texts, ticket, "answer-header", text, html_text),
            html=is_telegram,
            copy_from=(inbound.chat_id, inbound.message_id)
            if is_telegram and inbound.attachments else None,
            attachments=() if is_telegram else inbound.attachments,
        ), incident=incident))
        await tx.add_message(MessageRecord(
            ticket_id=ticket.id, direction="out", created_at=now, text=text,
            attachments=inbound.attachments, author=inbound.author_name,
            source_key=source_key or inbound.source_key, platform_message_id=inbound.message_id,
        ))
        await tx.answered(ticket.id, now)
        await tx.audit(by(inbound, now, AuditAction.ANSWERED, ticket=ticket.id, incident=incident))
        events.answered(tx, self.config.events, self.calendar, ticket, now)
        if not ticket.is_open:
            await self._reply(
                tx, inbound, self.texts.get("staff-answer-to-closed", number=ticket.id), ticket.id
            )
        return row

    async def _reply(
        self, tx: Transaction, inbound: Inbound, text: str, ticket_id: int | None = None,
        under: buttons.Buttons = (),
    ) -> None:
        """A notice to staff as a reply to their message (or the one whose button they
        pressed), in the chat it came from, with buttons `under` it."""
        chat_id = inbound.chat_id or self.config.staff_chat_id
        await tx.enqueue(replace(
            tell_staff(chat_id, text, reply_to=inbound.message_id, ticket_id=ticket_id),
            buttons=under,
        ))


def choose(tickets: list[Ticket], inbound: Inbound) -> tuple[Ticket | None, str, str]:
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


def answer_text(texts: Texts, ticket: Ticket, key: str, text: str, html_text: str) -> str:
    """A staff answer as the citizen reads it: HTML on Telegram, plain text elsewhere."""
    if ticket.platform is Platform.TELEGRAM:
        header = texts.html(key, number=ticket.id)
        body = html_text or escape(text)
    else:
        header = texts.get(key, number=ticket.id)
        body = text
    return f"{header}\n\n{body}" if body else header
