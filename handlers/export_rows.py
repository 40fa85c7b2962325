"""The export's rows, platform-neutral: one a ticket, the figures a supervisor reports upward.

A row's times are local (the desk's TIMEZONE), ISO 8601 with their offset. The working time
to the first answer is measured on the desk's own calendar, as escalations are; a ticket is
late when its first answer came (or, unanswered, it was closed, or it still waits now) after
its deadline: ESCALATION_AFTER of working time from opening, as the desk set it when the
ticket opened. Interim answers are their own column, so a late answer after an interim one
can be told apart.

Personal data (the citizen's name, username, platform id and texts) are separate columns,
left out whole, not blanked, when the export is asked for without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from handlers.config import DeskConfig, WorkingClock
from handlers.texts import Texts
from storage.base import ExportedTicket

Cell = str | int | None
TEXTS_JOINER = "\n\n"  # between a citizen's messages in the one cell


class ExportRows:
    """How the rows of one export are made: the desk's calendar, zone, texts, the moment."""

    def __init__(
        self, calendar: WorkingClock, config: DeskConfig, texts: Texts, now: datetime,
        personal: bool = True,
    ) -> None:
        self.calendar, self.config, self.texts = calendar, config, texts
        self.now, self.personal = now, personal
        self._yes, self._no = texts.get("export-yes"), texts.get("export-no")

    def header(self) -> list[str]:
        return [self.texts.get(key) for key, _ in self._columns()]

    def row(self, item: ExportedTicket) -> list[Cell]:
        return [cell(self, item) for _, cell in self._columns()]

    def _columns(self) -> Sequence[tuple[str, Column]]:
        # Staff actions (the audit trail: who answered, closed, moved what and when) join
        # here as one more column of FIGURES, read with the page like the rating.
        return FIGURES + PERSONAL if self.personal else FIGURES

    def local(self, moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(self.config.timezone).isoformat(timespec="seconds")

    def deadline(self, item: ExportedTicket) -> datetime:
        """When the first answer was due: as the desk set it at the ticket's opening."""
        return self.calendar.add_working_time(item.ticket.opened_at,
                                              self.config.escalation_after)

    def late(self, item: ExportedTicket) -> str:
        t = item.ticket
        ended = t.first_answer_at or t.closed_at or self.now
        return self._yes if ended > self.deadline(item) else self._no

    def answer_seconds(self, item: ExportedTicket) -> int | None:
        t = item.ticket
        if t.first_answer_at is None:
            return None
        spent = self.calendar.working_time_between(t.opened_at, t.first_answer_at)
        return int(spent.total_seconds())

    def department(self, item: ExportedTicket) -> str | None:
        category = item.ticket.category
        if not category:
            return None
        return self.config.department_name(category) or category


Column = Callable[[ExportRows, ExportedTicket], Cell]

FIGURES: tuple[tuple[str, Column], ...] = (
    ("export-number", lambda rows, e: e.ticket.id),
    ("export-platform", lambda rows, e: e.ticket.platform.value),
    ("export-channel", lambda rows, e: e.ticket.channel.value),
    ("export-department", ExportRows.department),
    ("export-opened", lambda rows, e: rows.local(e.ticket.opened_at)),
    ("export-first-answer", lambda rows, e: rows.local(e.ticket.first_answer_at)),
    ("export-closed", lambda rows, e: rows.local(e.ticket.closed_at)),
    ("export-answer-seconds", ExportRows.answer_seconds),
    ("export-late", ExportRows.late),
    ("export-interim", lambda rows, e: e.ticket.interim_count),
    ("export-rating", lambda rows, e: e.rating),
)

PERSONAL: tuple[tuple[str, Column], ...] = (
    ("export-citizen-name", lambda rows, e: e.ticket.citizen_name),
    ("export-citizen-username", lambda rows, e: e.ticket.citizen_link),
    ("export-citizen-id", lambda rows, e: e.ticket.citizen_id),
    ("export-texts", lambda rows, e: TEXTS_JOINER.join(e.texts)),
)
