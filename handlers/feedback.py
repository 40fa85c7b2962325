"""What delivery reports back: messages that could not go, and the people who must hear of it.

Nothing the desk sends ends silently. A citizen who cannot be reached flags the ticket, and
staff hear of every answer that did not arrive; a staff-side message that cannot go is named
in the staff chat; a supervisors' chat that refuses the bot is named there too.
"""

from __future__ import annotations

import html
import logging
import re
import time
from dataclasses import replace

from handlers import buttons
from handlers.config import DeskConfig, utc_now
from handlers.incident_card import answer_rows_key, enqueue_edit, incident_card
from handlers.outgoing import tell_staff
from handlers.texts import Texts
from storage.base import Store
from storage.values import Outbound, Platform, Purpose

log = logging.getLogger(__name__)

# Staff's own words to a citizen: each one that does not arrive is reported on its own.
_EACH_REPORTED = frozenset({Purpose.ANSWER, Purpose.CLOSING})
_TAGS = re.compile(r"<[^<>]+>")
EXCERPT = 80
PROGRESS_EVERY = 2.0  # seconds between edits of an incident's card while its answer goes out


def excerpt(outbound: Outbound) -> str:
    """The start of an answer's own words, without its `№<n>` header, as plain text."""
    text = _TAGS.sub("", outbound.text) if outbound.html else outbound.text
    text = html.unescape(text) if outbound.html else text
    body = text.split("\n\n", 1)[-1].strip()
    return body if len(body) <= EXCERPT else body[: EXCERPT - 1].rstrip() + "…"


