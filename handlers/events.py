"""What the desk tells whoever counts its work (the metrics in bot/): platform-neutral.

The desk calls these as things happen, inside the transaction that records them; a handling
rolled back and tried again may count twice, which counters for a dashboard can bear. The
default counts nothing, so the desk, its tests and the scheduler need no counter at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.base import Ticket


class DeskEvents(Protocol):
    """The desk's events worth counting."""

    def opened(self, platform: str, channel: str, department: str | None) -> None:
        """A ticket was opened (department: its key; None: the staff chat's own)."""

    def first_answer(self, platform: str, working: timedelta) -> None:
        """A ticket got its first answer, `working` of working time after it was opened."""

    def escalated(self, level: int) -> None:
        """A ticket (or an incident) escalated to `level`: a message went to people."""


class NoEvents:
    """Counts nothing."""

    def opened(self, platform: str, channel: str, department: str | None) -> None:
        return None

    def first_answer(self, platform: str, working: timedelta) -> None:
        return None

    def escalated(self, level: int) -> None:
        return None


class Measures(Protocol):
    """The part of the working-time calendar (handlers.config.WorkingClock) counting needs."""

    def working_time_between(self, start: datetime, end: datetime) -> timedelta: ...


def answered(events: DeskEvents, calendar: Measures, ticket: Ticket, now: datetime) -> None:
    """Staff answered `ticket` (as it was before the answer): its first answer is counted,
    in working time from its opening, as the digest and the escalations measure."""
    if ticket.first_answer_at is None:
        working = calendar.working_time_between(ticket.opened_at, now)
        events.first_answer(ticket.platform.value, working)
