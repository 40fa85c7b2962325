"""Canned answers: the operator's templates, listed for staff and sent as a staff answer.

The templates are Fluent messages whose keys start with `template-`, in `templates.ftl` of
the texts folder; their order there is the order of the list. `/templates` as a reply to a
card lists them; `/template 2` sends the second as staff's answer to that ticket, with the
ticket's number, the citizen's name, today's date and the deadline filled in.
"""

from __future__ import annotations

import re

from handlers import buttons
from handlers.buttons import Buttons
from handlers.premises import Room
from storage.base import Ticket

PREFIX = "template-"
_CHOICE = re.compile(r"[0-9]{1,3}")  # ASCII digits only


class CannedAnswers(Room):
    """What `/templates` lists and what `/template N` sends."""

    def listing(self, ticket: Ticket) -> tuple[str, Buttons]:
        """The numbered titles for staff, and a button for each number."""
        templates = self.texts.titled(PREFIX)
        if not templates:
            return self.texts.get("staff-templates-none"), ()
        lines = [self.texts.get("staff-templates-list", number=ticket.id)]
        lines += [f"{place}. {title}" for place, (_, title) in enumerate(templates, 1)]
        return "\n".join(lines), buttons.templates(len(templates))

    def answer(self, ticket: Ticket, rest: str) -> str | None:
        """The chosen template's text for this ticket; None when no such number."""
        templates = self.texts.titled(PREFIX)
        words = rest.strip().split()
        place = int(words[1]) if len(words) == 2 and _CHOICE.fullmatch(words[1]) else 0
        if not 1 <= place <= len(templates):
            return None
        tz = self.config.timezone
        today = self.now().astimezone(tz)
        deadline = (
            self.texts.moment(ticket.deadline_at.astimezone(tz)) if ticket.deadline_at
            else self.texts.get("canned-no-deadline")
        )
        return self.texts.get(
            templates[place - 1][0], number=ticket.id, name=ticket.citizen_name,
            date=self.texts.get("esc-date", day=today.day, month=today.month),
            deadline=deadline,
        )

    def usage(self) -> str:
        return self.texts.get("staff-template-usage", count=len(self.texts.titled(PREFIX)))
