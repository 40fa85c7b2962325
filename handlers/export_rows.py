"""The export's rows, platform-neutral: one a ticket, the figures a supervisor reports upward.

A row's times are local (the desk's TIMEZONE), ISO 8601 with their offset. The working time
to the first answer is measured on the desk's own calendar, as escalations are. A ticket is
late when more than ESCALATION_AFTER of working time passed from its opening to its first
answer (or, unanswered, to its closing, or to now while it still waits): the measure of the
weekly report's «later than the target», so the two agree on the same tickets. An interim
answer is no answer here, as in the report: interim answers are their own column, so a late
answer after an interim one can be told apart.

The staff actions column is the ticket's audit trail, one entry after another: local time,
the action in the audit trail's own words (`answered`, `closed`, `moved`, …) and who did it.

Personal data (the citizen's name, username, platform id and texts) are separate columns,
left out whole, not blanked, when the export is asked for without it; so are the staff's
names in the staff actions, whose times and actions stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from handlers.audit import short_name
from handlers.config import DeskConfig, WorkingClock
from handlers.texts import Texts
from storage.auditing import Actor, AuditEntry
from storage.base import ExportedTicket

Cell = str | int | None
TEXTS_JOINER = "\n\n"  # between a citizen's messages in the one cell
ACTIONS_JOINER = "; "  # between the entries of the audit trail in the one cell


class ExportRows:
    """How the rows of one export are made: the desk's calendar, zone, texts, the moment."""

    def __init__(
        self, calendar: WorkingClock, config: DeskConfig, texts: Texts, now: datetime,
        personal: bool = True,
    ) -> None:
        self.calendar, self.config, self.texts = calendar, config, texts
        self.now, self.personal = now, personal
        self._yes, self._no = texts.get("export-yes"), texts.get("export-no")
        self._waited_for: ExportedTicket | None = None
        self._waited_span = timedelta(0)

    def header(self) -> list[str]:
        return [self.texts.get(key) for key, _ in self._columns()]

    def row(self, item: ExportedTicket) -> list[Cell]:
        return [cell(self, item) for _, cell in self._columns()]

    def _columns(self) -> Sequence[tuple[str, Column]]:
        return FIGURES + PERSONAL if self.personal else FIGURES

    def local(self, moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(self.config.timezone).isoformat(timespec="seconds")

    def late(self, item: ExportedTicket) -> str:
        return self._yes if self._waited(item) > self.config.escalation_after else self._no

    def answer_seconds(self, item: ExportedTicket) -> int | None:
        if item.ticket.first_answer_at is None:
            return None
        return int(self._waited(item).total_seconds())

    def _waited(self, item: ExportedTicket) -> timedelta:
        """Working time from the opening to the first answer (unanswered: to the closing, or
        to now), measured once a row for both columns that need it."""
        if self._waited_for is not item:
            t = item.ticket
            ended = t.first_answer_at or t.closed_at or self.now
            self._waited_for = item
            self._waited_span = self.calendar.working_time_between(t.opened_at, ended)
        return self._waited_span

    def department(self, item: ExportedTicket) -> str | None:
        category = item.ticket.category
        if not category:
            return None
        return self.config.department_name(category) or category

    def staff_actions(self, item: ExportedTicket) -> str | None:
        """`2026-11-03 10:15 answered Иванова А.; …`: without the names when not personal."""
        if not item.actions:
            return None
        return ACTIONS_JOINER.join(self._action(entry) for entry in item.actions)

    def _action(self, entry: AuditEntry) -> str:
        local = entry.at.astimezone(self.config.timezone)
        words = f"{local:%Y-%m-%d %H:%M} {entry.action.value}"
        if self.personal and entry.actor is Actor.STAFF:
            words += f" {short_name(entry.staff_name)}"
        return words


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
    ("export-staff-actions", ExportRows.staff_actions),
)

PERSONAL: tuple[tuple[str, Column], ...] = (
    ("export-citizen-name", lambda rows, e: e.ticket.citizen_name),
    ("export-citizen-username", lambda rows, e: e.ticket.citizen_link),
    ("export-citizen-id", lambda rows, e: e.ticket.citizen_id),
    ("export-texts", lambda rows, e: TEXTS_JOINER.join(e.texts)),
)