class DeliveryFeedback:
    """Turns the sender's failures into flags on tickets and messages to people."""

    def __init__(self, store: Store, texts: Texts, config: DeskConfig) -> None:
        self.store = store
        self.texts = texts
        self.config = config
        self._refusing: set[str] = set()  # supervisors' chats already reported as refusing
        self._progress_at: dict[int, float] = {}  # incident → when its card was last edited

    def staff_setting(self, chat_id: str) -> str | None:
        """The setting naming a staff-side chat (the staff's, the supervisors', a department's
        own), if it is one."""
        if chat_id == self.config.staff_chat_id:
            return "STAFF_CHAT_ID"
        if chat_id and chat_id == self.config.escalation_chat_id:
            return "ESCALATION_CHAT_ID"
        if self.config.department_of_chat(chat_id) is not None:
            return "DEPARTMENTS_FILE"
        return None

    async def delivery_failed(self, outbound: Outbound, reason: str) -> None:
        """A message could not be delivered for good: somebody hears of it."""
        if outbound.platform is Platform.TELEGRAM and self.staff_setting(outbound.chat_id):
            await self._staff_side_failed(outbound, reason)
        elif outbound.ticket_id is None:
            log.warning("undeliverable %s message with no ticket: %s", outbound.purpose, reason)
        else:
            await self._citizen_unreachable(outbound, outbound.ticket_id, reason)

    async def _citizen_unreachable(self, outbound: Outbound, ticket_id: int, reason: str) -> None:
        """Flag the ticket; tell staff of each answer, and of other messages once per reason.

        The flag is cleared when a message reaches the citizen again, so the next failure,
        even for the same reason, is told again.
        """
        async with self.store.transaction() as tx:
            ticket = await tx.ticket(ticket_id)
            if ticket is None:
                return
            each = outbound.purpose in _EACH_REPORTED
            if ticket.unreachable == reason and not each:
                return
            await tx.set_unreachable(ticket.id, reason)
            if each:
                text = self.texts.get(
                    "staff-answer-failed", number=ticket.id, reason=reason,
                    excerpt=excerpt(outbound),
                )
            else:
                text = self.texts.get("staff-delivery-failed", number=ticket.id, reason=reason)
            await tx.enqueue(self._under_card(ticket.category, ticket.id, text))

    def _under_card(self, category: str | None, ticket_id: int, text: str) -> Outbound:
        """A notice about a ticket where its department works: under its card."""
        chat_id, topic = self.config.place(category)
        return replace(
            tell_staff(chat_id, text, ticket_id=ticket_id, reply_to_card=True), topic=topic
        )

    async def _staff_side_failed(self, outbound: Outbound, reason: str) -> None:
        """A staff-side message Telegram will not take in any form: say so in the staff chat.

        The notice is plain text, so it cannot fail the way the message did; if even it
        fails, the log is the last word rather than a notice about a notice.
        """
        if outbound.purpose is Purpose.STAFF_NOTICE and not outbound.html:
            log.error("a delivery notice could not be sent to the staff chat: %s", reason)
            return
        chat = self._chat_words(outbound.chat_id)
        if outbound.ticket_id is None:
            text = self.texts.get("staff-message-failed-any", chat=chat, reason=reason)
        else:
            text = self.texts.get(
                "staff-message-failed", number=outbound.ticket_id, chat=chat, reason=reason
            )
        async with self.store.transaction() as tx:
            await tx.enqueue(Outbound(
                platform=Platform.TELEGRAM, chat_id=self.config.staff_chat_id,
                purpose=Purpose.STAFF_NOTICE, text=text, ticket_id=outbound.ticket_id,
            ))

    def _chat_words(self, chat_id: str) -> str:
        """A staff-side chat in words: the staff's, the supervisors', a department's."""
        department = self.config.department_of_chat(chat_id)
        if department is not None:
            return self.texts.get("chat-department", department=department)
        return self.texts.get(
            "chat-supervisors" if chat_id == self.config.escalation_chat_id
            and chat_id != self.config.staff_chat_id else "chat-staff"
        )

    async def staff_chat_refused(self, outbound: Outbound, reason: str) -> None:
        """A staff-side chat refuses the bot; its messages wait for people to put it right.

        The staff chat refusing can only be logged (see the sender). The supervisors' chat or
        a department's refusing is told in the staff chat, once per chat while the desk runs.
        """
        chat_id = outbound.chat_id
        if chat_id == self.config.staff_chat_id:
            await self._topic_closed(outbound, reason)
            return
        if chat_id in self._refusing:
            return
        self._refusing.add(chat_id)
        department = self.config.department_of_chat(chat_id)
        key = "staff-supervisors-refused" if department is None else "staff-department-refused"
        if outbound.ticket_id is None:
            text = self.texts.get(f"{key}-any", reason=reason, department=department or "")
        else:
            text = self.texts.get(
                key, number=outbound.ticket_id, reason=reason, department=department or ""
            )
        async with self.store.transaction() as tx:
            await tx.enqueue(tell_staff(
                self.config.staff_chat_id, text, ticket_id=outbound.ticket_id,
                reply_to_card=outbound.ticket_id is not None,
            ))

    async def _topic_closed(self, outbound: Outbound, reason: str) -> None:
        """A department's forum topic of the staff chat was closed: its cards wait, and the
        staff chat itself hears of it, once per topic while the desk runs."""
        key = f"{outbound.chat_id}:{outbound.topic}"
        if outbound.topic is None or "TOPIC_CLOSED" not in reason or key in self._refusing:
            return  # the staff chat itself refusing can only be logged
        self._refusing.add(key)
        rules = self.config.departments
        names = [d.name for d in (rules.departments if rules else ()) if d.topic == outbound.topic
                 and not d.chat_id]
        text = self.texts.get(
            "staff-topic-closed", department=names[0] if names else str(outbound.topic),
            reason=reason,
        )
        async with self.store.transaction() as tx:
            await tx.enqueue(tell_staff(self.config.staff_chat_id, text))

    async def incident_progress(self, incident_id: int) -> None:
        """An answer to one of an incident's reporters went, or failed for good: the card
        says how many have gone, at most every PROGRESS_EVERY seconds and once at the end
        (edits queued in between go as the latest alone)."""
        moment = time.monotonic()
        async with self.store.transaction() as tx:
            incident = await tx.incident(incident_id)
            since = await tx.get_state(answer_rows_key(incident_id))
            if incident is None or not incident.card_message_id or not (since or "").isdigit():
                return
            rows, sent, failed = await tx.incident_answer_rows(incident_id, int(since or 0))
            last = self._progress_at.get(incident_id, 0.0)
            if sent + failed < rows and moment - last < PROGRESS_EVERY:
                return
            self._progress_at[incident_id] = moment
            await enqueue_edit(tx, self.texts, self.config, incident, utc_now())

    async def incident_card_posted(self, incident_id: int, posted: Outbound) -> None:
        """An incident's card went out as written before staff closed or renamed it, or
        reporters joined: what it says now follows as an edit."""
        if posted.buttons == buttons.suggestion(self.texts):
            return  # a suggestion: its own card, not the incident's
        async with self.store.transaction() as tx:
            incident = await tx.incident(incident_id)
            if incident is None or incident.state not in ("open", "closed") \
                    or not incident.card_message_id:
                return
            now = await incident_card(tx, self.texts, self.config, incident)
            if (now.text, now.buttons) != (posted.text, posted.buttons):
                await enqueue_edit(tx, self.texts, self.config, incident, utc_now())

    async def cannot_relay(self, outbound: Outbound, what: str) -> None:
        """Part of a message could not go: say so at once, naming the ticket."""
        if outbound.ticket_id is None:
            log.warning("part of a %s message could not be sent: %s", outbound.purpose, what)
            return
        staff_side = self.staff_setting(outbound.chat_id) is not None
        key = "staff-cannot-show" if staff_side else "staff-cannot-relay"
        async with self.store.transaction() as tx:
            ticket = await tx.ticket(outbound.ticket_id)
            await tx.enqueue(self._under_card(
                ticket.category if ticket else None, outbound.ticket_id,
                self.texts.get(key, number=outbound.ticket_id, what=what),
            ))

